package thumb

import (
	"image"
	"image/color"
	"testing"

	"golang.org/x/image/draw"
)

// TestYCbCrRowsMatchColorModel: the row conversion gives image/color's
// bits for every subsampling ratio, also for sub-images at odd origins.
func TestYCbCrRowsMatchColorModel(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, r := range ratios {
		m := image.NewYCbCr(image.Rect(0, 0, 37, 23), r)
		for i := range m.Y {
			m.Y[i] = uint8(i*37 + i/7)
		}
		for i := range m.Cb {
			m.Cb[i] = uint8(i*91 + 3)
			m.Cr[i] = uint8(255 - i*53)
		}
		for _, sub := range []image.Rectangle{m.Rect, image.Rect(1, 1, 30, 20), image.Rect(3, 2, 4, 3)} {
			s := m.SubImage(sub).(*image.YCbCr)
			row := ycbcrRows(s)
			buf := make([]byte, 3*sub.Dx())
			for y := sub.Min.Y; y < sub.Max.Y; y++ {
				row(y-sub.Min.Y, buf)
				for x := sub.Min.X; x < sub.Max.X; x++ {
					want := color.RGBAModel.Convert(s.At(x, y)).(color.RGBA)
					i := 3 * (x - sub.Min.X)
					if g := (color.RGBA{buf[i], buf[i+1], buf[i+2], 255}); g != want {
						t.Fatalf("%v %v at (%d,%d): %v, want %v", r, sub, x, y, g, want)
					}
				}
			}
		}
	}
}

// TestShrinkMatchesXImage: the fixed-point shrink is x/image/draw's
// CatmullRom within rounding (at most 2 levels a channel, and mean error
// under 0.5) on a textured image, for several ratios, also enlarging one
// side's ratio to 1.
func TestShrinkMatchesXImage(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 301, 203))
	for y := 0; y < 203; y++ {
		for x := 0; x < 301; x++ {
			i := src.PixOffset(x, y)
			src.Pix[i] = uint8(x*7 + y*3)
			src.Pix[i+1] = uint8((x * y) % 251)
			src.Pix[i+2] = uint8(128 + (x%13)*9 - (y%7)*11)
			src.Pix[i+3] = 255
		}
	}
	for _, sz := range [][2]int{{150, 101}, {200, 135}, {77, 52}, {301, 100}, {1, 1}} {
		tw, th := sz[0], sz[1]
		got := shrinkOpaque(301, 203, tw, th, rgbaRows(src))
		if worst, mean := diffFromXImage(got, src); worst > 2 || mean > 0.5 {
			t.Errorf("%d×%d: worst difference %d, mean %.3f", tw, th, worst, mean)
		}
	}
}

// TestShrinkOnTwoCoresMatchesXImage: a shrink large enough to run on two
// goroutines (run under -race too) gives the same result, from RGBA and
// from YCbCr rows.
func TestShrinkOnTwoCoresMatchesXImage(t *testing.T) {
	const w, h, tw, th = 1200, 640, 450, 240 // w·h over the two-core threshold
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	ycc := image.NewYCbCr(rgba.Rect, image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := rgba.PixOffset(x, y)
			rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3] = uint8(x*7+y*3), uint8((x*y)%251), uint8(128+(x%13)*9-(y%7)*11), 255
			ycc.Y[ycc.YOffset(x, y)] = uint8(x*5 + y*3 + (x*y)%17)
			ycc.Cb[ycc.COffset(x, y)] = uint8(100 + x/16)
			ycc.Cr[ycc.COffset(x, y)] = uint8(90 + y/8)
		}
	}
	for name, c := range map[string]struct {
		src image.Image
		row func(int, []byte)
	}{"rgba": {rgba, rgbaRows(rgba)}, "ycbcr": {ycc, ycbcrRows(ycc)}} {
		got := shrinkOpaque(w, h, tw, th, c.row)
		if worst, mean := diffFromXImage(got, c.src); worst > 2 || mean > 0.5 {
			t.Errorf("%s: worst difference %d, mean %.3f", name, worst, mean)
		}
	}
}

// diffFromXImage compares got with x/image/draw's Catmull-Rom scaling of src
// to got's size: the largest and the mean absolute difference per channel.
func diffFromXImage(got *image.RGBA, src image.Image) (worst int, mean float64) {
	want := image.NewRGBA(got.Rect)
	draw.CatmullRom.Scale(want, want.Bounds(), src, src.Bounds(), draw.Src, nil)
	sum := 0
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		if d < 0 {
			d = -d
		}
		sum += d
		worst = max(worst, d)
	}
	return worst, float64(sum) / float64(len(got.Pix))
}
