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

// widen interleaves samples of ch channels with extra silent channels: the
// general loops of Meter and PeakBuilder handle it, and silence adds nothing
// to either measurement.
func widen(s []int32, ch, extra int) []int32 {
	var out []int32
	for i := 0; i+ch <= len(s); i += ch {
		out = append(out, s[i:i+ch]...)
		out = append(out, make([]int32, extra)...)
	}
	return out
}

// TestFastPathsMatchGeneral: the mono and stereo loops of Meter.Add and
// PeakBuilder.Add give what the general per-channel loops give.
func TestFastPathsMatchGeneral(t *testing.T) {
	for _, ch := range []int{1, 2} {
		s := make([]int32, 44100*3*ch+7*ch)
		for i := range s {
			v := 20000*math.Sin(float64(i)*0.013+float64(i%ch)) + float64((i*7919)%3001-1500)
			s[i] = int32(v) << 16
		}
		s[100*ch] = 32767 << 16 // one clipped sample
		fast, gen := NewMeter(44100), NewMeter(44100)
		wide := widen(s, ch, 3-ch)
		for off := 0; off < len(s)/ch; off += 1000 { // uneven blocks: state carries across calls
			end := min(off+1000, len(s)/ch)
			fast.Add(s[off*ch:end*ch], ch)
			gen.Add(wide[off*3:end*3], 3)
		}
		a, b := fast.Result(), gen.Result()
		if math.Abs(a.Integrated-b.Integrated) > 1e-9 || math.Abs(a.Range-b.Range) > 1e-9 ||
			math.Abs(a.MomentaryMax-b.MomentaryMax) > 1e-9 || a.SamplePeak != b.SamplePeak || a.Clipped != b.Clipped || a.Clipped != 1 {
			t.Errorf("%d channels: fast %+v, general %+v", ch, a, b)
		}
		// Peaks: the mixed mono point of ch channels is their mean, the
		// general split loop gives each channel: compare with a direct
		// computation.
		pb, _ := NewPeakBuilder(256, false, 0)
		for off := 0; off < len(s); off += 999 * ch {
			pb.Add(s[off:min(off+999*ch, len(s))], ch)
		}
		w := pb.Waveform(44100)
		n := len(s) / ch
		if w.Length() != (n+255)/256 {
			t.Fatalf("%d channels: %d points, want %d", ch, w.Length(), (n+255)/256)
		}
		for p := 0; p < w.Length(); p++ {
			lo, hi := int16(32767), int16(-32768)
			for i := p * 256; i < min(n, (p+1)*256); i++ {
				sum := 0
				for c := 0; c < ch; c++ {
					sum += int(s[i*ch+c] >> 16)
				}
				v := int16(sum / ch)
				lo, hi = min(lo, v), max(hi, v)
			}
			if w.Data[2*p] != lo || w.Data[2*p+1] != hi {
				t.Fatalf("%d channels, point %d: %d..%d, want %d..%d", ch, p, w.Data[2*p], w.Data[2*p+1], lo, hi)
			}
		}
	}
}
