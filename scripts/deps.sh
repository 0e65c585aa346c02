#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for building, running and
# testing Atelier. Idempotent: installs only what is missing.
#   scripts/deps.sh run    build and run the desktop app
#   scripts/deps.sh test   also the test tools (Xvfb, Chromium, media tools, peers)
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."

pkgs=(libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config gcc)
if [ "$mode" = run ]; then
  pkgs+=(gstreamer1.0-plugins-good xvfb ffmpeg)
fi
if [ "$mode" = test ]; then
  pkgs+=(xvfb xauth x11-utils xdotool imagemagick chromium sox libsox-fmt-mp3 lame ffmpeg mpg123 flac rclone restic gstreamer1.0-plugins-good dbus-daemon dbus-x11 fonts-dejavu-core bc desktop-file-utils libgtk-3-bin systemd libimage-exiftool-perl time)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "Go 1.26 is needed: https://go.dev/dl/" >&2; exit 1; }
command -v npm >/dev/null || { echo "Node 20 and npm are needed" >&2; exit 1; }

# Frontend packages, exactly as locked.
if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
fi
# Go modules (and the Wails CLI, pinned in go.mod as a tool).
go mod download
