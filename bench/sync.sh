#!/usr/bin/env bash
# Sync benchmarks for `make bench`: Atelier's vault push against rclone and
# restic, all against one local versitygw (127.0.0.1 only), then a no-change
# sync of a 100,000-file project, the bytes sent after a 10-byte edit in a
# 128 MiB file, and the kill -9 recovery test at 50 points.
#
# Goals: first push ≥ 2× faster than rclone copy; no-change sync ≤ 50 ms;
# a 10-byte edit sends ≤ 2 MiB.
#
# Env: BENCH_DIR (default: a temp dir, removed at the end), KILL_POINTS (50).
set -euo pipefail
cd "$(dirname "$0")/.."
# The bench server speaks plain HTTP on 127.0.0.1; a CA bundle from the
# environment only makes rclone refuse its transport.
unset AWS_CA_BUNDLE

TMP=${BENCH_DIR:-$(mktemp -d /tmp/atelier-syncbench.XXXXXX)}
KEEP=${BENCH_DIR:+1}
mkdir -p "$TMP"
GW_PID=
cleanup() {
	[ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null || true
	[ -z "${KEEP:-}" ] && rm -rf "$TMP" || true
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench/sync.sh: $1 is not installed" >&2; exit 1; }; }
need rclone
need restic
need python3

echo "== building versitygw and the bench driver"
# `go install pkg@version` builds versitygw with its own go.mod, so its CLI's
# dependencies never enter Atelier's (BENCH_VERSITYGW reuses a binary).
if [ -n "${BENCH_VERSITYGW:-}" ]; then cp "$BENCH_VERSITYGW" "$TMP/versitygw"; else GOBIN="$TMP" go install github.com/versity/versitygw/cmd/versitygw@v1.8.0; fi
go build -o "$TMP/syncbench" ./sync/internal/syncbench

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret
rm -rf "$TMP/state-big" "$TMP/state-many" "$TMP/gw"
mkdir -p "$TMP/gw"
ROOT_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID ROOT_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
	"$TMP/versitygw" --port "127.0.0.1:$PORT" --quiet posix "$TMP/gw" >"$TMP/gw.log" 2>&1 &
GW_PID=$!
EP="http://127.0.0.1:$PORT"
for _ in $(seq 100); do
	if python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null; then break; fi
	sleep 0.1
done
s3url() { echo "s3://$1?endpoint=$EP&region=us-east-1&use_path_style=true"; }

echo "== generating a 1 GiB project (8 × 128 MiB + 2,000 × 64 KiB)"
[ -d "$TMP/big" ] || "$TMP/syncbench" gen "$TMP/big" big
du -sh "$TMP/big"

now() { python3 -c 'import time; print(time.time())'; }
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

echo "== atelier first push"
"$TMP/syncbench" push -remote "$(s3url atelier-big)" -root "$TMP/big" -state "$TMP/state-big" >"$TMP/atelier-push.json"
cat "$TMP/atelier-push.json"
AT_PUSH=$(python3 -c "import json,sys; print(json.loads(open('$TMP/atelier-push.json').readline())['seconds'])")

echo "== rclone copy (S3 provider Other)"
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$EP \
	RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
	RCLONE_CONFIG_BENCH_REGION=us-east-1 RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
t0=$(now); rclone copy "$TMP/big" bench:rclone-big; t1=$(now)
RC_PUSH=$(python3 -c "print($t1-$t0)")
t0=$(now); rclone sync "$TMP/big" bench:rclone-big; t1=$(now)
RC_NOCHANGE=$(python3 -c "print($t1-$t0)")

echo "== restic backup"
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY="s3:$EP/restic-big"
restic init >/dev/null
t0=$(now); restic backup --quiet "$TMP/big" >/dev/null; t1=$(now)
RS_PUSH=$(python3 -c "print($t1-$t0)")

echo "== 10-byte insert into one 128 MiB file"
"$TMP/syncbench" edit "$TMP/big/video/take3.mov"
"$TMP/syncbench" push -remote "$(s3url atelier-big)" -root "$TMP/big" -state "$TMP/state-big" >"$TMP/atelier-edit.json"
cat "$TMP/atelier-edit.json"
AT_EDIT=$(python3 -c "import json; print(json.loads(open('$TMP/atelier-edit.json').readline())['bytesSent'])")
t0=$(now); RC_EDIT_OUT=$(rclone copy -v "$TMP/big" bench:rclone-big 2>&1 | grep -c "Copied" || true); t1=$(now)
restic backup --json "$TMP/big" 2>/dev/null | python3 -c '
import json,sys
for l in sys.stdin:
    try: d=json.loads(l)
    except: continue
    if d.get("message_type")=="summary": print(d.get("data_added",0))
' >"$TMP/restic-edit.txt" || true
RS_EDIT=$(cat "$TMP/restic-edit.txt" 2>/dev/null || echo 0)

echo "== generating a 100,000-file project; first push, then no-change syncs"
[ -d "$TMP/many" ] || "$TMP/syncbench" gen "$TMP/many" many
"$TMP/syncbench" push -remote "$(s3url atelier-many)" -root "$TMP/many" -state "$TMP/state-many" -again 5 >"$TMP/atelier-many.json"
"$TMP/syncbench" push -remote "$(s3url atelier-many)" -root "$TMP/many" -state "$TMP/state-many" -again 5 >"$TMP/atelier-many2.json"
cat "$TMP/atelier-many.json" "$TMP/atelier-many2.json"
read -r AT_NOCHANGE_WARM AT_NOCHANGE_COLD < <(python3 - "$TMP/atelier-many.json" "$TMP/atelier-many2.json" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
warm = sorted(r["seconds"] for r in a + b if r["phase"] == "again")
cold = b[0]["seconds"]  # a fresh process: fetches the last snapshot once
print(warm[len(warm) // 2] * 1000, cold * 1000)
EOF
)

echo "== kill -9 at ${KILL_POINTS:-50} points during a push"
ATELIER_KILL_POINTS=${KILL_POINTS:-50} go test -count=1 -run TestKill9DuringPush -v ./sync/vault/ 2>&1 | grep -E "killed|PASS|FAIL|ok" | tail -4

python3 - "$AT_PUSH" "$RC_PUSH" "$RS_PUSH" "$RC_NOCHANGE" "$AT_NOCHANGE_WARM" "$AT_NOCHANGE_COLD" "$AT_EDIT" "$RS_EDIT" <<'EOF'
import sys
at, rc, rs, rcn, nw, nc, ed, rse = map(float, sys.argv[1:])
def ok(b): return "ok" if b else "MISSED"
print()
print(f"{'benchmark':44} {'atelier':>12} {'rclone':>12} {'restic':>12}  goal")
print(f"{'first push, 1 GiB (s)':44} {at:12.2f} {rc:12.2f} {rs:12.2f}  ≥2× rclone: {ok(rc/at >= 2)} ({rc/at:.1f}×)")
print(f"{'no-change sync, 100k files, warm (ms)':44} {nw:12.1f} {'':>12} {'':>12}  ≤50 ms: {ok(nw <= 50)}")
print(f"{'no-change sync, 100k files, cold process (ms)':44} {nc:12.1f} {'':>12} {'':>12}")
print(f"{'no-change sync, 1 GiB project (ms)':44} {'':>12} {rcn*1000:12.0f} {'':>12}")
print(f"{'10-byte insert in 128 MiB: bytes sent':44} {ed:12.0f} {134217738:12.0f} {rse:12.0f}  ≤2 MiB: {ok(ed <= 2<<20)}")
EOF
