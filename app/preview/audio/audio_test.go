package audio

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"atelier/app/preview/testmedia"
)

func analyzeFile(t testing.TB, path string, zoom int, split bool) *Analysis {
	t.Helper()
	a, err := Analyze(context.Background(), path, AnalyzeOptions{Zoom: zoom, Split: split})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// datPeaks round-trips the waveform through the .dat writer and reader.
func datPeaks(t testing.TB, w *Waveform, bits int) []int16 {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDat(&buf, w, bits); err != nil {
		t.Fatal(err)
	}
	back, gotBits, err := ReadDat(buf.Bytes())
	if err != nil || gotBits != bits || back.Channels != w.Channels || back.SamplesPerPixel != w.SamplesPerPixel {
		t.Fatalf("dat round trip: %v bits %d channels %d", err, gotBits, back.Channels)
	}
	return back.Data
}

func to8(v []int16) []int16 {
	out := make([]int16, len(v))
	for i, x := range v {
		out[i] = x / 256
	}
	return out
}

func compare(t *testing.T, name string, got, want []int16, tol int, minFrac float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d peak values, reference %d", name, len(got), len(want))
	}
	n := min(len(got), len(want))
	ok := 0
	for i := 0; i < n; i++ {
		d := int(got[i]) - int(want[i])
		if d >= -tol && d <= tol {
			ok++
		}
	}
	frac := float64(ok) / float64(max(n, 1))
	t.Logf("%s: %d/%d points within %d", name, ok, n, tol)
	if frac < minFrac {
		t.Errorf("%s: only %.4f%% of points within %d of the reference, want ≥ %.2f%%", name, frac*100, tol, minFrac*100)
	}
}

func TestMP3PeaksMatchFFmpeg(t *testing.T) {
	dir := t.TempDir()
	stereoWav := testmedia.Music(t, dir, "s.wav", 44100, 2, 4)
	monoWav := testmedia.Music(t, dir, "m.wav", 44100, 1, 4)
	cases := []struct {
		name, wav string
		lame      []string
	}{
		{"cbr192", stereoWav, []string{"-b", "192"}},
		{"vbr-voice", monoWav, []string{"-V", "6"}},
		{"mpeg2", stereoWav, []string{"--resample", "22.05", "-b", "48"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mp := testmedia.Lame(t, c.wav, filepath.Join(dir, c.name+".mp3"), c.lame...)
			// Native channels: ffmpeg's -ac 2 upmix of mono lowers the level by 3 dB.
			ref := testmedia.PCM16(t, mp, 0)
			// One decode feeds both the mixed and the per-channel peaks.
			mixed, _ := NewPeakBuilder(256, false, 0)
			split, _ := NewPeakBuilder(256, true, 0)
			info, err := Decode(context.Background(), mp, Options{}, func(s []int32, ch int) error {
				mixed.Add(s, ch)
				return split.Add(s, ch)
			})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "mixed", datPeaks(t, mixed.Waveform(info.SampleRate), 8), to8(testmedia.RefPeaks(ref, info.Channels, 256, false)), 1, 0.999)
			compare(t, "split", datPeaks(t, split.Waveform(info.SampleRate), 8), to8(testmedia.RefPeaks(ref, info.Channels, 256, true)), 1, 0.999)
		})
	}
}

func TestPCMPeaksExact(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name           string
		rate, ch, bits int
		enc, ext       string
	}{
		{"wav16", 44100, 2, 16, "", "wav"},
		{"wav24-ext", 48000, 2, 24, "", "wav"},
		{"wav8", 22050, 1, 8, "unsigned-integer", "wav"},
		{"wav32", 44100, 2, 32, "", "wav"},
		{"wav-6ch", 48000, 6, 16, "", "wav"},
		{"flac16", 44100, 2, 16, "", "flac"},
		{"flac24", 96000, 2, 24, "", "flac"},
		{"flac-mono", 44100, 1, 16, "", "flac"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testmedia.Tone(t, dir, c.name+"."+c.ext, c.rate, c.ch, c.bits, 3, c.enc, "sine", "100-3000", "pinknoise", "vol", "0.9")
			ref := testmedia.PCM16(t, p, 0)
			for _, split := range []bool{false, true} {
				a := analyzeFile(t, p, 256, split)
				if a.Info.Channels != c.ch || a.Info.SampleRate != c.rate {
					t.Fatalf("info %+v", a.Info)
				}
				want := testmedia.RefPeaks(ref, c.ch, 256, split)
				compare(t, "16-bit", datPeaks(t, a.Waveform, 16), want, 0, 1)
				compare(t, "8-bit", datPeaks(t, a.Waveform, 8), to8(want), 0, 1)
			}
		})
	}
	t.Run("float", func(t *testing.T) {
		p := testmedia.Tone(t, dir, "f.wav", 44100, 2, 32, 3, "floating-point", "sine", "440", "vol", "0.8")
		ref := testmedia.PCM16(t, p, 0)
		a := analyzeFile(t, p, 256, true)
		compare(t, "float 16-bit", datPeaks(t, a.Waveform, 16), testmedia.RefPeaks(ref, 2, 256, true), 1, 1)
	})
}

