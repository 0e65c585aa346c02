#!/usr/bin/env bash
# Fails when git tracks a file over 5 MB: build products (one 76 MB binary
# was committed once) belong under an ignored folder, never in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$((5 * 1024 * 1024))
bad=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  size=$(stat -c %s "$f")
  if [ "$size" -gt "$limit" ]; then
    echo "tracked file too large: $f ($size bytes > 5 MB). Remove it with 'git rm --cached $f' and ignore it in .gitignore." >&2
    bad=1
  fi
done < <(git ls-files -z)
[ "$bad" = 0 ] && echo "tree: no tracked file over 5 MB"
exit $bad
