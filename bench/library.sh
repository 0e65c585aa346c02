#!/usr/bin/env bash
# Library benchmarks (`make bench`):
#   - query latency p50/p99 of five typical queries over 100,000 files
#     (goal p99 ≤ 10 ms) and the in-memory view's heap per file;
#   - metadata extraction over the same 1,000 files (MP3 with ID3v2 and a
#     cover, FLAC, Broadcast WAV, AIFF, JPEG with EXIF): Atelier's reader
#     against `exiftool -fast` (one exiftool process for the whole batch, so
#     it pays its start-up once). Goal: ≥ 5× exiftool.
# LIBRARY_BENCH_FILES changes the number of files (default 1000), LIBRARY_BENCH_TIME
# the query benchmark's -benchtime (default 200x).
set -euo pipefail
cd "$(dirname "$0")/.."

files=${LIBRARY_BENCH_FILES:-1000}
benchtime=${LIBRARY_BENCH_TIME:-200x}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/atelier-bench-library.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
for tool in sox lame ffmpeg convert exiftool; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh test installs it)" >&2; exit 1; }
done
BENCH_ERR="$TMP/err"
. bench/lib/timing.sh

echo "Query latency over 100,000 files (go test -bench):" >&2
go test -run '^$' -bench 'BenchmarkQuery$|BenchmarkViewMemory' -benchtime "$benchtime" ./app/library/query |
  awk '/^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name); line=name; for (i=3; i<=NF; i+=2) line=line "  " $i " " $(i+1); print line }'

echo "Generating ${files} tagged media files…" >&2
T="$TMP/templates"; D="$TMP/files"; mkdir -p "$T" "$D"
sox -n -r 44100 -c 2 -b 16 "$T/tone.wav" synth 3 sine 220-880 vol 0.5
convert -size 300x300 plasma:fractal "$T/cover.jpg"
lame --quiet --tt "Night Drive" --ta "Mara" --tl "Neon" --ty 2024 --ti "$T/cover.jpg" --tv TBPM=122 --tv TKEY=Am "$T/tone.wav" "$T/t.mp3"
ffmpeg -v error -i "$T/tone.wav" -metadata title="Flac Title" -metadata BPM=90 "$T/t.flac"
ffmpeg -v error -i "$T/tone.wav" -metadata title="Wav Title" -write_bext 1 -metadata description="Take 3" -metadata originator=Recorder "$T/t.wav"
ffmpeg -v error -i "$T/tone.wav" -metadata title="Aiff Title" -metadata comment="anno" "$T/t.aiff"
convert -size 1200x800 plasma:fractal "$T/t.jpg"
exiftool -q -overwrite_original -Make=Canon -Model="Canon EOS R6" -DateTimeOriginal="2024:05:01 10:20:30" -GPSLatitude=48.8 -GPSLatitudeRef=N "$T/t.jpg"
exts=(mp3 mp3 flac wav aiff jpg jpg mp3 wav jpg)
for i in $(seq 1 "$files"); do
  e=${exts[$((i % ${#exts[@]}))]}
  cp "$T/t.$e" "$D/file $i.$e"
done
sync

go build -o "$TMP/libbench" ./bench/library
go build -o "$TMP/atelier" ./cmd/atelier
"$TMP/libbench" meta "$D" >/dev/null # warm the page cache
at=$(best "$TMP/libbench" meta "$D")
ex=$(best exiftool -fast -json -q -r "$D")
echo "Metadata of ${files} files: Atelier ${at} ms, exiftool -fast ${ex} ms" \
  "($(awk -v a="$at" -v e="$ex" 'BEGIN { if (a > 0) printf "%.1f×", e / a; else print "-" }') exiftool's speed; goal ≥ 5×)"

# The Library in Chromium on LIBRARY_BENCH_UI_FILES files (default 100,000):
# first paint, time to the last row, and the daemon's RSS (goals: first paint
# ≤ 500 ms, RSS ≤ 150 MB).
ui_files=${LIBRARY_BENCH_UI_FILES:-100000}
if [ "$ui_files" -gt 0 ]; then
  [ -f frontend/dist/index.html ] && grep -q assets frontend/dist/index.html || (cd frontend && npm run build >/dev/null)
  echo "Library in Chromium with ${ui_files} files (indexing them first)…" >&2
  (cd frontend && LIBRARY_E2E_FILES="$ui_files" ATELIER_BIN="$TMP/atelier" node --test --test-reporter=tap e2e/library.test.mjs 2>"$BENCH_ERR" > "$TMP/ui.out") ||
    { cat "$TMP/ui.out" "$BENCH_ERR" >&2; echo "bench: the Library browser run failed" >&2; exit 1; }
  grep -o 'LIBRARY-BENCH.*' "$TMP/ui.out" | sed 's/^LIBRARY-BENCH /Library UI: /'
fi
