package audio

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"atelier/app/preview/testmedia"
)

func seedFiles(f *testing.F) [][]byte {
	dir := f.TempDir()
	var out [][]byte
	for _, c := range []struct {
		name           string
		rate, ch, bits int
		enc            string
	}{
		{"a.wav", 8000, 1, 16, ""},
		{"b.wav", 8000, 2, 24, ""},
		{"c.wav", 8000, 1, 8, "unsigned-integer"},
		{"d.wav", 8000, 3, 32, "floating-point"},
		{"e.flac", 8000, 2, 16, ""},
		{"f.flac", 8000, 1, 24, ""},
	} {
		p := testmedia.Tone(f, dir, c.name, c.rate, c.ch, c.bits, 0.05, c.enc, "sine", "440")
		out = append(out, testmedia.Read(f, p))
	}
	return out
}

func fuzzDecode(t *testing.T, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := AnalyzeBytes(ctx, data, AnalyzeOptions{Options: Options{MaxDuration: 10 * time.Second}, Zoom: 64})
	if err != nil {
		return
	}
	var buf bytes.Buffer
	if err := WriteDat(&buf, a.Waveform, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := RenderPNG(a.Waveform, PNGOptions{Width: 64, Height: 16}, true); err != nil {
		t.Fatal(err)
	}
}

func FuzzWAV(f *testing.F) {
	for _, s := range seedFiles(f)[:4] {
		f.Add(s)
	}
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x08\x00\x00\xee\x02\x00\x00\x00\x00\x00\x10\x00\x10\x00data\xff\xff\xff\xff"))
	f.Fuzz(fuzzDecode)
}

func FuzzFLAC(f *testing.F) {
	for _, s := range seedFiles(f)[4:] {
		f.Add(s)
	}
	f.Fuzz(fuzzDecode)
}

// FuzzAIFF feeds the AIFF/AIFF-C parser: chunk walk, COMM (80-bit rate,
// compression types) and SSND offsets.
func FuzzAIFF(f *testing.F) {
	dir := f.TempDir()
	src := testmedia.Tone(f, dir, "s.wav", 8000, 2, 16, 0.05, "", "sine", "440")
	for i, codec := range []string{"pcm_s16be", "pcm_s24be", "pcm_s8", "pcm_s16le", "pcm_f32be", "pcm_f64be", "pcm_mulaw", "pcm_alaw", "adpcm_ima_qt"} {
		p := testmedia.Encode(f, src, filepath.Join(dir, fmt.Sprintf("%d.aifc", i)), "-c:a", codec, "-f", "aiff")
		f.Add(testmedia.Read(f, p))
	}
	f.Add([]byte("FORM\x00\x00\x00\x2eAIFFCOMM\x00\x00\x00\x12\x00\x01\xff\xff\xff\xff\x00\x10\x40\x0e\xac\x44\x00\x00\x00\x00\x00\x00SSND\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(fuzzDecode)
}

func FuzzReadDat(f *testing.F) {
	var b bytes.Buffer
	w := &Waveform{SampleRate: 44100, SamplesPerPixel: 256, Channels: 2, Data: []int16{-5, 7, -100, 300, 1, 2, 3, 4}}
	_ = WriteDat(&b, w, 16)
	f.Add(b.Bytes())
	b.Reset()
	_ = WriteDat(&b, w, 8)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		w, bits, err := ReadDat(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteDat(&out, w, bits); err != nil {
			t.Fatal(err)
		}
	})
}
