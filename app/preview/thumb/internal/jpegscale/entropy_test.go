package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
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
			// The 1/8 decode skips the AC codes several a lookup
			// (huffman.skip): it must stay in step with the data, its
			// pixels the 8×8 means of the full decode.
			eighth, err := DecodeEighth(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("1/8 decode: %v", err)
			}
			if err := nearBlockMeans(eighth, want, 8); err != nil {
				t.Fatalf("1/8 decode: %v", err)
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

// nearBlockMeans checks that small's samples are the k×k block means of
// full's (plane by plane for YCbCr): within 1 on average, 8 at most.
func nearBlockMeans(small, full image.Image, k int) error {
	type plane struct {
		name       string
		full, tiny []byte
		fs, ts     int
	}
	var planes []plane
	switch f := full.(type) {
	case *image.YCbCr:
		s, ok := small.(*image.YCbCr)
		if !ok {
			return fmt.Errorf("decoded as %T", small)
		}
		planes = []plane{{"Y", f.Y, s.Y, f.YStride, s.YStride}, {"Cb", f.Cb, s.Cb, f.CStride, s.CStride}, {"Cr", f.Cr, s.Cr, f.CStride, s.CStride}}
	case *image.Gray:
		s, ok := small.(*image.Gray)
		if !ok {
			return fmt.Errorf("decoded as %T", small)
		}
		planes = []plane{{"gray", f.Pix, s.Pix, f.Stride, s.Stride}}
	default:
		return fmt.Errorf("%T: not compared", full)
	}
	for _, pl := range planes {
		w, h := pl.ts, len(pl.tiny)/pl.ts
		var sum, worst float64
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var acc, n float64
				for yy := y * k; yy < y*k+k && yy*pl.fs < len(pl.full); yy++ {
					for xx := x * k; xx < x*k+k && xx < pl.fs; xx++ {
						acc += float64(pl.full[yy*pl.fs+xx])
						n++
					}
				}
				if n == 0 {
					continue
				}
				d := math.Abs(float64(pl.tiny[y*pl.ts+x]) - acc/n)
				sum += d
				worst = max(worst, d)
			}
		}
		if mean := sum / float64(w*h); mean > 1 || worst > 8 {
			return fmt.Errorf("%s plane strays from the block means of the full decode: mean %.2f, max %.1f", pl.name, mean, worst)
		}
	}
	return nil
}
