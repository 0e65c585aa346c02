# Timing helpers shared by the bench scripts (sourced, not run).
# BENCH_ERR is where a failing command's stderr goes before it is shown.

ms() { # wall milliseconds of one run; a failing command ends the bench
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null 2>"${BENCH_ERR:?set BENCH_ERR}" || { echo "bench: failed: $*" >&2; cat "$BENCH_ERR" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}

best() { # best of 3 runs, in milliseconds
  local b="" t
  for _ in 1 2 3; do
    t=$(ms "$@")
    if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
  done
  echo "$b"
}
