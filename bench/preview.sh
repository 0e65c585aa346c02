#!/usr/bin/env bash
# Preview benchmarks (`make bench`), side by side on media generated here:
#   - a 10-minute stereo 44.1 kHz 192 kb/s MP3 (sox + lame) and a 3-minute VBR
#     voice clip: Atelier MP3 → .dat at zoom 256 (decode, peaks, loudness) vs
#     `ffmpeg -f null` (the decode floor) and `mpg123 -t`; wall time and ×
#     realtime, best of 3;
#   - cold previews of a folder of 500 short one-shot samples: time from
#     `atelier project add` until every preview is ready (daemon running);
#   - where the time goes: a CPU profile of the sequential decode.
# PREVIEW_BENCH_MINUTES shortens the long file (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${PREVIEW_BENCH_MINUTES:-10}
samples=${PREVIEW_BENCH_SAMPLES:-500}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/atelier-bench-preview.XXXXXX")
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

for tool in sox lame ffmpeg mpg123; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (Debian: apt-get install $tool)" >&2; exit 1; }
done
A="$TMP/atelier"
go build -o "$A" ./cmd/atelier

ms() { # wall milliseconds of one run
  local s e
  s=$(date +%s%N)
  "$@" >/dev/null 2>"$TMP/err" || { echo "bench: failed: $*" >&2; cat "$TMP/err" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}
best() { # best of 3 runs
  local b="" t
  for _ in 1 2 3; do
    t=$(ms "$@")
    if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
  done
  echo "$b"
}
rt() { awk -v secs="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f×", secs * 1000 / ms; else print "-" }'; }
sec() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }

echo "Generating media (a ${minutes}-minute MP3, a 3-minute VBR voice clip, ${samples} samples)…" >&2
long_s=$((minutes * 60))
sox -n -r 44100 -c 2 -b 16 "$TMP/long.wav" synth "$long_s" sine 110-880 sine 330 pinknoise tremolo 3 60 vol 0.7
lame --quiet -b 192 "$TMP/long.wav" "$TMP/long.mp3"
rm "$TMP/long.wav"
sox -n -r 44100 -c 1 -b 16 "$TMP/voice.wav" synth 180 pinknoise sine 140-260 tremolo 4 90 bandpass 800 2q vol 0.6
lame --quiet -V 6 -m m "$TMP/voice.wav" "$TMP/voice.mp3"
rm "$TMP/voice.wav"
mkdir -p "$TMP/samples/kicks" "$TMP/samples/hats" "$TMP/samples/fx"
for i in $(seq 1 "$samples"); do
  f=$((40 + i * 7))
  case $((i % 5)) in
  0) lame --quiet -b 160 <(sox -n -t wav - synth 0.6 sine "$f" fade 0 0.6 0.5 2>/dev/null) "$TMP/samples/fx/fx-$i.mp3" ;;
  1 | 2) sox -n -r 44100 -c 1 -b 16 "$TMP/samples/kicks/kick-$i.wav" synth 0.4 sine "$((f * 2))-40" fade 0 0.4 0.35 ;;
  3) sox -n -r 48000 -c 2 -b 24 "$TMP/samples/hats/hat-$i.wav" synth 0.25 whitenoise vol "0.$((i % 9 + 1))" fade 0 0.25 0.2 ;;
  4) sox -n -r 44100 -c 2 -b 16 "$TMP/samples/hats/ride-$i.flac" synth 0.8 pinknoise sine "$f" fade 0 0.8 0.7 ;;
  esac
done

