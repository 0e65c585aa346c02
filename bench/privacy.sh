#!/usr/bin/env bash
# Privacy benchmarks for `make bench` (issue 5): ingest of 1,000,000 usage
# events with hourly/daily/monthly rollups (goal ≥ 200,000 events/s), a 90-day
# dashboard query over 10,000,000 events (goal ≤ 10 ms), the data-dir size per
# million events, and a 1,000,000-row audience CSV import. Prints a table.
#
# Env: PRIVACY_BENCH_EVENTS (default 10000000) for the dashboard data set.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d /tmp/atelier-privbench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

for b in Ingest1M Dashboard90d AudienceImport1M; do
	n=1x
	[ "$b" = Dashboard90d ] && n=300x
	go test -run '^$' -bench "Benchmark$b\$" -benchtime "$n" -timeout 30m ./app/privacy/ | tee "$OUT/Benchmark$b"
done

metric() { # benchmark name, unit
	tr '\t' '\n' < "$OUT/$1" | grep " $2\$" | head -1 | awk '{print $1}'
}
ingest=$(metric BenchmarkIngest1M events/s)
ingest_size=$(metric BenchmarkIngest1M bytes/1M-events)
dash=$(metric BenchmarkDashboard90d ms/query)
dash_size=$(metric BenchmarkDashboard90d bytes/1M-events)
aud=$(metric BenchmarkAudienceImport1M rows/s)

verdict() { # value, goal, direction (ge|le)
	awk -v v="$1" -v g="$2" -v d="$3" 'BEGIN { ok = (d == "ge") ? v >= g : v <= g; print ok ? "ok" : "MISSED" }'
}
echo
printf '%-58s %16s %14s %s\n' "benchmark" "result" "goal" ""
printf '%-58s %16.0f %14s %s\n' "ingest 1M events with rollups (events/s)" "$ingest" "≥ 200000" "$(verdict "$ingest" 200000 ge)"
printf '%-58s %16.3f %14s %s\n' "90-day dashboard over 10M events (ms/query)" "$dash" "≤ 10" "$(verdict "$dash" 10 le)"
printf '%-58s %16.1f %14s\n' "data dir per 1M events, after 1M ingest (MiB)" "$(echo "$ingest_size / 1048576" | bc -l)" "-"
printf '%-58s %16.1f %14s\n' "data dir per 1M events, 10M-event data dir (MiB)" "$(echo "$dash_size / 1048576" | bc -l)" "-"
printf '%-58s %16.0f %14s\n' "audience CSV import, 1M distinct rows (rows/s)" "$aud" "-"
