#!/usr/bin/env bash
# Builds the Debian package from build/bin with nfpm (pinned in tools/nfpm).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${ATELIER_VERSION:-$(grep -m1 -o '"productVersion": "[^"]*"' wails.json | cut -d'"' -f4)}
mkdir -p .cache/bin build/package
if [ ! -x .cache/bin/nfpm ]; then
  (cd tools/nfpm && go build -o ../../.cache/bin/nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm)
fi
for s in 16 32 48 64 128 256 512; do
  mkdir -p build/package/icons/$s
  convert build/appicon.png -resize ${s}x${s} build/package/icons/$s/atelier.png
done
rm -f build/package/atelier_*.deb
ATELIER_VERSION=$version .cache/bin/nfpm package --config build/linux/nfpm.yaml --packager deb --target build/package/
ls build/package/atelier_*.deb
