package imdct

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestIMDCT36MatchesDefinition: the fast long-block IMDCT equals the
// windowed definition raw[p] = Σ in[m]·cos(π/72·(2p+19)(2m+1)).
func TestIMDCT36MatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, bt := range []int{0, 1, 3} {
		for trial := 0; trial < 50; trial++ {
			in := make([]float32, 18) // float32 rounding: within 2e-6 of Σ|in|
			for i := range in {
				in[i] = float32(rng.NormFloat64() * 1000)
			}
			scale := 0.0
			for _, v := range in {
				scale += math.Abs(float64(v))
			}
			var out [36]float32
			WinInto(&out, in, bt)
			for p := 0; p < 36; p++ {
				want := 0.0
				for m := 0; m < 18; m++ {
					want += float64(in[m]) * math.Cos(math.Pi/72*float64((2*p+19)*(2*m+1)))
				}
				want *= float64(imdctWinData[bt][p])
				if d := math.Abs(float64(out[p]) - want); d > 2e-6*scale {
					t.Fatalf("block type %d, out[%d] = %g, want %g", bt, p, out[p], want)
				}
			}
		}
	}
}
