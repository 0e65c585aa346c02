#!/usr/bin/env bash
# Preview benchmarks (`make bench`): issue 17's table regenerated side by side
# on media generated here, each figure the median of 3 runs, with ratios:
#   - MP3 → 8-bit .dat at zoom 256: a 10-minute stereo 44.1 kHz 192 kb/s
#     file (sox + lame) and a 30-minute mono 64 kb/s podcast; Atelier
#     (parallel segments and sequential) vs BBC audiowaveform (built from
#     ../shared/peers/audiowaveform by its build.sh: not in Debian),
#     `ffmpeg -f null` (the decode floor) and `mpg123 -t` (writing -o x.dat
#     measures no loudness: the command prints none then);
#   - JPEG → 768 px thumbnail of 6, 24 and 45 MP photos (ImageMagick) vs
#     vipsthumbnail (libvips-tools);
#   - cold previews of a folder of short samples: time from `atelier project
#     add` until every preview is ready (daemon running);
#   - where the time goes: a CPU profile of the sequential MP3 decode.
# PREVIEW_BENCH_MINUTES and PREVIEW_BENCH_POD_MINUTES shorten the MP3s (10
# and 30), PREVIEW_BENCH_SAMPLES the folder (500), PREVIEW_BENCH_MP (e.g.
# "6 24") the photos; AUDIOWAVEFORM names a binary instead of building one.
# PREVIEW_BENCH_ONLY=jpeg times the JPEG thumbnails alone (wall and CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${PREVIEW_BENCH_MINUTES:-10}
pod_minutes=${PREVIEW_BENCH_POD_MINUTES:-30}
samples=${PREVIEW_BENCH_SAMPLES:-500}
photos=${PREVIEW_BENCH_MP:-6 24 45}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/atelier-bench-preview.XXXXXX")
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

for tool in sox lame ffmpeg mpg123 vipsthumbnail convert; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (Debian: apt-get install sox lame ffmpeg mpg123 libvips-tools imagemagick)" >&2; exit 1; }
done
only=${PREVIEW_BENCH_ONLY:-}
# audiowaveform: $AUDIOWAVEFORM, else on PATH, else built by the peer's build.sh.
AW=${AUDIOWAVEFORM:-$(command -v audiowaveform || true)}
if [ -z "$AW" ] && [ "$only" != jpeg ]; then
  peers=${ATELIER_PEERS:-$(cd .. && pwd)/shared/peers}
  [ -x "$peers/audiowaveform/build.sh" ] || peers=/work/shared/peers
  if [ -x "$peers/audiowaveform/build.sh" ]; then
    echo "Building audiowaveform (once; cached)…" >&2
    AW=$(bash "$peers/audiowaveform/build.sh" | tail -1)
  else
    echo "bench: audiowaveform not found (set AUDIOWAVEFORM or ATELIER_PEERS); its column stays empty" >&2
  fi
fi
A="$TMP/atelier"
go build -o "$A" ./cmd/atelier

BENCH_ERR="$TMP/err"
. bench/lib/timing.sh # cwd is the repo root (see the cd above)
# one run: "WALL_MS CPU_MS", CPU being the user+sys time of the command and
# its children (bash's times, read in the subshell that ran it): the
# figure the other processes on a shared machine disturb least.
run1() {
  local s e t
  s=$(date +%s%N)
  t=$("$@" >/dev/null 2>"${BENCH_ERR:?}" && times) || { echo "bench: failed: $*" >&2; cat "$BENCH_ERR" >&2; exit 1; }
  e=$(date +%s%N)
  echo "$(((e - s) / 1000000)) $(echo "$t" | tail -1 | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); n += p[1] * 60 + p[2] } printf "%d", n * 1000 }')"
}
declare -A T CPU
# med KEY CMD...: medians of 3 runs, in milliseconds: wall time in T[KEY],
# CPU time in CPU[KEY].
med() {
  local key=$1 r
  shift
  r=$(for _ in 1 2 3; do run1 "$@" || exit 1; done) || exit 1
  T[$key]=$(echo "$r" | awk '{ print $1 }' | sort -n | sed -n 2p)
  CPU[$key]=$(echo "$r" | awk '{ print $2 }' | sort -n | sed -n 2p)
}
sec() { [ -z "$1" ] && { echo "-"; return; }; awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }
rt() { awk -v secs="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.0f×", secs * 1000 / ms; else print "-" }'; }
ratio() { # Atelier / peer
  if [ -z "$1" ] || [ -z "$2" ] || [ "$2" -eq 0 ]; then echo "-"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'
}

