package audio

import (
	"fmt"
	"math"
	"slices"
)

// Loudness is an EBU R128 / ITU-R BS.1770-4 measurement.
type Loudness struct {
	Integrated   float64 `json:"integrated"`   // LUFS (−70 when everything is below the absolute gate)
	Range        float64 `json:"range"`        // LRA in LU (EBU Tech 3342)
	MomentaryMax float64 `json:"momentaryMax"` // LUFS, 400 ms windows
	ShortTermMax float64 `json:"shortTermMax"` // LUFS, 3 s windows
	SamplePeak   float64 `json:"samplePeak"`   // dBFS
	Clipped      int64   `json:"clipped"`      // samples at digital full scale
	Silent       bool    `json:"silent,omitempty"`
	// NotMeasurable says why the loudness could not be measured (a sample
	// rate too low for the K-weighting filter, or samples that drive it out
	// of range); Integrated, Range, MomentaryMax and ShortTermMax are then 0
	// and mean nothing. Empty when the measurement holds. No field is ever
	// NaN or infinite.
	NotMeasurable string `json:"notMeasurable,omitempty"`
}

// MinRate is the lowest sample rate loudness is measured at: the
// K-weighting's high shelf sits at 1.68 kHz and needs a Nyquist frequency
// above it.
const MinRate = 4000

// Floor is the loudness reported for silence.
const Floor = -70.0

type biquad struct{ b0, b1, b2, a1, a2 float64 }

// kWeighting returns the BS.1770 pre-filter (high shelf) and RLB high-pass
// for any sample rate (coefficients derived as in libebur128).
func kWeighting(rate float64) (shelf, hp biquad) {
	f0, g, q := 1681.974450955533, 3.999843853973347, 0.7071752369554196
	k := math.Tan(math.Pi * f0 / rate)
	vh := math.Pow(10, g/20)
	vb := math.Pow(vh, 0.4996667741545416)
	a0 := 1 + k/q + k*k
	shelf = biquad{(vh + vb*k/q + k*k) / a0, 2 * (k*k - vh) / a0, (vh - vb*k/q + k*k) / a0, 2 * (k*k - 1) / a0, (1 - k/q + k*k) / a0}
	f0, q = 38.13547087602444, 0.5003270373238773
	k = math.Tan(math.Pi * f0 / rate)
	d := 1 + k/q + k*k
	hp = biquad{1, -2, 1, 2 * (k*k - 1) / d, (1 - k/q + k*k) / d}
	return
}

// channelWeight is the BS.1770 weight of channel c of n (LFE excluded,
// surrounds +1.5 dB) for the usual WAV channel orders.
func channelWeight(c, n int) float64 {
	switch n {
	case 5: // L R C Ls Rs
		if c >= 3 {
			return 1.41
		}
	case 6, 8: // L R C LFE Ls Rs (Lb Rb)
		if c == 3 {
			return 0
		}
		if c >= 4 {
			return 1.41
		}
	}
	return 1
}

// Meter measures loudness as samples stream through it.
type Meter struct {
	rate     int
	channels int
	shelf    biquad
	hp       biquad
	state    [][8]float64 // per channel: x1 x2 y1 y2 (shelf), y1 y2 z1 z2 (hp)
	weights  []float64
	step     int // samples per 100 ms
	n        int // samples in the current sub-block
	acc      float64
	subs     []float64 // weighted sum of squares per 100 ms sub-block
	peak     int64
	clipped  int64
	tooSlow  bool // rate below MinRate: peaks only
}

// NewMeter measures audio at the given sample rate.
func NewMeter(rate int) *Meter {
	m := &Meter{rate: rate, step: max(1, int(math.Round(float64(rate)/10)))}
	if rate < MinRate {
		m.tooSlow = true
		return m
	}
	m.shelf, m.hp = kWeighting(float64(rate))
	return m
}

const clipLevel = 32767 << 16

