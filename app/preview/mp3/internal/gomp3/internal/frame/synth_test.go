package frame

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refSynth is go-mp3's synthesis filter bank for one channel (the matrixing
// by its definition, V as a shifted 1024-value FIFO), kept as the reference.
type refSynth struct{ v [1024]float32 }

func (r *refSynth) slot(s *[32]float32, out []float32) {
	copy(r.v[64:], r.v[:1024-64])
	for i := 0; i < 64; i++ {
		sum := 0.0
		for k := 0; k < 32; k++ {
			sum += math.Cos(float64((16+i)*(2*k+1))*math.Pi/64) * float64(s[k])
		}
		r.v[i] = float32(sum)
	}
	for j := 0; j < 32; j++ {
		sum := float32(0)
		for t := 0; t < 8; t++ {
			sum += r.v[128*t+j] * synthDtbl[64*t+j]
			sum += r.v[128*t+96+j] * synthDtbl[64*t+32+j]
		}
		out[j] = sum * 32767
	}
}

func TestDCT32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s, x [32]float32
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	dct32(&s, &x)
	for a := 0; a < 32; a++ {
		want := 0.0
		for k := 0; k < 32; k++ {
			want += float64(s[k]) * math.Cos(float64(a*(2*k+1))*math.Pi/64)
		}
		if d := math.Abs(float64(x[a]) - want); d > 1e-4*(1+math.Abs(want)) {
			t.Errorf("X[%d] = %g, want %g", a, x[a], want)
		}
	}
}

// TestSynthMatchesReference: the fast filter bank gives the reference's
// samples within one LSB (float32 rounding before rounding to int16).
func TestSynthMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ref refSynth
	var st synthState
	var s [32]float32
	want := make([]float32, 32)
	got := make([]int16, 64)
	worst := 0.0
	for slot := 0; slot < 200; slot++ {
		silent := slot%17 == 5
		for k := range s {
			s[k] = 0
			if !silent && k < 28 {
				s[k] = float32(rng.NormFloat64() * 0.1 / float64(1+k/4))
			}
		}
		ref.slot(&s, want)
		st.synthSlot(&s, silent, got, 2)
		for j := 0; j < 32; j++ {
			w := math.Max(-32768, math.Min(32767, math.RoundToEven(float64(want[j]))))
			d := math.Abs(float64(got[2*j]) - w)
			worst = math.Max(worst, d)
			if d > 1 {
				t.Fatalf("slot %d sample %d: %d, reference %g", slot, j, got[2*j], want[j])
			}
		}
	}
	t.Logf("worst difference %g LSB", worst)
}

func BenchmarkSynthSlot(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s [32]float32
	for k := range s {
		s[k] = float32(rng.NormFloat64() * 0.1)
	}
	var st synthState
	out := make([]int16, 64)
	for i := 0; i < b.N; i++ {
		st.synthSlot(&s, false, out, 2)
	}
}

func BenchmarkDCT32(b *testing.B) {
	var s, x [32]float32
	for k := range s {
		s[k] = float32(k) * 0.01
	}
	for i := 0; i < b.N; i++ {
		dct32(&s, &x)
		s[0] = x[1]
	}
}

// TestWindow17MatchesGo: the SSE windowing and rounding equal the Go ones
// (up to float32 rounding for the sums).
func TestWindow17MatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var h [17][32]float32
	for j := range h {
		for k := range h[j] {
			h[j][k] = float32(rng.NormFloat64())
		}
	}
	for pos := 0; pos < 16; pos++ {
		var y1, y2 [33]float32
		window17(&h, pos, &winLo, &winHi, &y1)
		window17Go(&h, pos, &winLo, &winHi, &y2)
		for j := 0; j < 32; j++ {
			if math.Abs(float64(y1[j]-y2[j])) > 1e-2 {
				t.Fatalf("pos %d, y[%d] = %g, Go %g", pos, j, y1[j], y2[j])
			}
		}
	}
	var y [33]float32
	for i, v := range []float32{0, 0.5, 1.5, -0.5, -1.5, 2.4, -2.6, 32766.6, 40000, -40000, 1e20, -1e20, 12.5, -7.49} {
		y[i] = v
	}
	for i := 14; i < 32; i++ {
		y[i] = float32(rng.NormFloat64() * 20000)
	}
	var o1, o2 [32]int16
	round16(&y, &o1)
	round16Go(&y, &o2)
	if o1 != o2 {
		t.Errorf("round16 %v, Go %v", o1, o2)
	}
}

func benchWindow(b *testing.B, f func(h *[17][32]float32, pos int, wl, wh *[17][16]float32, y *[33]float32)) {
	var h [17][32]float32
	var y [33]float32
	for i := 0; i < b.N; i++ {
		f(&h, i&15, &winLo, &winHi, &y)
	}
}

func BenchmarkWindow17(b *testing.B)   { benchWindow(b, window17) }
func BenchmarkWindow17Go(b *testing.B) { benchWindow(b, window17Go) }
