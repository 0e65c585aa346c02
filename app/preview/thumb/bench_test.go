package thumb

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"atelier/app/preview/thumb/internal/jpegscale"
)

// benchPhoto is a w×h JPEG with smooth colour and textured brightness.
func benchPhoto(b *testing.B, w, h int) []byte {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Y[y*m.YStride+x] = uint8(x*3 + y*5 + (x*y)%23)
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			m.Cb[y*m.CStride+x] = uint8(128 + x/64)
			m.Cr[y*m.CStride+x] = uint8(100 + y/64)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchMake(b *testing.B, w, h int) {
	data := benchPhoto(b, w, h)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Make(data, []int{Large, Small}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// 24 MP (6000×4000): the 1/4 decode (1500 px) covers Large.
func BenchmarkMake24MP(b *testing.B) { benchMake(b, 6000, 4000) }

// 6 MP (3000×2000): a quarter (750 px) is short of Large: the 1/2 decode.
func BenchmarkMake6MP(b *testing.B) { benchMake(b, 3000, 2000) }

// 45 MP (8256×5504): the 1/8 decode (1032 px) covers Large.
func BenchmarkMake45MP(b *testing.B) { benchMake(b, 8256, 5504) }

func benchDecode(b *testing.B, decode func(io.Reader) (image.Image, error)) {
	data := benchPhoto(b, 6000, 4000)
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// cpuTime is the process's user+sys time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time an op took since cpuTime gave since (all
// goroutines: what the parallel decode must not inflate much), beside the
// wall time that the machine's other load disturbs more.
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime()-since)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func BenchmarkDecode24MPFull(b *testing.B)    { benchDecode(b, jpegscale.Decode) }
func BenchmarkDecode24MPQuarter(b *testing.B) { benchDecode(b, jpegscale.DecodeQuarter) }
func BenchmarkDecode24MPEighth(b *testing.B)  { benchDecode(b, jpegscale.DecodeEighth) }

// DecodeScaled: the same decodes with the entropy decoding split between
// two goroutines (the serial ones above are its peers).
func BenchmarkDecode24MPQuarterParallel(b *testing.B) { benchDecodeScaled(b, 4) }
func BenchmarkDecode24MPEighthParallel(b *testing.B)  { benchDecodeScaled(b, 8) }

func benchDecodeScaled(b *testing.B, scale int) {
	data := benchPhoto(b, 6000, 4000)
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := jpegscale.DecodeScaled(data, scale); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkMakeFile is `atelier preview photo.jpg` (one Large thumbnail) of
// $ATELIER_BENCH_JPEG (bench/preview.sh's photos), or of a generated 24 MP
// photo.
func BenchmarkMakeFile(b *testing.B) {
	var data []byte
	if p := os.Getenv("ATELIER_BENCH_JPEG"); p != "" {
		var err error
		if data, err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	} else {
		data = benchPhoto(b, 6000, 4000)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Make(data, []int{Large}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
