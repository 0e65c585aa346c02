#!/usr/bin/env bash
# Module signing benchmarks (`make bench`):
#   - sign and verify a 1 GiB module, against `sha256sum` of the same archive
#     (the floor: both must read every byte) and against cosign sign-blob /
#     verify-blob when $COSIGN_BIN is set;
#   - offline verifications of small modules per second;
#   - the loudness report over BENCH_FILES audio files (default 1,000) run
#     sandboxed against the same work done natively (goal: within 2×), and
#     the warm start of an action (goal: ≤ 20 ms).
# MODULES_BENCH_MB sets the big module's size (default 1024).
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb=${MODULES_BENCH_MB:-1024}
work=$(mktemp -d "${TMPDIR:-/tmp}/atelier-bench-modules.XXXXXX")
trap 'rm -rf "$work"' EXIT

export ATELIER_HOME="$work/home" ATELIER_PASSPHRASE="bench passphrase 1"
A="$work/atelier"
go build -o "$A" ./cmd/atelier

BENCH_ERR="$work/err"
. bench/lib/timing.sh # cwd is the repo root (see the cd above)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }

echo "Preparing a ${size_mb} MiB module (incompressible, like audio)…" >&2
mkdir -p "$work/mod"
cat >"$work/mod/atelier-module.json" <<JSON
{"name": "@bench/big", "version": "1.0.0", "description": "benchmark", "license": "MIT", "author": "bench", "permissions": []}
JSON
head -c "${size_mb}M" /dev/urandom >"$work/mod/samples.bin"
pack_ms=$(ms "$A" module pack "$work/mod" -o "$work/big.tgz")
arc="$work/big.tgz"
"$A" keys generate bench >/dev/null
"$A" keys export bench >"$work/bench.pub"
"$A" trust add "$work/bench.pub" --scope '@bench/*' >/dev/null
cat "$arc" >/dev/null # warm the page cache for every contender alike

sha_ms=$(best sha256sum "$arc")
ossl_ms="-"
if command -v openssl >/dev/null; then ossl_ms=$(best openssl dgst -sha256 "$arc"); fi
sign_ms=$(best "$A" module sign "$arc" --key bench)
verify_ms=$(best "$A" module verify "$arc")
lib_ns=$(ATELIER_BENCH_ARCHIVE="$arc" ATELIER_BENCH_PUB="$work/bench.pub" \
  go test -run '^$' -bench '^BenchmarkVerifyArchive$' -benchtime 3x ./signing/ | awk '/^BenchmarkVerifyArchive/ { print $3 }')
lib_ms=$((${lib_ns%.*} / 1000000))

cos_sign="-" cos_verify="-"
if [ -n "${COSIGN_BIN:-}" ]; then
  if [ ! -x "$COSIGN_BIN" ]; then
    echo "bench: COSIGN_BIN=$COSIGN_BIN is not executable" >&2
    exit 1
  fi
  mkdir -p "$work/cosign/home"
  export COSIGN_PASSWORD="bench passphrase 1"
  (cd "$work/cosign" && HOME="$work/cosign/home" "$COSIGN_BIN" generate-key-pair >/dev/null 2>&1)
  cos() { HOME="$work/cosign/home" TUF_ROOT="$work/cosign/home/tuf" "$COSIGN_BIN" "$@"; }
  cos_sign=$(best cos sign-blob --key "$work/cosign/cosign.key" --tlog-upload=false --yes --output-signature "$work/cosign/big.sig" "$arc")
  cos_verify=$(best cos verify-blob --key "$work/cosign/cosign.pub" --signature "$work/cosign/big.sig" --insecure-ignore-tlog=true "$arc")
fi

small=$(go test -run '^$' -bench '^BenchmarkVerifySmallModule(Parallel)?$' -benchtime 1000x ./signing/)
small_ns=$(echo "$small" | awk '/^BenchmarkVerifySmallModule-/ { print $3 }')
par_ns=$(echo "$small" | awk '/^BenchmarkVerifySmallModuleParallel/ { print $3 }')
small_per_s=$(awk -v ns="$small_ns" 'BEGIN { printf "%.0f", 1e9 / ns }')
par_per_s=$(awk -v ns="$par_ns" 'BEGIN { printf "%.0f", 1e9 / ns }')

archive_mb=$(($(stat -c %s "$arc") / 1048576))
printf '\nModule signing, %s MiB archive (%s)\n' "$archive_mb" "$(uname -m)"
printf '%-44s %10s %12s\n' "operation" "ms" "vs sha256sum"
printf '%-44s %10s %12s\n' "sha256sum (floor)" "$sha_ms" "1.00×"
if [ "$ossl_ms" != "-" ]; then
  printf '%-44s %10s %12s\n' "openssl dgst -sha256 (SHA-NI floor)" "$ossl_ms" "$(ratio "$ossl_ms" "$sha_ms")"
fi
printf '%-44s %10s %12s\n' "atelier module sign (CLI, incl. key unlock)" "$sign_ms" "$(ratio "$sign_ms" "$sha_ms")"
printf '%-44s %10s %12s\n' "atelier module verify (CLI, incl. engine)" "$verify_ms" "$(ratio "$verify_ms" "$sha_ms")"
printf '%-44s %10s %12s\n' "signing.Verify (library)" "$lib_ms" "$(ratio "$lib_ms" "$sha_ms")"
if [ "$cos_sign" != "-" ]; then
  printf '%-44s %10s %12s\n' "cosign sign-blob" "$cos_sign" "$(ratio "$cos_sign" "$sha_ms")"
  printf '%-44s %10s %12s\n' "cosign verify-blob" "$cos_verify" "$(ratio "$cos_verify" "$sha_ms")"
else
  printf '%-44s %10s\n' "cosign (set COSIGN_BIN to compare)" "-"
fi
printf '%-44s %10s\n' "atelier module pack (not compared)" "$pack_ms"
printf '\nSmall modules (1,000 verifications): %s/s on one core (%s ns each), %s/s on all %s cores\n' \
  "$small_per_s" "${small_ns%.*}" "$par_per_s" "$(nproc)"

loud=$(go test -run '^$' -bench '^BenchmarkLoudnessReport(Sandboxed|Native)$' -benchtime 3x ./modules/)
sbx_ms=$(echo "$loud" | awk '/^BenchmarkLoudnessReportSandboxed/ { printf "%.0f", $3 / 1e6 }')
nat_ms=$(echo "$loud" | awk '/^BenchmarkLoudnessReportNative/ { printf "%.0f", $3 / 1e6 }')
sbx_cpu=$(echo "$loud" | awk '/^BenchmarkLoudnessReportSandboxed/ { print $5 }')
nat_cpu=$(echo "$loud" | awk '/^BenchmarkLoudnessReportNative/ { print $5 }')
warm=$(go test -run '^$' -bench '^BenchmarkStartWarm$' -benchtime 20x ./app/modules/sandbox/ | awk '/^BenchmarkStartWarm/ { printf "%.1f", $3 / 1e6 }')
printf '\nLoudness report over %s files (CSV + HTML)\n' "${BENCH_FILES:-1000}"
printf '%-44s %10s %10s %10s\n' "run" "ms" "cpu-ms" "vs native"
printf '%-44s %10s %10s %10s\n' "native (the same code in Atelier)" "$nat_ms" "$nat_cpu" "1.00×"
printf '%-44s %10s %10s %10s\n' "sandboxed module (warm)" "$sbx_ms" "$sbx_cpu" "$(ratio "$sbx_ms" "$nat_ms")"
printf 'Warm start of an action: %s ms (goal ≤ 20 ms)\n' "$warm"