make_photos() {
  for mp in $photos; do
    case $mp in
    6) wh=3000x2000 ;; 24) wh=6000x4000 ;; 45) wh=8256x5504 ;;
    *) wh=$(awk -v mp="$mp" 'BEGIN { w = int(sqrt(mp * 1e6 * 1.5)); printf "%dx%d", w, int(w / 1.5) }') ;;
    esac
    # A plasma fractal with sensor-like noise, 4:2:0 at quality 92: entropy
    # close to a camera's.
    convert -size 800x533 plasma:fractal -resize "$wh!" -attenuate 0.4 +noise Gaussian \
      -sampling-factor 2x2 -quality 92 "$TMP/photo$mp.jpg"
  done
}
time_photos() {
  echo "Timing JPEG → 768 px thumbnails (medians of 3)…" >&2
  for mp in $photos; do
    med photo$mp.atelier "$A" preview "$TMP/photo$mp.jpg" -o "$TMP/t$mp.jpg"
    med photo$mp.vips vipsthumbnail "$TMP/photo$mp.jpg" -s 768 -o "$TMP/v$mp.jpg"
  done
}
if [ "$only" = jpeg ]; then
  echo "Generating photos of ${photos} MP…" >&2
  make_photos
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  med start "$A" preview --help
  time_photos
  echo
  echo "JPEG → 768 px thumbnails ($(nproc) cores; load before: $load0; medians of 3). Ratios: Atelier over vipsthumbnail."
  echo
  printf "| %-32s | %-9s | %-9s | %-7s | %-9s | %-9s | %-7s |\n" "work" "wall" "vips" "ratio" "CPU" "vips CPU" "ratio"
  printf "|%s|%s|%s|%s|%s|%s|%s|\n" "----------------------------------" "-----------" "-----------" "---------" "-----------" "-----------" "---------"
  for mp in $photos; do
    a=${T[photo$mp.atelier]} v=${T[photo$mp.vips]} ac=${CPU[photo$mp.atelier]} vc=${CPU[photo$mp.vips]}
    printf "| %-32s | %-9s | %-9s | %-7s | %-9s | %-9s | %-7s |\n" "$mp MP JPEG → 768 px thumbnail" "$(sec "$a")" "$(sec "$v")" "$(ratio "$a" "$v")" \
      "$(sec "$ac")" "$(sec "$vc")" "$(ratio "$ac" "$vc")"
  done
  echo
  echo "Process start-up, included in every Atelier figure (\`atelier preview --help\`): $(sec "${T[start]}") wall, $(sec "${CPU[start]}") CPU; load after: $(cut -d' ' -f1-3 /proc/loadavg)."
  exit 0
fi

echo "Generating media (a ${minutes}-minute stereo MP3, a ${pod_minutes}-minute mono podcast, photos of ${photos} MP, ${samples} samples)…" >&2
sox -n -r 44100 -c 2 -b 16 "$TMP/long.wav" synth $((minutes * 60)) sine 110-880 sine 330 pinknoise tremolo 3 60 vol 0.7
lame --quiet -b 192 "$TMP/long.wav" "$TMP/long.mp3"
rm "$TMP/long.wav"
sox -n -r 44100 -c 1 -b 16 "$TMP/pod.wav" synth $((pod_minutes * 60)) pinknoise sine 140-260 tremolo 4 90 bandpass 800 2q vol 0.6
lame --quiet -b 64 -m m "$TMP/pod.wav" "$TMP/pod.mp3"
rm "$TMP/pod.wav"
make_photos
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

# What every Atelier figure below includes before any work: the process
# start (runtime, package initialisation, cobra), `atelier preview --help`.
med start "$A" preview --help
echo "Timing MP3 → .dat (medians of 3)…" >&2
for f in long pod; do
  med $f.par "$A" preview "$TMP/$f.mp3" --zoom 256 --bits 8 -o "$TMP/$f.dat"
  med $f.seq "$A" preview "$TMP/$f.mp3" --zoom 256 --bits 8 --workers 1 -o "$TMP/$f.dat"
  if [ -n "$AW" ]; then
    med $f.aw "$AW" -q -i "$TMP/$f.mp3" -o "$TMP/$f-aw.dat" -z 256 -b 8
  fi
  med $f.ffmpeg ffmpeg -v error -threads 1 -i "$TMP/$f.mp3" -f null -
  med $f.mpg123 mpg123 -q -t "$TMP/$f.mp3"
