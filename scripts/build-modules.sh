#!/usr/bin/env bash
# Builds the studio's first-party modules (modules/NAME) for WASI preview 1
# and stages each one, ready to pack and sign, under build/bin/modules/NAME
# (ignored by git): atelier-module.json, the program as main.wasm for an
# action or a panel, the template/ folder for a template.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/bin/modules}
GO=${GO:-go}
for src in modules/*/; do
  src=${src%/}
  name=$(basename "$src")
  [ -f "$src/atelier-module.json" ] || continue
  dst="$out/$name"
  rm -rf "$dst"
  mkdir -p "$dst"
  cp "$src/atelier-module.json" "$dst/"
  if grep -Eq '"kind": *"(action|panel)"' "$src/atelier-module.json"; then
    main=$(grep -Eo '"main": *"[^"]+"' "$src/atelier-module.json" | sed -E 's/.*"([^"]+)"$/\1/' || true)
    main=${main:-main.wasm}
    mkdir -p "$(dirname "$dst/$main")"
    GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 "$GO" build -trimpath -o "$dst/$main" "./$src"
    echo "built $dst/$main ($(stat -c %s "$dst/$main") bytes)"
  fi
  if [ -d "$src/template" ]; then
    cp -R "$src/template" "$dst/"
    echo "staged $dst/template"
  fi
done