dur() { ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$1" 2>/dev/null || echo 0; }
long_d=$(dur "$TMP/long.mp3")
voice_d=$(dur "$TMP/voice.mp3")

echo "Timing decodes (best of 3)…" >&2
declare -A T
for f in long voice; do
  T[$f.par]=$(best "$A" preview "$TMP/$f.mp3" --zoom 256 -o "$TMP/$f.dat")
  T[$f.seq]=$(best "$A" preview "$TMP/$f.mp3" --zoom 256 --workers 1 -o "$TMP/$f.dat")
  T[$f.ffmpeg]=$(best ffmpeg -v error -i "$TMP/$f.mp3" -f null -)
  T[$f.mpg123]=$(best mpg123 -q -t "$TMP/$f.mp3")
  if command -v audiowaveform >/dev/null; then
    T[$f.aw]=$(best audiowaveform -q -i "$TMP/$f.mp3" -o "$TMP/$f-aw.dat" -z 256 -b 8)
  fi
done

echo "Cold previews of ${samples} samples…" >&2
export ATELIER_HOME="$TMP/home"
"$A" daemon >"$TMP/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
  [ -S "$ATELIER_HOME/data/atelier.sock" ] && break
  sleep 0.1
done
s=$(date +%s%N)
"$A" project add "$TMP/samples" >/dev/null
while :; do
  st=$("$A" preview stats --json)
  left=$(echo "$st" | awk -F'[:,]' '/"pending"|"running"/ { gsub(/ /, "", $2); n += $2 } END { print n + 0 }')
  fin=$(echo "$st" | awk -F'[:,]' '/"done"|"failed"/ { gsub(/ /, "", $2); n += $2 } END { print n + 0 }')
  if [ "$left" -eq 0 ] && [ "$fin" -ge "$samples" ]; then break; fi
  if [ $((($(date +%s%N) - s) / 1000000000)) -gt 600 ]; then echo "bench: previews not ready after 10 minutes" >&2; cat "$TMP/daemon.log" >&2; exit 1; fi
  sleep 0.05
done
e=$(date +%s%N)
cold_ms=$(((e - s) / 1000000))
failed=$(echo "$st" | awk -F'[:,]' '/"failed"/ { gsub(/ /, "", $2); print $2 }')
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=""
unset ATELIER_HOME

echo "Profiling the sequential decode…" >&2
ATELIER_BENCH_MP3="$TMP/long.mp3" go test -run '^$' -bench 'BenchmarkDecodeSequential$' -benchtime 1x \
  -cpuprofile "$TMP/cpu.prof" -o "$TMP/mp3.test" ./app/preview/mp3/ >/dev/null
top=$(go tool pprof -top -nodecount 8 "$TMP/mp3.test" "$TMP/cpu.prof" 2>/dev/null | awk '/flat%/ { go = 1; next } go { printf "    %-7s %s\n", $2, $6 }')

cores=$(nproc)
echo
echo "Preview benchmarks ($cores cores; media generated by sox and lame)"
echo
printf "%-34s %12s %12s %12s\n" "MP3 → waveform" "wall" "× realtime" "vs ffmpeg"
for f in long voice; do
  d=$long_d
  label="${minutes}-min 192k CBR stereo"
  if [ "$f" = voice ]; then d=$voice_d; label="3-min VBR voice (mono)"; fi
  echo "$label ($(printf '%.0f' "$d") s of audio)"
  for c in par seq ffmpeg mpg123 aw; do
    v=${T[$f.$c]:-}
    [ -z "$v" ] && continue
    case $c in
    par) name="  atelier .dat, parallel segments" ;;
    seq) name="  atelier .dat, sequential" ;;
    ffmpeg) name="  ffmpeg -f null (decode floor)" ;;
    mpg123) name="  mpg123 -t" ;;
    aw) name="  audiowaveform -z 256" ;;
    esac
    printf "%-34s %12s %12s %12s\n" "$name" "$(sec "$v")" "$(rt "$d" "$v")" "$(awk -v a="$v" -v b="${T[$f.ffmpeg]}" 'BEGIN { printf "%.1f×", a / b }')"
  done
done
echo
speedup=$(awk -v a="${T[long.seq]}" -v b="${T[long.par]}" 'BEGIN { printf "%.2f", a / b }')
echo "Parallel decoding: ${speedup}× faster than sequential on the long file ($cores cores)."
echo
echo "Cold previews of $samples short samples (WAV, FLAC, MP3; add → all ready): $(sec "$cold_ms") ($(awk -v n="$samples" -v ms="$cold_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }') previews/s, ${failed:-0} failed)"
echo
echo "Where the sequential decode spends its time (pprof, top functions by flat time):"
echo "$top"
