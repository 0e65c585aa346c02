#!/usr/bin/env bash
# Foundation benchmarks: initial index vs sha256sum, no-change restart,
# change latency, idle cost of the daemon. Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=${BENCH_TMP:-$(mktemp -d /tmp/atelier-bench-XXXX)}
trap 'rm -rf "$TMP"' EXIT
go build -o "$TMP/atelier" ./cmd/atelier
go build -o "$TMP/foundation" ./bench/foundation
A="$TMP/atelier"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }

echo "generating trees in $TMP ..."
"$TMP/foundation" gen-large "$TMP/large"
"$TMP/foundation" gen-small "$TMP/small"
sync

# Warm the page cache for both sides alike, then time each.
find "$TMP/large" -type f -print0 | xargs -0 cat > /dev/null
t0=$(now); find "$TMP/large" -type f -print0 | xargs -0 sha256sum > /dev/null; t1=$(now)
sha_large=$(secs "$t0" "$t1")
t0=$(now); "$A" --data-dir "$TMP/d-large" project add "$TMP/large" > /dev/null; t1=$(now)
at_large=$(secs "$t0" "$t1")

find "$TMP/small" -type f -print0 | xargs -0 cat > /dev/null
t0=$(now); find "$TMP/small" -type f -print0 | xargs -0 sha256sum > /dev/null; t1=$(now)
sha_small=$(secs "$t0" "$t1")
t0=$(now); "$A" --data-dir "$TMP/d-small" project add "$TMP/small" > /dev/null; t1=$(now)
at_small=$(secs "$t0" "$t1")

# No-change restart: open the data dir, reconcile 100,000 files, close.
t0=$(now); "$A" --data-dir "$TMP/d-small" project rescan small > /dev/null; t1=$(now)
restart=$(secs "$t0" "$t1")

printf '\n%-44s %10s %10s %8s\n' "initial index" "atelier" "sha256sum" "ratio"
printf '%-44s %9ss %9ss %7.2fx\n' "2,000 files, 1 GiB" "$at_large" "$sha_large" "$(echo "$at_large / $sha_large" | bc -l)"
printf '%-44s %9ss %9ss %7.2fx\n' "100,000 files of 1 KiB" "$at_small" "$sha_small" "$(echo "$at_small / $sha_small" | bc -l)"
printf '%-44s %9ss %10s\n\n' "no-change restart, 100,000 files (goal <1 s)" "$restart" "-"

"$TMP/foundation" latency 200

# Idle cost: the daemon watching the 100,000-file tree for 60 s.
"$A" --data-dir "$TMP/d-small" daemon --log-level warn & pid=$!
for _ in $(seq 100); do [ -S "$TMP/d-small/atelier.sock" ] && break; sleep 0.2; done
while "$A" --data-dir "$TMP/d-small" status --json 2>/dev/null | grep -q '"indexing": true'; do sleep 0.5; done
sleep 2
tick=$(getconf CLK_TCK)
c0=$(awk '{print $14+$15}' /proc/$pid/stat)
sleep ${IDLE_SECONDS:-60}
c1=$(awk '{print $14+$15}' /proc/$pid/stat)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
kill -TERM $pid; wait $pid || true
printf '\nidle daemon, 100,000 files, %ss: CPU %.2f s (%.2f%%), RSS %d MiB\n' "${IDLE_SECONDS:-60}" \
  "$(echo "($c1 - $c0) / $tick" | bc -l)" "$(echo "($c1 - $c0) / $tick / ${IDLE_SECONDS:-60} * 100" | bc -l)" "$((rss / 1024))"
