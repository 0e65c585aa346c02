package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// serialDecoders are the serial decodes DecodeScaled must equal, by scale.
var serialDecoders = map[int]func(io.Reader) (image.Image, error){
	1: Decode, 2: DecodeHalf, 4: DecodeQuarter, 8: DecodeEighth,
}

// sameImage reports whether a and b are the same image, type and bytes.
func sameImage(a, b image.Image) error {
	if a.Bounds() != b.Bounds() {
		return fmt.Errorf("bounds %v, serial %v", a.Bounds(), b.Bounds())
	}
	switch x := a.(type) {
	case *image.YCbCr:
		y, ok := b.(*image.YCbCr)
		if !ok || x.SubsampleRatio != y.SubsampleRatio {
			return fmt.Errorf("%T, serial %T", a, b)
		}
		for _, p := range [][2][]byte{{x.Y, y.Y}, {x.Cb, y.Cb}, {x.Cr, y.Cr}} {
			if !bytes.Equal(p[0], p[1]) {
				return firstDiff(p[0], p[1])
			}
		}
	case *image.Gray:
		y, ok := b.(*image.Gray)
		if !ok {
			return fmt.Errorf("%T, serial %T", a, b)
		}
		if !bytes.Equal(x.Pix, y.Pix) {
			return firstDiff(x.Pix, y.Pix)
		}
	case *image.RGBA:
		y, ok := b.(*image.RGBA)
		if !ok || !bytes.Equal(x.Pix, y.Pix) {
			return fmt.Errorf("RGBA pixels differ")
		}
	case *image.CMYK:
		y, ok := b.(*image.CMYK)
		if !ok || !bytes.Equal(x.Pix, y.Pix) {
			return fmt.Errorf("CMYK pixels differ")
		}
	default:
		return fmt.Errorf("%T: not compared", a)
	}
	return nil
}

func firstDiff(a, b []byte) error {
	for i := range a {
		if a[i] != b[i] {
			return fmt.Errorf("byte %d of %d differs: %d, serial %d", i, len(a), a[i], b[i])
		}
	}
	return fmt.Errorf("lengths %d and %d", len(a), len(b))
}

// checkParallel decodes data at every scale with DecodeScaled and serially:
// the same image or the same error.
func checkParallel(t *testing.T, data []byte) {
	t.Helper()
	for _, scale := range []int{8, 4, 2, 1} {
		want, werr := serialDecoders[scale](bytes.NewReader(data))
		got, gerr := DecodeScaled(data, scale)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("1/%d: error %v, serial %v", scale, gerr, werr)
		}
		if werr != nil {
			continue
		}
		if err := sameImage(got, want); err != nil {
			t.Fatalf("1/%d: %v", scale, err)
		}
	}
}

// lowParBlocks splits every scan, however small, for the test.
func lowParBlocks(t testing.TB) {
	old, all := minParBlocks, parAllScales
	minParBlocks, parAllScales = 2, true
	t.Cleanup(func() { minParBlocks, parAllScales = old, all })
}

// The two-goroutine decode gives the serial decode's pixels at every scale,
// for every subsampling, grayscale, noise, restart intervals (B starts
// after a restart marker) and a tiny image; and it does split (syncs) on
// the photos.
func TestParallelMatchesSerial(t *testing.T) {
	convert, err := exec.LookPath("convert")
	if err != nil {
		t.Fatal("ImageMagick's convert is needed to make the test JPEGs (make test installs it)")
	}
	lowParBlocks(t)
	dir := t.TempDir()
	plasma := []string{"-size", "200x150", "plasma:fractal", "-resize", "%s!", "-attenuate", "0.6", "+noise", "Gaussian"}
	noise := []string{"-size", "%s", "xc:gray", "+noise", "Random"}
	cases := []struct {
		name, size string
		src, args  []string
		split      bool
	}{
		{"4:2:0 q92", "1203x901", plasma, []string{"-sampling-factor", "2x2", "-quality", "92"}, true},
		{"4:4:4 q100", "803x601", plasma, []string{"-sampling-factor", "1x1", "-quality", "100"}, true},
		{"4:2:2 q85", "1000x700", plasma, []string{"-sampling-factor", "2x1", "-quality", "85"}, true},
		{"grayscale q95", "1203x901", plasma, []string{"-colorspace", "Gray", "-quality", "95"}, true},
		{"4:2:0 q40 optimize", "1600x1200", plasma, []string{"-sampling-factor", "2x2", "-quality", "40", "-define", "jpeg:optimize-coding=true"}, true},
		{"noise 4:2:0", "640x480", noise, []string{"-sampling-factor", "2x2", "-quality", "90"}, true},
		{"noise gray q100", "500x400", noise, []string{"-colorspace", "Gray", "-quality", "100"}, true},
		{"4:2:0 restart", "800x600", plasma, []string{"-sampling-factor", "2x2", "-quality", "85", "-define", "jpeg:restart-interval=3"}, true},
		{"4:4:4 restart every MCU", "640x480", plasma, []string{"-sampling-factor", "1x1", "-quality", "95", "-define", "jpeg:restart-interval=1"}, true},
		{"gray noise restart", "500x400", noise, []string{"-colorspace", "Gray", "-quality", "90", "-define", "jpeg:restart-interval=7"}, true},
		{"CMYK", "640x480", plasma, []string{"-colorspace", "CMYK", "-quality", "90"}, true},
		{"tiny", "9x7", plasma, []string{"-sampling-factor", "2x2", "-quality", "90"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string(nil), c.src...)
			for i, a := range args {
				if a == "%s!" || a == "%s" {
					args[i] = fmt.Sprintf(a, c.size)
				}
			}
			dst := filepath.Join(dir, "p.jpg")
			if out, err := exec.Command(convert, append(append(args, c.args...), dst)...).CombinedOutput(); err != nil {
				t.Fatalf("convert: %v: %s", err, out)
			}
			data, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			before := parStats.synced.Load()
			checkParallel(t, data)
			if synced := parStats.synced.Load() - before; c.split && synced < 4 {
				t.Errorf("%d of 4 scales decoded on two goroutines (fell back: %d)", synced, parStats.fellBack.Load())
			}
		})
	}
}