// Add consumes interleaved samples (a Sink).
func (m *Meter) Add(samples []int32, channels int) error {
	if m.channels == 0 {
		m.channels = channels
		m.state = make([][8]float64, channels)
		m.weights = make([]float64, channels)
		for c := range m.weights {
			m.weights[c] = channelWeight(c, channels)
		}
	}
	const scale = 1.0 / 2147483648
	if !m.tooSlow && channels <= 2 {
		// Mono and stereo (every channel weighted 1): the same arithmetic
		// in the same order as the general loop below, with the filter
		// state in registers and the high-pass's numerator (1, -2, 1)
		// written out (exact: the products are by powers of two).
		if channels == 1 {
			m.addMono(samples)
		} else {
			m.addStereo(samples)
		}
		m.undenormal()
		return nil
	}
	s, h := m.shelf, m.hp
	for i := 0; i+channels <= len(samples); i += channels {
		var sum float64
		for c := 0; c < channels; c++ {
			v := samples[i+c]
			a := int64(v)
			if a < 0 {
				a = -a
			}
			if a > m.peak {
				m.peak = a
			}
			if a >= clipLevel {
				m.clipped++
			}
			if m.weights[c] == 0 || m.tooSlow {
				continue
			}
			st := &m.state[c]
			x := float64(v) * scale
			y := s.b0*x + s.b1*st[0] + s.b2*st[1] - s.a1*st[2] - s.a2*st[3]
			st[1], st[0] = st[0], x
			st[3], st[2] = st[2], y
			z := h.b0*y + h.b1*st[4] + h.b2*st[5] - h.a1*st[6] - h.a2*st[7]
			st[5], st[4] = st[4], y
			st[7], st[6] = st[6], z
			sum += m.weights[c] * z * z
		}
		m.acc += sum
		m.n++
		if m.n == m.step {
			m.subs = append(m.subs, m.acc)
			m.acc, m.n = 0, 0
		}
	}
	m.undenormal()
	return nil
}

// undenormal keeps the filters out of denormal territory during silence.
func (m *Meter) undenormal() {
	for c := range m.state {
		for k := range m.state[c] {
			if math.Abs(m.state[c][k]) < 1e-30 {
				m.state[c][k] = 0
			}
		}
	}
}

// addMono is Add for one channel.
func (m *Meter) addMono(samples []int32) {
	const scale = 1.0 / 2147483648
	s, h := m.shelf, m.hp
	st := &m.state[0]
	x1, x2, y1, y2, hy1, hy2, z1, z2 := st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]
	peak, clipped, acc, n, step := m.peak, m.clipped, m.acc, m.n, m.step
	for _, v := range samples {
		a := int64(v)
		if a < 0 {
			a = -a
		}
		peak = max(peak, a)
		if a >= clipLevel {
			clipped++
		}
		x := float64(v) * scale
		y := s.b0*x + s.b1*x1 + s.b2*x2 - s.a1*y1 - s.a2*y2
		x2, x1 = x1, x
		y2, y1 = y1, y
		z := y - 2*hy1 + hy2 - h.a1*z1 - h.a2*z2
		hy2, hy1 = hy1, y
		z2, z1 = z1, z
		acc += z * z
		n++
		if n == step {
			m.subs = append(m.subs, acc)
			acc, n = 0, 0
		}
	}
	*st = [8]float64{x1, x2, y1, y2, hy1, hy2, z1, z2}
	m.peak, m.clipped, m.acc, m.n = peak, clipped, acc, n
}

// addStereo is Add for two channels.
func (m *Meter) addStereo(samples []int32) {
	const scale = 1.0 / 2147483648
	s, h := m.shelf, m.hp
	sl, sr := &m.state[0], &m.state[1]
	lx1, lx2, ly1, ly2, lhy1, lhy2, lz1, lz2 := sl[0], sl[1], sl[2], sl[3], sl[4], sl[5], sl[6], sl[7]
	rx1, rx2, ry1, ry2, rhy1, rhy2, rz1, rz2 := sr[0], sr[1], sr[2], sr[3], sr[4], sr[5], sr[6], sr[7]
	peak, clipped, acc, n, step := m.peak, m.clipped, m.acc, m.n, m.step
	samples = samples[:len(samples)&^1]
	for i := 0; i+1 < len(samples); i += 2 {
		l, r := samples[i], samples[i+1]
		a, b := int64(l), int64(r)
		if a < 0 {
			a = -a
		}
		if b < 0 {
			b = -b
		}
		peak = max(peak, a, b)
		if a >= clipLevel {
			clipped++
		}
		if b >= clipLevel {
			clipped++
		}
		x := float64(l) * scale
		y := s.b0*x + s.b1*lx1 + s.b2*lx2 - s.a1*ly1 - s.a2*ly2
		lx2, lx1 = lx1, x
		ly2, ly1 = ly1, y
		z := y - 2*lhy1 + lhy2 - h.a1*lz1 - h.a2*lz2
		lhy2, lhy1 = lhy1, y
		lz2, lz1 = lz1, z
		sum := z * z
		x = float64(r) * scale
		y = s.b0*x + s.b1*rx1 + s.b2*rx2 - s.a1*ry1 - s.a2*ry2
		rx2, rx1 = rx1, x
		ry2, ry1 = ry1, y
		z = y - 2*rhy1 + rhy2 - h.a1*rz1 - h.a2*rz2
		rhy2, rhy1 = rhy1, y
		rz2, rz1 = rz1, z
		sum += z * z
		acc += sum
		n++
		if n == step {
			m.subs = append(m.subs, acc)
			acc, n = 0, 0
		}
	}
	*sl = [8]float64{lx1, lx2, ly1, ly2, lhy1, lhy2, lz1, lz2}
	*sr = [8]float64{rx1, rx2, ry1, ry2, rhy1, rhy2, rz1, rz2}
	m.peak, m.clipped, m.acc, m.n = peak, clipped, acc, n
}

