#!/usr/bin/env bash
# Runs a command with a private Xvfb display (and a D-Bus session), then stops them.
set -euo pipefail
disp=${XVFB_DISPLAY:-:99}
n=${disp#:}
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n+1)); done
disp=":$n"
Xvfb "$disp" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
export DISPLAY=$disp
export NO_AT_BRIDGE=1
if command -v dbus-run-session >/dev/null; then
  dbus-run-session -- "$@"
else
  "$@"
fi
