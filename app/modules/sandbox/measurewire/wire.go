// Package measurewire is the answer of the sandbox's measure host function:
// one audio file's format and loudness in a small binary form that a module
// reads without reflection. (A JSON answer cost a module more to decode,
// inside WebAssembly, than Atelier spent measuring the file.)
//
// The form, little-endian: a version byte (1); the fixed numbers of
// audio.Info (sample rate, channels, bits per sample, bitrate: uint32;
// samples: int64; duration: float64; flags: VBR 1, Partial 2) and of
// audio.Loudness (integrated, range, momentary max, short-term max, sample
// peak: float64; clipped: int64; flags: Silent 1); then the strings, each a
// uint32 length and its bytes: format, decoder, codec, encoder, not
// measurable, error, and a uint32 count of warnings followed by each.
//
// The package imports nothing of wazero: modules (GOOS=wasip1) use it.
package measurewire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"atelier/app/preview/audio"
)

// Version is the form's first byte.
const Version = 1

// MaxWarnings and MaxString bound what Decode accepts.
const (
	MaxWarnings = 64
	MaxString   = 16 << 10
)

// Measurement is one file's measurement; Error says why it has none.
type Measurement struct {
	Info     audio.Info     `json:"info"`
	Loudness audio.Loudness `json:"loudness"`
	Error    string         `json:"error,omitempty"`
}

func clip(s string) string {
	if len(s) > MaxString {
		return s[:MaxString]
	}
	return s
}

// Append appends m's encoding to b.
func Append(b []byte, m Measurement) []byte {
	i, l := m.Info, m.Loudness
	b = append(b, Version)
	for _, v := range []int{i.SampleRate, i.Channels, i.BitsPerSample, i.Bitrate} {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(v)))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(i.Samples))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(i.Duration))
	var f byte
	if i.VBR {
		f |= 1
	}
	if i.Partial {
		f |= 2
	}
	b = append(b, f)
	for _, v := range []float64{l.Integrated, l.Range, l.MomentaryMax, l.ShortTermMax, l.SamplePeak} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(l.Clipped))
	f = 0
	if l.Silent {
		f = 1
	}
	b = append(b, f)
	for _, s := range []string{i.Format, i.Decoder, i.Codec, i.Encoder, l.NotMeasurable, m.Error} {
		s = clip(s)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	w := i.Warnings
	if len(w) > MaxWarnings {
		w = w[:MaxWarnings]
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(w)))
	for _, s := range w {
		s = clip(s)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// ErrShort means the data ends before the measurement does.
var ErrShort = errors.New("measurement: data ends early")

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = ErrShort
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }

func (r *reader) byte1() byte {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) str() string {
	n := r.u32()
	if r.err == nil && n > MaxString {
		r.err = fmt.Errorf("measurement: a %d-byte string is over the %d-byte limit", n, MaxString)
		return ""
	}
	return string(r.take(int(n)))
}

// Decode reads a measurement written by Append; bytes after it are an error.
func Decode(b []byte) (Measurement, error) {
	var m Measurement
	r := &reader{b: b}
	if v := r.byte1(); r.err == nil && v != Version {
		return m, fmt.Errorf("measurement: version %d, want %d", v, Version)
	}
	i, l := &m.Info, &m.Loudness
	i.SampleRate = int(int32(r.u32()))
	i.Channels = int(int32(r.u32()))
	i.BitsPerSample = int(int32(r.u32()))
	i.Bitrate = int(int32(r.u32()))
	i.Samples = int64(r.u64())
	i.Duration = r.f64()
	f := r.byte1()
	i.VBR, i.Partial = f&1 != 0, f&2 != 0
	l.Integrated, l.Range, l.MomentaryMax, l.ShortTermMax, l.SamplePeak = r.f64(), r.f64(), r.f64(), r.f64(), r.f64()
	l.Clipped = int64(r.u64())
	l.Silent = r.byte1()&1 != 0
	i.Format, i.Decoder, i.Codec, i.Encoder, l.NotMeasurable, m.Error = r.str(), r.str(), r.str(), r.str(), r.str(), r.str()
	n := r.u32()
	if r.err == nil && n > MaxWarnings {
		return Measurement{}, fmt.Errorf("measurement: %d warnings, over the limit of %d", n, MaxWarnings)
	}
	for k := uint32(0); k < n && r.err == nil; k++ {
		i.Warnings = append(i.Warnings, r.str())
	}
	if r.err != nil {
		return Measurement{}, r.err
	}
	if len(r.b) != 0 {
		return Measurement{}, fmt.Errorf("measurement: %d bytes after its end", len(r.b))
	}
	return m, nil
}
