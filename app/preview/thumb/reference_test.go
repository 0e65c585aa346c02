package thumb

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
)

// A JPEG thumbnail made through each reduced decode (1/8, 1/4, 1/2: chosen
// by the photo's size) and the two-step shrink looks like the reference:
// the standard library's full decode scaled by x/image/draw's Catmull-Rom.
func TestJPEGThumbnailMatchesReference(t *testing.T) {
	convert, err := exec.LookPath("convert")
	if err != nil {
		t.Fatal("ImageMagick's convert is needed to make the test JPEGs (make test installs it)")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		w, h int
		path string  // the decode Make takes for Small
		max  float64 // mean |difference| allowed (seen: 1.1, 1.2, 0.9, 0.2)
	}{{1600, 1066, "1/8", 1.4}, {800, 533, "1/4", 1.4}, {400, 266, "1/2", 1.2}, {300, 200, "full", 0.4}} {
		t.Run(fmt.Sprintf("%d×%d %s", c.w, c.h, c.path), func(t *testing.T) {
			p := filepath.Join(dir, "p.jpg")
			// smooth colour with mild noise, 4:2:0 at quality 92
			if out, err := exec.Command(convert, "-seed", "7", "-size", "160x107", "plasma:fractal", "-blur", "0x2", "-resize", fmt.Sprintf("%dx%d!", c.w, c.h),
				"-attenuate", "0.2", "+noise", "Gaussian", "-sampling-factor", "2x2", "-quality", "92", p).CombinedOutput(); err != nil {
				t.Fatalf("convert: %v: %s", err, out)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			_, thumbs, err := Make(data, []int{Small}, Options{Ext: ".png"}) // lossless: only the decode and the shrink differ
			if err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(bytes.NewReader(thumbs[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			full, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want := image.NewRGBA(got.Bounds())
			draw.CatmullRom.Scale(want, want.Bounds(), full, full.Bounds(), draw.Src, nil)
			var sum, n float64
			for y := 0; y < want.Rect.Dy(); y++ {
				for x := 0; x < want.Rect.Dx(); x++ {
					r, g, b, _ := got.At(x, y).RGBA()
					w := want.RGBAAt(x, y)
					for i, v := range []uint32{r >> 8, g >> 8, b >> 8} {
						d := float64(v) - float64([]uint8{w.R, w.G, w.B}[i])
						if d < 0 {
							d = -d
						}
						sum += d
						n++
					}
				}
			}
			mean := sum / n
			t.Logf("%v thumbnail: mean |diff| %.2f (8-bit levels) from the reference", got.Bounds().Size(), mean)
			if mean > c.max {
				t.Errorf("the thumbnail strays from the reference: mean |diff| %.2f", mean)
			}
		})
	}
}
