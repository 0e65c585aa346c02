// Package mp3 is a copy of github.com/hajimehoshi/go-mp3 v0.3.4 (Apache
// License 2.0, see LICENSE; copyright 2017 Hajime Hoshi and the go-mp3
// authors), kept here so the waveform renderer can change its hot paths.
//
// Modified by Atelier (2026), each change marked "Atelier:" where it is:
//   - internal/frame: requantization gains from a table of 2^(k/4) and
//     computed once per scale factor band; the synthesis filter bank's V
//     vector is a ring buffer, its matrixing uses the symmetry of the
//     64×32 matrix (a 32-point transform split into two 16-point ones) and
//     skips silent subbands, and windowing runs without the U vector;
//     silent subbands skip the IMDCT; no per-subband allocations.
//   - internal/imdct: WinInto writes into the caller's array and computes
//     18 of the 36 outputs, mirroring the rest.
//   - composite literals keyed (go vet).
//
// Output equals upstream's up to float32 rounding (TestMatchesFFmpeg holds
// every case within 2 LSB of ffmpeg at 16 bit, as upstream did).
package mp3