func lufs(power float64) float64 {
	if power <= 0 {
		return math.Inf(-1)
	}
	return -0.691 + 10*math.Log10(power)
}

// windows returns the mean-square power of each window of w sub-blocks, one
// every sub-block.
func (m *Meter) windows(w int) []float64 {
	if len(m.subs) < w {
		return nil
	}
	out := make([]float64, 0, len(m.subs)-w+1)
	var sum float64
	for i, v := range m.subs {
		sum += v
		if i >= w {
			sum -= m.subs[i-w]
		}
		if i >= w-1 {
			out = append(out, max(sum, 0)/float64(w*m.step))
		}
	}
	return out
}

// Result computes the measurement over everything added so far.
func (m *Meter) Result() Loudness {
	r := Loudness{Integrated: Floor, MomentaryMax: Floor, ShortTermMax: Floor, Clipped: m.clipped}
	if m.peak > 0 {
		r.SamplePeak = 20 * math.Log10(float64(m.peak)/2147483648)
	} else {
		r.SamplePeak = math.Inf(-1)
	}
	blocks := m.windows(4)
	absGate := math.Pow(10, (Floor+0.691)/10)
	var sum float64
	var n int
	for _, p := range blocks {
		r.MomentaryMax = max(r.MomentaryMax, lufs(p))
		if p > absGate {
			sum += p
			n++
		}
	}
	if n == 0 {
		r.Silent = true
	} else {
		relGate := sum / float64(n) * math.Pow(10, -1)
		sum, n = 0, 0
		for _, p := range blocks {
			if p > absGate && p > relGate {
				sum += p
				n++
			}
		}
		if n > 0 {
			r.Integrated = lufs(sum / float64(n))
		}
	}
	short := m.windows(30)
	var sl []float64
	sum = 0
	for _, p := range short {
		r.ShortTermMax = max(r.ShortTermMax, lufs(p))
		if p > absGate {
			sum += p
			sl = append(sl, p)
		}
	}
	if len(sl) > 0 {
		relGate := sum / float64(len(sl)) * math.Pow(10, -2)
		var gated []float64
		for _, p := range sl {
			if p > relGate {
				gated = append(gated, lufs(p))
			}
		}
		if len(gated) > 1 {
			slices.Sort(gated)
			lo := gated[int(math.Round(0.10*float64(len(gated)-1)))]
			hi := gated[int(math.Round(0.95*float64(len(gated)-1)))]
			r.Range = hi - lo
		}
	}
	if math.IsInf(r.SamplePeak, -1) {
		r.SamplePeak = -200 // JSON has no −Inf: report a digital-silence floor
	}
	switch {
	case m.tooSlow:
		r.notMeasurable(fmt.Sprintf("the sample rate (%d Hz) is too low for a loudness measurement: it needs at least %d Hz", m.rate, MinRate))
	case !finite(r.Integrated, r.Range, r.MomentaryMax, r.ShortTermMax):
		r.notMeasurable("the samples drive the loudness filter out of range (not audio, or damaged)")
	}
	if !finite(r.SamplePeak) {
		r.SamplePeak = 0
	}
	return r
}

func (r *Loudness) notMeasurable(why string) {
	r.Integrated, r.Range, r.MomentaryMax, r.ShortTermMax = 0, 0, 0, 0
	r.Silent = false
	r.NotMeasurable = why
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