var ffmpegI = regexp.MustCompile(`lavfi\.r128\.I=(-?[0-9.]+)`)
var ffmpegLRA = regexp.MustCompile(`lavfi\.r128\.LRA=(-?[0-9.]+)`)

// ffmpegLoudness runs ffmpeg's ebur128 filter and returns its final integrated
// loudness and loudness range (full precision, from the frame metadata).
func ffmpegLoudness(t *testing.T, path string) (float64, float64) {
	out := testmedia.RunStderr(t, "ffmpeg", "-nostats", "-i", path, "-af", "ebur128=metadata=1,ametadata=mode=print:file=/dev/stderr", "-f", "null", "-")
	is := ffmpegI.FindAllStringSubmatch(out, -1)
	ls := ffmpegLRA.FindAllStringSubmatch(out, -1)
	if len(is) == 0 || len(ls) == 0 {
		t.Fatalf("no ebur128 metadata from ffmpeg:\n%s", out)
	}
	i, _ := strconv.ParseFloat(is[len(is)-1][1], 64)
	l, _ := strconv.ParseFloat(ls[len(ls)-1][1], 64)
	return i, l
}

func TestLoudnessMatchesFFmpeg(t *testing.T) {
	dir := t.TempDir()
	music := testmedia.Music(t, dir, "music.wav", 44100, 2, 6)
	cases := map[string]string{
		"music-wav": music,
		"music-mp3": testmedia.Lame(t, music, filepath.Join(dir, "music.mp3"), "-b", "192"),
		"quiet-48k": testmedia.Tone(t, dir, "quiet.wav", 48000, 2, 24, 4, "", "sine", "1000", "vol", "0.05"),
		"mono":      testmedia.Tone(t, dir, "mono.flac", 44100, 1, 16, 5, "", "pinknoise", "tremolo", "0.5", "90"),
		"dynamic":   testmedia.Tone(t, dir, "dyn.wav", 32000, 2, 16, 10, "", "sine", "200", "tremolo", "0.1", "95"),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			a := analyzeFile(t, p, 256, false)
			wantI, wantLRA := ffmpegLoudness(t, p)
			t.Logf("%s: integrated %.3f (ffmpeg %.3f), LRA %.2f (ffmpeg %.2f), peak %.2f dBFS", name, a.Loudness.Integrated, wantI, a.Loudness.Range, wantLRA, a.Loudness.SamplePeak)
			if math.Abs(a.Loudness.Integrated-wantI) > 0.1 {
				t.Errorf("integrated loudness %.3f LUFS, ffmpeg %.3f", a.Loudness.Integrated, wantI)
			}
			if math.Abs(a.Loudness.Range-wantLRA) > 1 {
				t.Errorf("loudness range %.2f LU, ffmpeg %.2f", a.Loudness.Range, wantLRA)
			}
		})
	}
}

// TestBudget: a file longer than the budget yields a partial analysis with a warning.
func TestBudget(t *testing.T) {
	dir := t.TempDir()
	wav := testmedia.Tone(t, dir, "long.wav", 8000, 1, 16, 3, "", "sine", "300")
	mp := testmedia.Lame(t, testmedia.Music(t, dir, "m.wav", 44100, 2, 3), filepath.Join(dir, "m.mp3"), "-b", "128")
	flac := testmedia.Tone(t, dir, "long.flac", 8000, 1, 16, 3, "", "sine", "300")
	for _, p := range []string{wav, mp, flac} {
		a, err := Analyze(context.Background(), p, AnalyzeOptions{Options: Options{MaxDuration: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if !a.Info.Partial || len(a.Info.Warnings) == 0 || a.Info.Duration > 1.01 {
			t.Errorf("%s: partial %v, duration %.2f, warnings %v", filepath.Base(p), a.Info.Partial, a.Info.Duration, a.Info.Warnings)
		}
	}
}

// NoLoudness (`atelier preview -o x.dat`) gives the same waveform, without
// the loudness.
func TestNoLoudnessSameWaveform(t *testing.T) {
	dir := t.TempDir()
	p := testmedia.Tone(t, dir, "n.wav", 44100, 2, 16, 2, "", "sine", "100-3000", "pinknoise", "vol", "0.9")
	full := analyzeFile(t, p, 256, false)
	a, err := Analyze(context.Background(), p, AnalyzeOptions{Zoom: 256, NoLoudness: true})
	if err != nil {
		t.Fatal(err)
	}
	if !a.LoudnessSkipped || a.Loudness.Integrated != 0 || full.LoudnessSkipped || full.Loudness.Integrated == 0 {
		t.Fatalf("loudness skipped %v %+v, measured %v %+v", a.LoudnessSkipped, a.Loudness, full.LoudnessSkipped, full.Loudness)
	}
	if !slices.Equal(a.Waveform.Data, full.Waveform.Data) || a.Info.Channels != full.Info.Channels {
		t.Fatal("the waveform differs without the loudness meter")
	}
}
