package audio

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"atelier/app/preview/testmedia"
)

// BenchmarkAnalysisPerSecond measures peaks + loudness for one second of
// 44.1 kHz stereo audio: the work Atelier adds on top of decoding.
func BenchmarkAnalysisPerSecond(b *testing.B) {
	s := make([]int32, 44100*2)
	for i := range s {
		s[i] = int32(i*7919) << 8
	}
	m := NewMeter(44100)
	p, _ := NewPeakBuilder(256, false, 0)
	b.SetBytes(int64(len(s) * 2))
	for i := 0; i < b.N; i++ {
		m.Add(s, 2)
		p.Add(s, 2)
	}
}

// BenchmarkAnalyzeFile is `atelier preview FILE -o x.dat` (peaks, no
// loudness) without the
// process: decode, peaks and loudness of $ATELIER_BENCH_AUDIO (bench/
// preview.sh's MP3s; else a generated one), one decode segment at a time.
func BenchmarkAnalyzeFile(b *testing.B) {
	p := os.Getenv("ATELIER_BENCH_AUDIO")
	if p == "" { // a generated 20-second MP3
		dir := b.TempDir()
		wav := testmedia.Music(b, dir, "b.wav", 44100, 2, 20)
		p = testmedia.Lame(b, wav, filepath.Join(dir, "b.mp3"), "-b", "192")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Analyze(context.Background(), p, AnalyzeOptions{Options: Options{Workers: 1}, NoLoudness: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMeterMono measures the loudness meter alone on one second of
// 44.1 kHz mono (the podcast case).
func BenchmarkMeterMono(b *testing.B) {
	s := make([]int32, 44100)
	for i := range s {
		s[i] = int32(i*7919) << 8
	}
	m := NewMeter(44100)
	b.SetBytes(int64(len(s) * 2))
	for i := 0; i < b.N; i++ {
		m.Add(s, 1)
	}
}
