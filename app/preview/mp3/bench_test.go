package mp3

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"atelier/app/preview/testmedia"
)

// benchFile is $ATELIER_BENCH_MP3 (bench/preview.sh sets a 10-minute file) or
// a generated 20-second one.
func benchFile(b *testing.B) []byte {
	if p := os.Getenv("ATELIER_BENCH_MP3"); p != "" {
		return testmedia.Read(b, p)
	}
	dir := b.TempDir()
	wav := testmedia.Music(b, dir, "b.wav", 44100, 2, 20)
	return testmedia.Read(b, testmedia.Lame(b, wav, filepath.Join(dir, "b.mp3"), "-b", "192"))
}

func benchDecode(b *testing.B, workers int) {
	data := benchFile(b)
	st, err := Scan(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(context.Background(), data, st, Options{Workers: workers}, func([]int16) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(st.Duration().Seconds()*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

func BenchmarkDecodeSequential(b *testing.B) { benchDecode(b, 1) }
func BenchmarkDecodeParallel(b *testing.B)   { benchDecode(b, 0) }

func BenchmarkScan(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := Scan(data); err != nil {
			b.Fatal(err)
		}
	}
}
