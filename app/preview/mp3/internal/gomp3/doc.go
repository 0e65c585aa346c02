// Package mp3 is a copy of github.com/hajimehoshi/go-mp3 v0.3.4 (Apache
// License 2.0, see LICENSE; copyright 2017 Hajime Hoshi and the go-mp3
// authors), kept here so the waveform renderer can change its hot paths.
//
// Modified by Atelier (2026), each change marked "Atelier:" where it is:
//   - internal/frame: a Decoder taking one frame at a time as a byte slice
//     (the caller knows frame boundaries; the bit reservoir, side information
//     and main data are kept and reused: no allocation per frame); output as
//     int16 per channel, rounded to nearest, a mono stream synthesised once;
//     the synthesis filter bank by an unrolled Lee 32-point DCT and a window
//     using the symmetry of V (synth.go, dct32.go from gen_dct32.go), its
//     windowing and output rounding in SSE on amd64 (window_amd64.s; Go
//     elsewhere or with -tags purego); the filter state shared between
//     frames, not copied.
//   - internal/maindata: long blocks requantised as the Huffman decoder
//     reads them (requant.go), in float32.
//   - internal/imdct: long blocks by an 18-point DCT-IV from two 9-point
//     DCT-IIs; no allocation per call.
//   - internal/huffman: two-level lookup tables built from the trees, read
//     from a 64-bit window (lut.go).
//   - MPEG-2.5 (8, 11.025, 12 kHz): sample rates, scale factor band tables,
//     and the 8 kHz short-block region boundary.
//   - composite literals keyed (go vet).
//
// TestMatchesFFmpeg holds every case within 2 LSB of ffmpeg at 16 bit
// (nearly all within 1).
package mp3
