package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The full-size decode (Atelier's sequential entropy decoder: 64-bit
// accumulator, multi-byte refills, one-lookup codes) gives exactly the
// pixels of the standard library's image/jpeg, which it was forked from,
// on noisy photos (long codes, many 0xff bytes to unstuff, data spanning
// many reads) with and without restart intervals.
func TestFullDecodeMatchesImageJPEG(t *testing.T) {
	convert, err := exec.LookPath("convert")
	if err != nil {
		t.Fatal("ImageMagick's convert is needed to make the test JPEGs (make test installs it)")
	}
	dir := t.TempDir()
	cases := map[string][]string{
		"4:2:0 q92":          {"-sampling-factor", "2x2", "-quality", "92"},
		"4:4:4 q100":         {"-sampling-factor", "1x1", "-quality", "100"},
		"4:2:2 restart":      {"-sampling-factor", "2x1", "-quality", "85", "-define", "jpeg:restart-interval=2"},
		"grayscale q95":      {"-colorspace", "Gray", "-quality", "95"},
		"4:2:0 q40 optimize": {"-sampling-factor", "2x2", "-quality", "40", "-define", "jpeg:optimize-coding=true"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(dir, "out.jpg")
			cmd := append([]string{"-size", "200x150", "plasma:fractal", "-resize", "1203x901!", "-attenuate", "0.6", "+noise", "Gaussian"}, args...)
			if out, err := exec.Command(convert, append(cmd, dst)...).CombinedOutput(); err != nil {
				t.Fatalf("convert: %v: %s", err, out)
			}
			data, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(data, []byte{0xff, 0x00}); n < 100 {
				t.Fatalf("the test photo has only %d stuffed bytes", n)
			}
			got, err := Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := samePixels(got, want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func samePixels(got, want image.Image) error {
	if got.Bounds() != want.Bounds() {
		return fmt.Errorf("decoded as %v, image/jpeg gives %v", got.Bounds(), want.Bounds())
	}
	switch w := want.(type) {
	case *image.YCbCr:
		g, ok := got.(*image.YCbCr)
		if !ok || g.SubsampleRatio != w.SubsampleRatio {
			return fmt.Errorf("decoded as %T, image/jpeg gives %T %v", got, want, w.SubsampleRatio)
		}
		b := w.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := w.YOffset(x, y), w.COffset(x, y)
				if g.Y[g.YOffset(x, y)] != w.Y[yi] || g.Cb[g.COffset(x, y)] != w.Cb[ci] || g.Cr[g.COffset(x, y)] != w.Cr[ci] {
					return fmt.Errorf("pixel (%d,%d) differs from image/jpeg's", x, y)
				}
			}
		}
	case *image.Gray:
		g, ok := got.(*image.Gray)
		if !ok {
			return fmt.Errorf("decoded as %T, image/jpeg gives %T", got, want)
		}
		b := w.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if g.GrayAt(x, y) != w.GrayAt(x, y) {
					return fmt.Errorf("pixel (%d,%d) differs from image/jpeg's", x, y)
				}
			}
		}
	default:
		return fmt.Errorf("image/jpeg gives %T: not compared", want)
	}
	return nil
}
