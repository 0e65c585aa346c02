package audio

import (
	"context"
)

// AnalyzeOptions choose what Analyze computes.
type AnalyzeOptions struct {
	Options
	Zoom      int  // samples per waveform point (0 = 256)
	Split     bool // one waveform per channel instead of the mixed mean
	MaxPoints int  // bound on waveform points (0 = 4 Mi)
	// NoLoudness skips the loudness meter (a fifth of the work on an MP3)
	// when only the waveform is wanted: Analysis.Loudness is then the zero
	// value and Analysis.LoudnessSkipped is set.
	NoLoudness bool
}

// Analysis is everything one decode pass yields.
type Analysis struct {
	Info     Info      `json:"info"`
	Loudness Loudness  `json:"loudness"`
	Waveform *Waveform `json:"-"`
	// LoudnessSkipped: AnalyzeOptions.NoLoudness was set.
	LoudnessSkipped bool `json:"-"`
}

// Analyze decodes path once and computes its peaks and loudness.
func Analyze(ctx context.Context, path string, opt AnalyzeOptions) (*Analysis, error) {
	return analyze(opt, func(o Options, sink Sink) (Info, error) { return Decode(ctx, path, o, sink) })
}

// AnalyzeBytes is Analyze for data in memory.
func AnalyzeBytes(ctx context.Context, data []byte, opt AnalyzeOptions) (*Analysis, error) {
	return analyze(opt, func(o Options, sink Sink) (Info, error) { return DecodeBytes(ctx, data, o, sink) })
}

func analyze(opt AnalyzeOptions, decode func(Options, Sink) (Info, error)) (*Analysis, error) {
	if opt.Zoom == 0 {
		opt.Zoom = 256
	}
	if opt.MaxPoints == 0 {
		opt.MaxPoints = 4 << 20
	}
	pb, err := NewPeakBuilder(opt.Zoom, opt.Split, opt.MaxPoints)
	if err != nil {
		return nil, err
	}
	var meter *Meter
	prev := opt.OnFormat
	opt.OnFormat = func(i Info) {
		if !opt.NoLoudness {
			meter = NewMeter(i.SampleRate)
		}
		if prev != nil {
			prev(i)
		}
	}
	sink := func(s []int32, ch int) error {
		if err := pb.Add(s, ch); err != nil {
			return err
		}
		return meter.Add(s, ch)
	}
	if opt.NoLoudness {
		sink = pb.Add
	}
	info, err := decode(opt.Options, sink)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Info: info, Waveform: pb.Waveform(info.SampleRate), LoudnessSkipped: opt.NoLoudness}
	if pb.Truncated() {
		a.Info.Warnings = append(a.Info.Warnings, "the waveform was cut short: use a larger zoom for a file this long")
	}
	switch {
	case opt.NoLoudness: // left zero
	case meter != nil:
		a.Loudness = meter.Result()
	default:
		a.Loudness = Loudness{Integrated: Floor, MomentaryMax: Floor, ShortTermMax: Floor, SamplePeak: -200, Silent: true}
	}
	a.Waveform.SampleRate = info.SampleRate
	return a, nil
}
