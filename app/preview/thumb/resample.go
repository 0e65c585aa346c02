package thumb

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// Atelier's own Catmull-Rom shrink for opaque images, separable, in fixed
// point on 8-bit RGB rows. x/image/draw's kernel scaler computes in
// float64 per tap and channel and, from a YCbCr source, converts each
// source pixel once per tap that reads it: it was half of a thumbnail's
// CPU time. The kernel and its placement are x/image/draw's CatmullRom
// (support 2 widened by the shrink ratio, taps outside the image dropped
// and the rest renormalised).

// wfrac is the weights' fixed-point precision (bits).
const wfrac = 14

// taps are one output pixel's contributions: the first source index and
// the weights (fixed point, summing to 1<<wfrac) of consecutive pixels.
type taps struct {
	first int
	w     []int32
}

// kernelTaps places the Catmull-Rom kernel for a shrink of n source pixels
// to m.
func kernelTaps(n, m int) []taps {
	scale := float64(n) / float64(m)
	if scale < 1 {
		scale = 1
	}
	half := 2 * scale
	out := make([]taps, m)
	wf := make([]float64, 0, int(2*half)+3)
	for x := range out {
		c := (float64(x)+0.5)*float64(n)/float64(m) - 0.5
		lo := max(0, int(math.Ceil(c-half)))
		hi := min(n-1, int(math.Floor(c+half)))
		wf = wf[:0]
		sum := 0.0
		for i := lo; i <= hi; i++ {
			w := catmullRom(math.Abs(float64(i)-c) / scale)
			wf = append(wf, w)
			sum += w
		}
		t := taps{first: lo, w: make([]int32, len(wf))}
		if sum == 0 { // cannot happen with support 2, but never divide by 0
			t.w = []int32{1 << wfrac}
			t.first = min(max(0, int(c+0.5)), n-1)
			out[x] = t
			continue
		}
		acc, big := int32(0), 0
		for i, w := range wf {
			t.w[i] = int32(math.Round(w / sum * (1 << wfrac)))
			acc += t.w[i]
			if t.w[i] > t.w[big] {
				big = i
			}
		}
		t.w[big] += 1<<wfrac - acc // exact unity gain
		out[x] = t
	}
	return out
}

func catmullRom(t float64) float64 {
	switch {
	case t < 1:
		return (1.5*t-2.5)*t*t + 1
	case t < 2:
		return ((-0.5*t+2.5)*t-4)*t + 2
	}
	return 0
}

// round16 drops the weights' fraction, keeping 4 bits for the second pass.
func round16(v int32) int16 {
	return int16((v + 1<<(wfrac-5)) >> (wfrac - 4))
}

// clamp8 rounds a second-pass sum (weights × round16 values) to 8 bits.
func clamp8(v int32) uint8 {
	v = (v + 1<<(wfrac+3)) >> (wfrac + 4)
	if uint32(v) > 255 {
		return uint8(^(v >> 31)) // 0 below, 255 above
	}
	return uint8(v)
}

// shrinkOpaque resamples an opaque w×h image, whose rows row(y, buf)
// writes as packed RGB into buf (3w bytes), to tw×th RGBA. row must be
// safe to call from two goroutines at once.
func shrinkOpaque(w, h, tw, th int, row func(y int, buf []byte)) *image.RGBA {
	hx := kernelTaps(w, tw)
	vy := kernelTaps(h, th)
	// Horizontal pass into mid (tw×h, packed RGB with 4 fraction bits,
	// unclamped: Catmull-Rom's overshoot is clamped once, at the end, as
	// x/image/draw does), then vertical.
	mid := make([]int16, 3*tw*h)
	horizontal := func(y0, y1 int) {
		buf := make([]byte, 3*w)
		for y := y0; y < y1; y++ {
			row(y, buf)
			o := mid[3*tw*y : 3*tw*(y+1)]
			for x, t := range hx {
				s := buf[3*t.first : 3*(t.first+len(t.w))]
				var r, g, b int32
				for i, wt := range t.w {
					p := s[3*i : 3*i+3 : 3*i+3]
					r += wt * int32(p[0])
					g += wt * int32(p[1])
					b += wt * int32(p[2])
				}
				d := o[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = round16(r), round16(g), round16(b)
			}
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	vertical := func(y0, y1 int) {
		acc := make([]int32, 3*tw)
		for y := y0; y < y1; y++ {
			t := vy[y]
			clear(acc)
			for i, wt := range t.w {
				s := mid[3*tw*(t.first+i) : 3*tw*(t.first+i+1)]
				s = s[:len(acc)]
				for j, v := range s {
					acc[j] += wt * int32(v)
				}
			}
			d := dst.Pix[dst.Stride*y : dst.Stride*y+4*tw]
			for x := 0; x < tw; x++ {
				p := d[4*x : 4*x+4 : 4*x+4]
				a := acc[3*x : 3*x+3 : 3*x+3]
				p[0], p[1], p[2], p[3] = clamp8(a[0]), clamp8(a[1]), clamp8(a[2]), 0xff
			}
		}
	}
	// Large shrinks run each pass on two cores, by rows (the same CPU
	// time, half the wall time on an idle machine).
	if runtime.GOMAXPROCS(0) < 2 || w*h < 1<<19 {
		horizontal(0, h)
		vertical(0, th)
		return dst
	}
	var wg sync.WaitGroup
	wg.Go(func() { horizontal(0, h/2) })
	horizontal(h/2, h)
	wg.Wait()
	wg.Go(func() { vertical(0, th/2) })
	vertical(th/2, th)
	wg.Wait()
	return dst
}

// ycbcrRows returns shrinkOpaque's row function for m: image/color's
// conversion (ycc), once a pixel.
func ycbcrRows(m *image.YCbCr) func(y int, buf []byte) {
	b := m.Rect
	w := b.Dx()
	return func(y int, buf []byte) { // called from two goroutines at once
		var px [4]byte
		sy := b.Min.Y + y
		yi := m.YOffset(b.Min.X, sy)
		ys := m.Y[yi : yi+w]
		buf = buf[:3*w]
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422:
			// Pairs of pixels share chroma; COffset of the row's first
			// pixel is where they start (odd: it is the second of a pair).
			ci := m.COffset(b.Min.X, sy)
			odd := b.Min.X & 1
			cw := (w + odd + 1) / 2
			cbs, crs := m.Cb[ci:ci+cw], m.Cr[ci:ci+cw]
			for x := range ys {
				c := (x + odd) >> 1
				ycc(px[:], ys[x], cbs[c], crs[c])
				d := buf[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = px[0], px[1], px[2]
			}
		default:
			for x := range ys {
				ci := m.COffset(b.Min.X+x, sy)
				ycc(px[:], ys[x], m.Cb[ci], m.Cr[ci])
				d := buf[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = px[0], px[1], px[2]
			}
		}
	}
}

// rgbaRows is shrinkOpaque's row function for an opaque RGBA image.
func rgbaRows(m *image.RGBA) func(y int, buf []byte) {
	b := m.Rect
	w := b.Dx()
	return func(y int, buf []byte) {
		i := m.PixOffset(b.Min.X, b.Min.Y+y)
		s := m.Pix[i : i+4*w]
		buf = buf[:3*w]
		for x := 0; x < w; x++ {
			p := s[4*x : 4*x+4 : 4*x+4]
			d := buf[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = p[0], p[1], p[2]
		}
	}
}
