package measurewire

import (
	"math"
	"reflect"
	"testing"

	"atelier/app/preview/audio"
)

func sample() Measurement {
	return Measurement{
		Info:     audio.Info{Format: "wav", Codec: "PCM 16-bit", SampleRate: 44100, Channels: 2, BitsPerSample: 16, Samples: 22050, Duration: 0.5, Bitrate: 1411200, VBR: true, Partial: true, Encoder: "Lavf", Warnings: []string{"a", "b"}},
		Loudness: audio.Loudness{Integrated: -14.2, Range: 3.5, MomentaryMax: -10, ShortTermMax: -12, SamplePeak: -0.1, Clipped: 7, Silent: true, NotMeasurable: "too short"},
		Error:    "",
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range []Measurement{sample(), {}, {Error: "decode x.wav: damaged"}, {Loudness: audio.Loudness{Integrated: math.Inf(-1)}}} {
		got, err := Decode(Append(nil, m))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, m)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	b := Append(nil, sample())
	for name, in := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, b[1:]...),
		"truncated": b[:len(b)-1],
		"trailing":  append(append([]byte{}, b...), 0),
	} {
		if _, err := Decode(in); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestLimits(t *testing.T) {
	m := sample()
	m.Error = string(make([]byte, MaxString+10))
	m.Info.Warnings = make([]string, MaxWarnings+5)
	got, err := Decode(Append(nil, m))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Error) != MaxString || len(got.Info.Warnings) != MaxWarnings {
		t.Errorf("limits not applied: %d bytes of error, %d warnings", len(got.Error), len(got.Info.Warnings))
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, sample()))
	f.Add(Append(nil, Measurement{}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes encodes to a form that decodes to the same.
		again := Append(nil, m)
		m2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded measurement does not decode: %v", err)
		}
		if string(Append(nil, m2)) != string(again) {
			t.Fatalf("re-encoding is not stable: %x", again)
		}
	})
}
