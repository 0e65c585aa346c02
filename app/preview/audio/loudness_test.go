package audio

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// Loudness of garbage, of a rate the K-weighting cannot filter, or of
// silence is reported without NaN or Inf, and encodes as JSON (issue 11,
// item 13).
func TestLoudnessNeverNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		rate         int
		noise        bool
		unmeasurable bool
	}{{1000, true, true}, {2000, false, true}, {8000, true, false}, {44100, true, false}, {48000, false, false}} {
		m := NewMeter(c.rate)
		buf := make([]int32, c.rate*5)
		if c.noise {
			for i := range buf {
				buf[i] = int32(rng.Uint32())
			}
		}
		m.Add(buf, 1)
		r := m.Result()
		for _, v := range []float64{r.Integrated, r.Range, r.MomentaryMax, r.ShortTermMax, r.SamplePeak} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("rate %d: %+v", c.rate, r)
			}
		}
		if (r.NotMeasurable != "") != c.unmeasurable {
			t.Errorf("rate %d: notMeasurable %q", c.rate, r.NotMeasurable)
		}
		if !c.noise && !c.unmeasurable && !r.Silent {
			t.Errorf("rate %d: silence not reported silent: %+v", c.rate, r)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("rate %d: %v", c.rate, err)
		}
	}
}
