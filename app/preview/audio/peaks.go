package audio

import "fmt"

// Waveform is min/max peaks at a zoom of SamplesPerPixel samples per point,
// as 16-bit values (BBC audiowaveform's model). Data holds, for each point
// and each channel, min then max.
type Waveform struct {
	SampleRate      int     `json:"sample_rate"`
	SamplesPerPixel int     `json:"samples_per_pixel"`
	Channels        int     `json:"channels"`
	Data            []int16 `json:"-"`
}

// Length is the number of points.
func (w *Waveform) Length() int {
	if w.Channels == 0 {
		return 0
	}
	return len(w.Data) / (2 * w.Channels)
}

// PeakBuilder accumulates peaks from decoded audio.
type PeakBuilder struct {
	zoom     int
	split    bool
	channels int
	count    int
	cur      []int16 // min,max per output channel for the point being built
	wf       Waveform
	maxLen   int
}

// NewPeakBuilder builds peaks at zoom samples per point, either one mixed
// channel (the mean of all channels, as audiowaveform does) or one per channel.
// maxPoints bounds memory (0 = no bound); beyond it, points are dropped and
// Truncated reports true.
func NewPeakBuilder(zoom int, split bool, maxPoints int) (*PeakBuilder, error) {
	if zoom < 1 || zoom > 1<<24 {
		return nil, fmt.Errorf("zoom %d is out of range (1 to %d samples per pixel)", zoom, 1<<24)
	}
	return &PeakBuilder{zoom: zoom, split: split, maxLen: maxPoints}, nil
}

// Truncated reports whether maxPoints was reached.
func (p *PeakBuilder) Truncated() bool { return p.maxLen > 0 && p.wf.Length() >= p.maxLen }

func (p *PeakBuilder) reset() {
	for i := 0; i < len(p.cur); i += 2 {
		p.cur[i], p.cur[i+1] = 32767, -32768
	}
	p.count = 0
}

func (p *PeakBuilder) flush() {
	if p.count == 0 {
		return
	}
	if p.maxLen == 0 || p.wf.Length() < p.maxLen {
		p.wf.Data = append(p.wf.Data, p.cur...)
	}
	p.reset()
}

// Add consumes interleaved samples (a Sink).
func (p *PeakBuilder) Add(samples []int32, channels int) error {
	if p.channels == 0 {
		p.channels = channels
		p.wf.Channels = 1
		if p.split {
			p.wf.Channels = channels
		}
		p.cur = make([]int16, 2*p.wf.Channels)
		p.reset()
	}
	if channels != p.channels {
		return fmt.Errorf("channel count changed from %d to %d", p.channels, channels)
	}
	if !p.split && channels <= 2 {
		p.addMixed(samples, channels)
		return nil
	}
	cur := p.cur
	for i := 0; i+channels <= len(samples); i += channels {
		if p.split {
			for c := 0; c < channels; c++ {
				v := int16(samples[i+c] >> 16)
				if v < cur[2*c] {
					cur[2*c] = v
				}
				if v > cur[2*c+1] {
					cur[2*c+1] = v
				}
			}
		} else {
			sum := 0
			for c := 0; c < channels; c++ {
				sum += int(samples[i+c] >> 16)
			}
			v := int16(sum / channels)
			if v < cur[0] {
				cur[0] = v
			}
			if v > cur[1] {
				cur[1] = v
			}
		}
		p.count++
		if p.count == p.zoom {
			p.flush()
		}
	}
	return nil
}

// addMixed is Add for one mixed point from one or two channels: a tight
// loop per point instead of a count test per sample.
func (p *PeakBuilder) addMixed(samples []int32, channels int) {
	cur := p.cur[:2]
	samples = samples[:len(samples)-len(samples)%channels]
	for len(samples) > 0 {
		k := min(p.zoom-p.count, len(samples)/channels)
		lo, hi := cur[0], cur[1]
		if channels == 1 {
			for _, s := range samples[:k] {
				v := int16(s >> 16)
				lo = min(lo, v)
				hi = max(hi, v)
			}
		} else {
			for i := 0; i+1 < 2*k; i += 2 {
				v := int16((int(samples[i]>>16) + int(samples[i+1]>>16)) / 2)
				lo = min(lo, v)
				hi = max(hi, v)
			}
		}
		cur[0], cur[1] = lo, hi
		samples = samples[k*channels:]
		p.count += k
		if p.count == p.zoom {
			p.flush()
		}
	}
}

// Waveform finishes the last (partial) point and returns the peaks.
func (p *PeakBuilder) Waveform(sampleRate int) *Waveform {
	p.flush()
	w := p.wf
	w.SampleRate = sampleRate
	w.SamplesPerPixel = p.zoom
	if w.Channels == 0 {
		w.Channels = 1
	}
	return &w
}

// Rescale merges points so each covers factor times as many samples.
func (w *Waveform) Rescale(factor int) *Waveform {
	if factor <= 1 {
		return w
	}
	out := &Waveform{SampleRate: w.SampleRate, SamplesPerPixel: w.SamplesPerPixel * factor, Channels: w.Channels}
	n := w.Length()
	stride := 2 * w.Channels
	for i := 0; i < n; i += factor {
		for c := 0; c < w.Channels; c++ {
			lo, hi := int16(32767), int16(-32768)
			for j := i; j < min(i+factor, n); j++ {
				lo = min(lo, w.Data[j*stride+2*c])
				hi = max(hi, w.Data[j*stride+2*c+1])
			}
			out.Data = append(out.Data, lo, hi)
		}
	}
	return out
}

// Mixed returns one channel: the widest min/max over the channels.
func (w *Waveform) Mixed() *Waveform {
	if w.Channels <= 1 {
		return w
	}
	out := &Waveform{SampleRate: w.SampleRate, SamplesPerPixel: w.SamplesPerPixel, Channels: 1}
	n := w.Length()
	stride := 2 * w.Channels
	for i := 0; i < n; i++ {
		lo, hi := int16(32767), int16(-32768)
		for c := 0; c < w.Channels; c++ {
			lo = min(lo, w.Data[i*stride+2*c])
			hi = max(hi, w.Data[i*stride+2*c+1])
		}
		out.Data = append(out.Data, lo, hi)
	}
	return out
}
