//go:build !amd64 || purego

package frame

func window17(h *[17][32]float32, pos int, wl, wh *[17][16]float32, y *[33]float32) {
	window17Go(h, pos, wl, wh, y)
}

func round16(y *[33]float32, o *[32]int16) { round16Go(y, o) }
