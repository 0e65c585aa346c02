#!/usr/bin/env bash
# Local history benchmarks for `make bench` (issue 13), side by side with
# restic (Debian restic) on the same data: a project of FILES small files
# plus a WAV of WAV_MB MiB (issue scale: 100,000 files and 200 MB).
#
#   (a) a version after one file changes: time and bytes written
#       (goal ≤ 50 ms, ≤ 64 KiB) vs `restic backup` of the same tree;
#   (b) listing one file's versions after SNAPS versions (goal ≤ 20 ms)
#       vs `restic find` over RESTIC_SNAPS snapshots;
#   (c) restoring one file from an old version vs
#       `restic restore SNAP --include PATH` (goal ≥ 5× faster);
#   (d) disk used by VERSIONS versions of the WAV, each changing one 1 MiB
#       region (goal ≤ 1.3× one copy) vs restic's repository growth.
#
# Env: FILES (100000), WAV_MB (200), SNAPS (1000), VERSIONS (50),
# RESTIC_SNAPS (20: restic backups of the whole tree are slow),
# BENCH_DIR (default: a temp dir, removed at the end).
# A small run to prove it works: FILES=2000 WAV_MB=20 SNAPS=100 VERSIONS=10 RESTIC_SNAPS=5 bash bench/history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-100000} WAV_MB=${WAV_MB:-200} SNAPS=${SNAPS:-1000} VERSIONS=${VERSIONS:-50} RESTIC_SNAPS=${RESTIC_SNAPS:-20}
TMP=${BENCH_DIR:-$(mktemp -d /tmp/atelier-histbench.XXXXXX)}
KEEP=${BENCH_DIR:+1}
mkdir -p "$TMP"
cleanup() { [ -z "${KEEP:-}" ] && rm -rf "$TMP" || true; }
trap cleanup EXIT
command -v restic >/dev/null || { echo "bench/history.sh: restic is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
now() { date +%s%N; }
msince() { echo $((($(now) - $1) / 1000000)); }

echo "== building the driver; generating $FILES files and a $WAV_MB MiB WAV (twice: one tree each)"
go build -o "$TMP/histbench" ./bench/history
rm -rf "$TMP/at" "$TMP/rs" "$TMP/at-data" "$TMP/repo"
"$TMP/histbench" gen "$TMP/at" "$FILES" "$WAV_MB"
"$TMP/histbench" gen "$TMP/rs" "$FILES" "$WAV_MB"

echo "== atelier"
mkdir -p "$TMP/at-data"
"$TMP/histbench" run -root "$TMP/at" -data "$TMP/at-data" -snaps "$SNAPS" -versions "$VERSIONS" | tee "$TMP/atelier.json"

echo "== restic $(restic version | awk '{print $2}')"
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="$TMP/repo"
restic init --quiet >/dev/null
cd "$TMP/rs"
restic backup --quiet . >/dev/null
# (a) one change, one backup.
NOTE=session07/part0/note000007.txt
echo "restic edit" >"$NOTE"
b0=$(du -sb "$TMP/repo" | cut -f1); t=$(now)
restic backup --quiet . >/dev/null
RS_A_MS=$(msince "$t"); RS_A_BYTES=$(($(du -sb "$TMP/repo" | cut -f1) - b0))
# (b) versions of one file across RESTIC_SNAPS snapshots.
for i in $(seq "$RESTIC_SNAPS"); do echo "v$i" >session03/part0/note000003.txt; restic backup --quiet . >/dev/null; done
t=$(now); restic find --quiet /session03/part0/note000003.txt >/dev/null 2>&1 || restic find session03/part0/note000003.txt >/dev/null; RS_B_MS=$(msince "$t")
# (c) one file from the first snapshot.
FIRST=$(restic snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["short_id"])')
rm -rf "$TMP/rs-out"; t=$(now)
restic restore --quiet "$FIRST" --target "$TMP/rs-out" --include "/session02/part2/note000042.txt" >/dev/null 2>&1 || restic restore --quiet "$FIRST" --target "$TMP/rs-out" --include "session02/part2/note000042.txt" >/dev/null
RS_C_MS=$(msince "$t")
# (d) the WAV, VERSIONS times.
b0=$(du -sb "$TMP/repo" | cut -f1)
WAVB=$(stat -c %s take.wav)
for i in $(seq "$VERSIONS"); do
	off=$(python3 -c "import random; random.seed($i); print(random.randrange($WAVB - (1<<20)))")
	"$TMP/histbench" edit take.wav "$off" $((1 << 20)) $((1000 + i))
	restic backup --quiet take.wav >/dev/null
done
RS_D=$(python3 -c "print(($WAVB + $(du -sb "$TMP/repo" | cut -f1) - $b0) / $WAVB)")
cd - >/dev/null

python3 - "$TMP/atelier.json" "$RS_A_MS" "$RS_A_BYTES" "$RS_B_MS" "$RESTIC_SNAPS" "$RS_C_MS" "$RS_D" "$FILES" "$WAV_MB" <<'PY'
import json, sys
at = {}
for l in open(sys.argv[1]):
    d = json.loads(l); at[d["phase"]] = d
ra_ms, ra_b, rb_ms, rsn, rc_ms, rd = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], float(sys.argv[6]), float(sys.argv[7])
def ok(b): return "ok" if b else "MISSED"
a, b, c, d = at["one-change"], at["list-versions"], at["restore-one"], at["wav-versions"]
print()
print(f"project: {sys.argv[8]} files + {sys.argv[9]} MiB WAV; first version took {at['first-version']['seconds']:.1f} s")
print(f"{'benchmark':52} {'atelier':>12} {'restic':>12}  goal")
print(f"{'(a) version after one change (ms)':52} {a['ms']:12.1f} {ra_ms:12.0f}  ≤50 ms: {ok(a['ms'] <= 50)}")
print(f"{'(a) bytes written':52} {a['bytesWritten']:12d} {ra_b:12d}  ≤64 KiB: {ok(a['bytesWritten'] <= 64<<10)}")
print(f"{'(b) list one file versions (ms) [atelier '+str(b['points'])+' pts, restic '+rsn+' snaps]':52} {b['ms']:12.2f} {rb_ms:12.0f}  ≤20 ms: {ok(b['ms'] <= 20)}")
print(f"{'(c) restore one file from an old version (ms)':52} {c['ms']:12.1f} {rc_ms:12.0f}  ≥5× restic: {ok(rc_ms >= 5*c['ms'])} ({rc_ms/max(c['ms'],0.001):.1f}×)")
edits = max(d['versions'] - 1, 1)
print(f"{'(d) '+str(edits)+' WAV versions, disk / one copy':52} {d['ratio']:12.3f} {rd:12.3f}  ≤1.3× (at 50 × 1 MiB on 200 MB): {ok(d['ratio'] <= 1.3)}")
per = d['addedBytes'] / edits / (1 << 20)
rper = (rd - 1) * d['wavBytes'] / edits / (1 << 20)
print(f"{'(d) MiB stored per 1 MiB edit':52} {per:12.3f} {rper:12.3f}  at issue scale: {1 + 50*per/200*1.048576:.3f}× vs restic {1 + 50*rper/200*1.048576:.3f}×")
PY
