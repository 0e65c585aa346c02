//go:build !purego

package frame

// window17 is window17Go with SSE (window_amd64.s): four lanes of the 16
// products at a time.
//
//go:noescape
func window17(h *[17][32]float32, pos int, wl, wh *[17][16]float32, y *[33]float32)

// round16 is round16Go with SSE: clamp, round (to even on ties, as
// ffmpeg's lrintf) and pack eight samples at a time.
//
//go:noescape
func round16(y *[33]float32, o *[32]int16)
