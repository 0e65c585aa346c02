package audio

import "testing"

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
