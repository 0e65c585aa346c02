package audio

import (
	"fmt"
	"image"
	"image/color"
)

// PNGOptions style a waveform image.
type PNGOptions struct {
	Width, Height int
	Color         color.NRGBA // the waveform
	Background    color.NRGBA // zero value: transparent
	Axis          color.NRGBA // the centre line (zero value: none)
}

// DefaultPNG is the look of cached waveform images: a warm orange (the app accent) that reads on
// dark and light backgrounds, on transparency.
var DefaultPNG = PNGOptions{Width: 1200, Height: 160, Color: color.NRGBA{0xd0, 0x64, 0x3a, 0xff}, Axis: color.NRGBA{0xd0, 0x64, 0x3a, 0x50}}

// MaxImagePixels bounds PNG waveform sizes.
const MaxImagePixels = 40_000_000

// RenderPNG draws w (mixed to one channel, or one lane per channel when split).
func RenderPNG(w *Waveform, o PNGOptions, split bool) (*image.NRGBA, error) {
	if o.Width < 1 || o.Height < 2 || o.Width*o.Height > MaxImagePixels || o.Width > 1<<16 || o.Height > 1<<16 {
		return nil, fmt.Errorf("image size %dx%d is out of range (at most %d pixels)", o.Width, o.Height, MaxImagePixels)
	}
	img := image.NewNRGBA(image.Rect(0, 0, o.Width, o.Height))
	if o.Background.A != 0 {
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = o.Background.R, o.Background.G, o.Background.B, o.Background.A
		}
	}
	lanes := 1
	src := w
	if split && w.Channels > 1 {
		lanes = w.Channels
	} else {
		src = w.Mixed()
	}
	n := src.Length()
	laneH := o.Height / lanes
	for lane := 0; lane < lanes; lane++ {
		top := lane * laneH
		mid := top + laneH/2
		if o.Axis.A != 0 {
			for x := 0; x < o.Width; x++ {
				img.SetNRGBA(x, mid, o.Axis)
			}
		}
		if n == 0 {
			continue
		}
		half := float64(laneH) / 2
		for x := 0; x < o.Width; x++ {
			a := x * n / o.Width
			b := max((x+1)*n/o.Width, a+1)
			lo, hi := int16(32767), int16(-32768)
			for i := a; i < min(b, n); i++ {
				lo = min(lo, src.Data[i*2*src.Channels+2*lane])
				hi = max(hi, src.Data[i*2*src.Channels+2*lane+1])
			}
			if lo > hi {
				continue
			}
			y0 := mid - int(float64(hi)/32768*half+0.5)
			y1 := mid - int(float64(lo)/32768*half-0.5)
			y0 = max(y0, top)
			y1 = min(y1, top+laneH-1)
			for y := y0; y <= y1; y++ {
				img.SetNRGBA(x, y, o.Color)
			}
		}
	}
	return img, nil
}
