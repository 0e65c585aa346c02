#!/usr/bin/env bash
# Runs every fuzz target in the module for a bounded amount of work (FUZZTIME,
# default 3000 executions each; a count rather than a duration, because a
# time limit can end a run with a spurious "context deadline exceeded"), on
# the seed corpora the tests generate. A crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-3000x}
n=0
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $f ($t)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime 50x "$pkg" > /tmp/fuzz-$$.log 2>&1 || { cat /tmp/fuzz-$$.log; exit 1; }
    n=$((n+1))
  done
done
rm -f /tmp/fuzz-$$.log
echo "fuzz: $n targets ran for $t each, no failures"
