package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// photo is a photo-like test image, 803×601 so the size is no multiple of 8
// or 16.
func photo() *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 803, 601))
	for y := 0; y < 601; y++ {
		for x := 0; x < 803; x++ {
			// Smooth colour (as in photographs, where chroma is what
			// 4:2:0 keeps at half resolution), textured brightness.
			tex := float64((x*7+y*13)%31) - 15
			r := 128 + 90*math.Sin(float64(x)/60) + tex
			g := 128 + 90*math.Cos(float64(y)/45) + tex
			b := 128 + 60*math.Sin(float64(x+y)/80) + tex
			m.Set(x, y, color.NRGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return m
}

// box averages k×k blocks of the full-size decode: what the scaled decodes
// must give (but for rounding and clamping).
func box(m image.Image, k int) *image.NRGBA {
	b := m.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, (b.Dx()+k-1)/k, (b.Dy()+k-1)/k))
	for by := 0; by < out.Rect.Dy(); by++ {
		for bx := 0; bx < out.Rect.Dx(); bx++ {
			var s [3]float64
			n := 0.0
			for y := by * k; y < min(by*k+k, b.Dy()); y++ {
				for x := bx * k; x < min(bx*k+k, b.Dx()); x++ {
					c := color.NRGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
					s[0] += float64(c.R)
					s[1] += float64(c.G)
					s[2] += float64(c.B)
					n++
				}
			}
			out.SetNRGBA(bx, by, color.NRGBA{uint8(s[0]/n + 0.5), uint8(s[1]/n + 0.5), uint8(s[2]/n + 0.5), 255})
		}
	}
	return out
}

// The 1/8, 1/4 and 1/2 decodes equal the k×k block means of the full decode,
// plane by plane, across baseline, progressive, restart intervals, chroma
// subsampling, grayscale and CMYK files.
func TestScaledDecodesMatchBlockMeans(t *testing.T) {
	convert, err := exec.LookPath("convert")
	if err != nil {
		t.Fatal("ImageMagick's convert is needed to make the test JPEGs (make test installs it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.png")
	var buf bytes.Buffer
	png.Encode(&buf, photo())
	os.WriteFile(src, buf.Bytes(), 0o600)
	cases := map[string][]string{
		"baseline 4:2:0":    {"-sampling-factor", "2x2", "-quality", "90"},
		"baseline 4:4:4":    {"-sampling-factor", "1x1", "-quality", "90"},
		"4:2:2 restart":     {"-sampling-factor", "2x1", "-define", "jpeg:restart-interval=3"},
		"progressive 4:2:0": {"-interlace", "JPEG", "-sampling-factor", "2x2"},
		"grayscale":         {"-colorspace", "Gray"},
		"cmyk":              {"-colorspace", "CMYK"},
	}
	scales := []struct {
		k      int
		decode func(io.Reader) (image.Image, error)
	}{{8, DecodeEighth}, {4, DecodeQuarter}, {2, DecodeHalf}}
	for name, args := range cases {
		for _, sc := range scales {
			t.Run(fmt.Sprintf("%s 1/%d", name, sc.k), func(t *testing.T) {
				k := sc.k
				dst := filepath.Join(dir, "out.jpg")
				if out, err := exec.Command(convert, append(append([]string{src}, args...), dst)...).CombinedOutput(); err != nil {
					t.Fatalf("convert: %v: %s", err, out)
				}
				data, _ := os.ReadFile(dst)
				full, err := Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				small, err := sc.decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := small.Bounds(), image.Rect(0, 0, (803+k-1)/k, (601+k-1)/k); got != want {
					t.Fatalf("1/%d decode is %v, want %v", k, got, want)
				}
				if _, ok := full.(*image.YCbCr); ok {
					// Colour: plane by plane (each 1/k sample is the mean of a
					// k×k block of its own plane, chroma included; whole
					// planes, padding included: it is decoded too).
					if err := nearBlockMeans(small, full, k); err != nil {
						t.Errorf("%s: %v", name, err)
					}
					return
				}
				ref := box(full, k)
				var sum, worst float64
				n := 0
				for y := 0; y < ref.Rect.Dy(); y++ {
					for x := 0; x < ref.Rect.Dx(); x++ {
						a := color.NRGBAModel.Convert(small.At(x, y)).(color.NRGBA)
						b := ref.NRGBAAt(x, y)
						for _, d := range []float64{float64(a.R) - float64(b.R), float64(a.G) - float64(b.G), float64(a.B) - float64(b.B)} {
							sum += math.Abs(d)
							worst = max(worst, math.Abs(d))
							n++
						}
					}
				}
				mean := sum / float64(n)
				t.Logf("%s: mean |diff| %.2f, max %.0f (8-bit levels)", name, mean, worst)
				if mean > 1.5 || worst > 8 {
					t.Errorf("1/%d decode strays from the box-filtered full decode: mean %.2f, max %.0f", k, mean, worst)
				}
			})
		}
	}
}

func FuzzDecodeEighth(f *testing.F) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, photo().SubImage(image.Rect(0, 0, 40, 30)), nil)
	f.Add(buf.Bytes())
	f.Add([]byte("\xff\xd8\xff\xd9"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width*cfg.Height > 1<<22 {
			return
		}
		m, err := DecodeEighth(bytes.NewReader(b))
		if err == nil && (m.Bounds().Dx() != (cfg.Width+7)/8 || m.Bounds().Dy() != (cfg.Height+7)/8) {
			t.Fatalf("1/8 of %d×%d decoded as %v", cfg.Width, cfg.Height, m.Bounds())
		}
		m, err = DecodeQuarter(bytes.NewReader(b))
		if err == nil && (m.Bounds().Dx() != (cfg.Width+3)/4 || m.Bounds().Dy() != (cfg.Height+3)/4) {
			t.Fatalf("1/4 of %d×%d decoded as %v", cfg.Width, cfg.Height, m.Bounds())
		}
		m, err = DecodeHalf(bytes.NewReader(b))
		if err == nil && (m.Bounds().Dx() != (cfg.Width+1)/2 || m.Bounds().Dy() != (cfg.Height+1)/2) {
			t.Fatalf("1/2 of %d×%d decoded as %v", cfg.Width, cfg.Height, m.Bounds())
		}
	})
}
