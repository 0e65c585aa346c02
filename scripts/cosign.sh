#!/usr/bin/env bash
# Builds the cosign CLI pinned in tools/cosign (a module of its own, so its
# dependencies stay out of the app's) for the interoperability tests.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/bin
if [ ! -x .cache/bin/cosign ] || [ tools/cosign/go.mod -nt .cache/bin/cosign ]; then
  echo "building cosign (pinned in tools/cosign/go.mod; takes a few minutes the first time)"
  (cd tools/cosign && go build -o ../../.cache/bin/cosign github.com/sigstore/cosign/v2/cmd/cosign)
fi
.cache/bin/cosign version 2>/dev/null | grep -m1 GitVersion
