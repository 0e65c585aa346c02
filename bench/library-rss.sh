#!/usr/bin/env bash
# The daemon's memory with LIBRARY_RSS_FILES indexed files (default 100,000;
# goal ≤ 150 MB RSS, issue 16 wants ≤ 120 MB for the hidden app): builds a
# project of small files, starts `atelier daemon` on a fresh data dir, adds
# the project, waits until every file is indexed and the daemon is idle (its
# CPU time still for 10 s, or LIBRARY_RSS_WAIT seconds), then prints its RSS
# (anonymous and file-backed), its peak, the Go heap after each of the last
# collections (GODEBUG=gctrace) and a Library query's latency. The RSS is
# read again at least LIBRARY_RSS_AFTER seconds (default 300) after indexing ended
# and after the idle CPU was measured (see below): the steady state of issue
# 16 (local history's first version is taken in between).
#
#   bench/library-rss.sh                     # this tree
#   ATELIER_BIN=/path/atelier bench/library-rss.sh   # another build (a peer)
#   GOMEMLIMIT=off bench/library-rss.sh      # without the daemon's soft limit
#   LIBRARY_RSS_CPUPROFILE=F LIBRARY_RSS_MEMPROFILE=G bench/library-rss.sh
#                                            # the daemon's profiles (written when it stops)
set -euo pipefail
cd "$(dirname "$0")/.."

files=${LIBRARY_RSS_FILES:-100000}
wait_max=${LIBRARY_RSS_WAIT:-600}
after=${LIBRARY_RSS_AFTER:-300}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/atelier-bench-rss.XXXXXX")
daemon=
cleanup() {
  [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

bin=${ATELIER_BIN:-}
if [ -z "$bin" ]; then
  bin="$TMP/atelier"
  go build -o "$bin" ./cmd/atelier
fi

echo "Writing ${files} files…" >&2
python3 - "$TMP/proj" "$files" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range((n + 999) // 1000):
    p = os.path.join(root, f"pack {d:03d}")
    os.makedirs(p, exist_ok=True)
    for i in range(d * 1000, min(n, (d + 1) * 1000)):
        with open(os.path.join(p, f"take-{i:06d}.{'md' if i % 10 == 0 else 'txt'}"), "w") as f:
            f.write(f"take {i}\n")
EOF

data="$TMP/data"
GODEBUG=gctrace=1 ATELIER_CPUPROFILE=${LIBRARY_RSS_CPUPROFILE:-} ATELIER_MEMPROFILE=${LIBRARY_RSS_MEMPROFILE:-} "$bin" --data-dir "$data" daemon --log-level warn >"$TMP/daemon.log" 2>&1 &
daemon=$!
sleep 3 # the CLI then talks to this daemon (a CLI run first would open the data dir itself)
t0=$(date +%s)
"$bin" --data-dir "$data" project add "$TMP/proj" >/dev/null
total() { "$bin" --data-dir "$data" find --limit 1 --json '' 2>/dev/null | python3 -c 'import sys, json; print(json.load(sys.stdin).get("total", 0))' 2>/dev/null || echo 0; }
until [ "$(total)" = "$files" ]; do
  kill -0 "$daemon" 2>/dev/null || { cat "$TMP/daemon.log" >&2; echo "bench: the daemon exited" >&2; exit 1; }
  sleep 2
done
echo "Indexed ${files} files in $(($(date +%s) - t0)) s; waiting for the daemon to idle…" >&2
tindexed=$(date +%s)
cpu() { awk '{ print $14 + $15 }' "/proc/$daemon/stat"; }
t1=$(date +%s)
last=$(cpu)
while [ $(($(date +%s) - t1)) -lt "$wait_max" ]; do
  sleep 10
  now=$(cpu)
  [ $((now - last)) -le 5 ] && break # ≤ 50 ms of CPU in 10 s
  last=$now
done
idle=$(($(date +%s) - t1))
kb() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$daemon/status"; }
q0=$(date +%s%N)
"$bin" --data-dir "$data" find --json --limit 50 'take-0999 ext:txt' >/dev/null
q1=$(date +%s%N)
ms=$(grep -o '"ms": *[0-9.]*' <("$bin" --data-dir "$data" find --json --limit 50 'take-0999 ext:txt') | head -1 | grep -o '[0-9.]*$' || echo -)
echo "RSS with ${files} files (idle after ${idle} s): $(kb VmRSS) MB (anonymous $(kb RssAnon) MB, file-backed $(kb RssFile) MB), peak $(kb VmHWM) MB; goal ≤ 150 MB"
echo "Go heap after the last collections (MB before->after->live, goal): $(grep '^gc ' "$TMP/daemon.log" | tail -3 | grep -o '[0-9]*->[0-9]*->[0-9]* MB, [0-9]* MB goal' | tr '\n' ' ')"
echo "A query over ${files} files: engine ${ms} ms, CLI round trip $(((q1 - q0) / 1000000)) ms"
# Idle CPU: the daemon's user+sys time over the last LIBRARY_RSS_CPU seconds
# (default 120) of the wait (goal ≤ 0.5 % of a core, issue 16), which starts
# no sooner than LIBRARY_RSS_QUIET seconds (default 180) after the queries
# above: the engine's database closes once unused for 2 minutes.
cpuwin=${LIBRARY_RSS_CPU:-120}
quiet=${LIBRARY_RSS_QUIET:-180}
tq=$(date +%s)
start=$((tindexed + after - cpuwin))
[ $((tq + quiet)) -gt "$start" ] && start=$((tq + quiet))
left=$((start - $(date +%s)))
if [ "$left" -gt 0 ]; then
  echo "Waiting ${left} s, then measuring idle CPU for ${cpuwin} s…" >&2
  sleep "$left"
fi
c0=$(cpu)
sleep "$cpuwin"
c1=$(cpu)
echo "Idle CPU over ${cpuwin} s: $(awk -v d=$((c1 - c0)) -v w="$cpuwin" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f %% of a core (%d ticks)", 100 * d / hz / w, d }'); goal ≤ 0.5 % (load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "RSS $(($(date +%s) - tindexed)) s after indexing: $(kb VmRSS) MB (anonymous $(kb RssAnon) MB, file-backed $(kb RssFile) MB), peak $(kb VmHWM) MB"
echo "Go heap after the last collections (MB before->after->live, goal): $(grep '^gc ' "$TMP/daemon.log" | tail -3 | grep -o '[0-9]*->[0-9]*->[0-9]* MB, [0-9]* MB goal' | tr '\n' ' ')"
