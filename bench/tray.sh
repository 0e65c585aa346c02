#!/usr/bin/env bash
# Tray benchmarks (issue 16): idle CPU and RSS of the desktop app hidden in
# the tray while it watches 100,000 files (goal <= 0.5% of a core, <= 120 MB),
# and the time from launching atelier-desktop to a visible window when
# `atelier daemon` already runs (goal <= 1 s). Runs under Xvfb with a session
# bus and a stand-in tray host (bench/traywatch). IDLE_SECONDS (default 300)
# sets the idle window. The desktop binary comes from `make desktop`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TRAY_BENCH_INNER:-}" ]; then
  [ -x build/bin/atelier-desktop ] || make desktop
  TRAY_BENCH_INNER=1 exec scripts/with-xvfb.sh bash "$0" "$@"
fi
TMP=${BENCH_TMP:-$(mktemp -d /tmp/atelier-tray-bench-XXXX)}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
go build -o "$TMP/atelier" ./cmd/atelier
go build -o "$TMP/foundation" ./bench/foundation
go build -o "$TMP/traywatch" ./bench/traywatch
A="$TMP/atelier"
DESK=build/bin/atelier-desktop
IDLE=${IDLE_SECONDS:-300}

"$TMP/traywatch" > "$TMP/traywatch.log" & pids+=($!)
echo "generating 100,000 files in $TMP ..."
"$TMP/foundation" gen-small "$TMP/small"
"$A" --data-dir "$TMP/d" project add "$TMP/small" > /dev/null

# The CPU ticks and RSS of a process and its descendants (WebKit's web and
# network processes are the window's too).
tree() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" || true); do tree "$c"; done; }
ticks() { local s=0; for p in $(tree "$1"); do s=$((s + $(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $s; }
rss_kb() { local s=0; for p in $(tree "$1"); do s=$((s + $(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0))); done; echo $s; }
visible() { xdotool search --onlyvisible --name "— Atelier" >/dev/null 2>&1; }

# 1. Hidden in the tray, watching.
"$DESK" --data-dir "$TMP/d" --hidden > "$TMP/desktop.log" 2>&1 & desk=$!; pids+=($desk)
for _ in $(seq 300); do [ -S "$TMP/d/atelier.sock" ] && break; sleep 0.2; done
while "$A" --data-dir "$TMP/d" status --json 2>/dev/null | grep -q '"indexing": true'; do sleep 0.5; done
sleep 5
visible && { echo "bench: the app started with its window shown" >&2; exit 1; }
tick=$(getconf CLK_TCK)
c0=$(ticks $desk)
sleep "$IDLE"
c1=$(ticks $desk)
rss=$(rss_kb $desk)
own=$(awk '/VmRSS/ {print $2}' /proc/$desk/status)
kill -TERM $desk; wait $desk || true

# 2. Launch to a visible window while the daemon owns the data dir.
"$A" --data-dir "$TMP/d" daemon --log-level warn > "$TMP/daemon.log" 2>&1 & daemon=$!; pids+=($daemon)
for _ in $(seq 300); do [ -S "$TMP/d/atelier.sock" ] && break; sleep 0.2; done
while "$A" --data-dir "$TMP/d" status --json 2>/dev/null | grep -q '"indexing": true'; do sleep 0.5; done
launches=()
for _ in 1 2 3; do
  s=$(date +%s%N)
  "$DESK" --data-dir "$TMP/d" > "$TMP/attach.log" 2>&1 & d=$!
  for _ in $(seq 1000); do visible && break; sleep 0.01; done
  e=$(date +%s%N)
  visible || { echo "bench: no window within 10 s" >&2; cat "$TMP/attach.log" >&2; exit 1; }
  launches+=($(((e - s) / 1000000)))
  kill -TERM $d; wait $d || true
  for _ in $(seq 100); do visible || break; sleep 0.05; done
done
best=$(printf '%s\n' "${launches[@]}" | sort -n | head -1)

printf '\n%-62s %s\n' "tray (issue 16)" "measured"
printf '%-62s %.2f%% of a core (%.2f s CPU)\n' "idle CPU, hidden, 100,000 files, ${IDLE} s (goal <= 0.5%)" \
  "$(echo "($c1 - $c0) / $tick / $IDLE * 100" | bc -l)" "$(echo "($c1 - $c0) / $tick" | bc -l)"
printf '%-62s %d MiB (app %d MiB + WebKit)\n' "RSS, hidden (goal <= 120 MB)" "$((rss / 1024))" "$((own / 1024))"
printf '%-62s %d ms (runs: %s)\n' "launch to visible window, daemon running (goal <= 1 s)" "$best" "${launches[*]}"