// FuzzDecodeScaled: on any input, the two-goroutine decode (every scan
// split) gives the serial decode's image or its error, and it returns (B
// never outlives the call).
func FuzzDecodeScaled(f *testing.F) {
	for _, size := range []image.Rectangle{image.Rect(0, 0, 64, 48), image.Rect(0, 0, 203, 101)} {
		var buf bytes.Buffer
		jpeg.Encode(&buf, photo().SubImage(size), &jpeg.Options{Quality: 90})
		f.Add(buf.Bytes())
		buf.Reset()
		gray := image.NewGray(size)
		for i := range gray.Pix {
			gray.Pix[i] = uint8(i * 7 % 251)
		}
		jpeg.Encode(&buf, gray, &jpeg.Options{Quality: 100})
		f.Add(buf.Bytes())
	}
	f.Add([]byte("\xff\xd8\xff\xd9"))
	lowParBlocks(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		goroutines := runtime.NumGoroutine()
		checkParallel(t, b)
		noLeak(t, goroutines)
	})
}

// On damaged data (bytes changed in the scan, the file cut short) the
// two-goroutine decode still gives the serial decode's image or error:
// B's garbage, restarts and failures after the sync point fall back.
func TestParallelDamagedMatchesSerial(t *testing.T) {
	lowParBlocks(t)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo().SubImage(image.Rect(0, 0, 203, 101)), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	seeds := [][]byte{buf.Bytes()}
	// With restart intervals too (B starts after a marker).
	convert, err := exec.LookPath("convert")
	if err != nil {
		t.Fatal("ImageMagick's convert is needed to make the test JPEGs (make test installs it)")
	}
	dst := filepath.Join(t.TempDir(), "dri.jpg")
	if out, err := exec.Command(convert, "-size", "203x101", "plasma:fractal", "-quality", "90", "-define", "jpeg:restart-interval=2", dst).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v: %s", err, out)
	}
	dri, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, dri)
	rng := rand.New(rand.NewSource(1))
	before := parStats.synced.Load()
	for i := 0; i < 400; i++ {
		seed := seeds[i%2]
		b := append([]byte(nil), seed...)
		for k := 0; k < 1+rng.Intn(4); k++ {
			b[600+rng.Intn(len(b)-600)] = byte(rng.Intn(256))
		}
		if rng.Intn(3) == 0 {
			b = b[:600+rng.Intn(len(b)-600)]
		}
		goroutines := runtime.NumGoroutine()
		checkParallel(t, b)
		noLeak(t, goroutines)
	}
	if parStats.synced.Load() == before {
		t.Error("no damaged file decoded on two goroutines")
	}
}

// noLeak fails when more goroutines than before run a second after the
// decodes returned (B ends just after its last report, not before).
func noLeak(t *testing.T, before int) {
	t.Helper()
	for wait := time.Millisecond; ; wait *= 2 {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if wait > time.Second {
			t.Fatalf("%d goroutines after the decodes, %d before", n, before)
		}
		time.Sleep(wait)
	}
}