done
time_photos

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
echo "Preview benchmarks ($cores cores; media generated by sox, lame and ImageMagick; medians of 3, wall time)"
echo "Ratios are Atelier's time over the peer's: below 1× Atelier is faster."
echo
printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "work" "Atelier" "audiowaveform" "ffmpeg decode" "other"
printf "|%s|%s|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..46})" "-----------" "------------------" "------------------" "------------------"
for f in long pod; do
  if [ "$f" = long ]; then
    label="${minutes}-min stereo 192 kb/s MP3 → 8-bit .dat"
  else
    label="${pod_minutes}-min mono 64 kb/s podcast MP3 → .dat"
  fi
  a=${T[$f.par]}
  printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "$label" "$(sec "$a")" \
    "$(sec "${T[$f.aw]:-}") ($(ratio "$a" "${T[$f.aw]:-}"))" \
    "$(sec "${T[$f.ffmpeg]}") ($(ratio "$a" "${T[$f.ffmpeg]}"))" \
    "mpg123 $(sec "${T[$f.mpg123]}") ($(ratio "$a" "${T[$f.mpg123]}"))"
  printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "  the same, one decode segment at a time" "$(sec "${T[$f.seq]}")" \
    "($(ratio "${T[$f.seq]}" "${T[$f.aw]:-}"))" "($(ratio "${T[$f.seq]}" "${T[$f.ffmpeg]}"))" "($(ratio "${T[$f.seq]}" "${T[$f.mpg123]}"))"
done
for mp in $photos; do
  a=${T[photo$mp.atelier]}
  printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "$mp MP JPEG → 768 px thumbnail" "$(sec "$a")" "" "" \
    "vips $(sec "${T[photo$mp.vips]}") ($(ratio "$a" "${T[photo$mp.vips]}"))"
done
echo
echo "CPU time (user+sys of the process and its children; medians of the same runs): less disturbed by other load than wall time."
echo
printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "work" "Atelier" "audiowaveform" "ffmpeg decode" "other"
printf "|%s|%s|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..46})" "-----------" "------------------" "------------------" "------------------"
for f in long pod; do
  for k in par seq; do
    a=${CPU[$f.$k]}
    label="${minutes}-min stereo 192 kb/s MP3 → 8-bit .dat"
    [ "$f" = pod ] && label="${pod_minutes}-min mono 64 kb/s podcast MP3 → .dat"
    [ "$k" = seq ] && label="  the same, one decode segment at a time"
    printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "$label" "$(sec "$a")" \
      "$(sec "${CPU[$f.aw]:-}") ($(ratio "$a" "${CPU[$f.aw]:-}"))" \
      "$(sec "${CPU[$f.ffmpeg]}") ($(ratio "$a" "${CPU[$f.ffmpeg]}"))" \
      "mpg123 $(sec "${CPU[$f.mpg123]}") ($(ratio "$a" "${CPU[$f.mpg123]}"))"
  done
done
for mp in $photos; do
  a=${CPU[photo$mp.atelier]}
  printf "| %-44s | %-9s | %-16s | %-16s | %-16s |\n" "$mp MP JPEG → 768 px thumbnail" "$(sec "$a")" "" "" \
    "vips $(sec "${CPU[photo$mp.vips]}") ($(ratio "$a" "${CPU[photo$mp.vips]}"))"
done
echo
long_d=$(dur "$TMP/long.mp3")
pod_d=$(dur "$TMP/pod.mp3")
echo "Process start-up, included in every Atelier figure (\`atelier preview --help\`): $(sec "${T[start]}") wall, $(sec "${CPU[start]}") CPU."
echo
echo "Decoding speed: the ${minutes}-min file at $(rt "$long_d" "${T[long.par]}") realtime, the podcast at $(rt "$pod_d" "${T[pod.par]}") (parallel segments on $cores cores)."
echo
echo "Cold previews of $samples short samples (WAV, FLAC, MP3; add → all ready): $(sec "$cold_ms") ($(awk -v n="$samples" -v ms="$cold_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }') previews/s, ${failed:-0} failed)"
echo
echo "Where the sequential decode spends its time (pprof, top functions by flat time):"
echo "$top"
