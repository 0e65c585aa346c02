package audio

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app/preview/media"
	"atelier/app/preview/testmedia"
)

// peaksAgainstFFmpeg decodes p and compares its mixed and per-channel peaks
// with those computed from ffmpeg's own 16-bit decode of the same file.
func peaksAgainstFFmpeg(t *testing.T, p string, tol int) Info {
	t.Helper()
	ref := testmedia.PCM16(t, p, 0)
	mixed, _ := NewPeakBuilder(256, false, 0)
	split, _ := NewPeakBuilder(256, true, 0)
	info, err := Decode(context.Background(), p, Options{}, func(s []int32, ch int) error {
		if err := mixed.Add(s, ch); err != nil {
			return err
		}
		return split.Add(s, ch)
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Channels < 1 || len(ref)/info.Channels != int(info.Samples) {
		t.Errorf("%d samples per channel, ffmpeg decodes %d", info.Samples, len(ref)/max(info.Channels, 1))
	}
	compare(t, "mixed 16-bit", datPeaks(t, mixed.Waveform(info.SampleRate), 16), testmedia.RefPeaks(ref, info.Channels, 256, false), tol, 1)
	compare(t, "split 16-bit", datPeaks(t, split.Waveform(info.SampleRate), 16), testmedia.RefPeaks(ref, info.Channels, 256, true), tol, 1)
	compare(t, "mixed 8-bit", datPeaks(t, mixed.Waveform(info.SampleRate), 8), to8(testmedia.RefPeaks(ref, info.Channels, 256, false)), tol, 1)
	return info
}

// TestAIFFPeaksExact: AIFF and every uncompressed AIFF-C kind decode in
// process to exactly ffmpeg's samples.
func TestAIFFPeaksExact(t *testing.T) {
	dir := t.TempDir()
	src := testmedia.Tone(t, dir, "src.wav", 44100, 2, 24, 1.5, "", "sine", "100-3000", "pinknoise", "vol", "0.9")
	mono := testmedia.Tone(t, dir, "mono.wav", 22050, 1, 16, 1.5, "", "sine", "300", "pinknoise", "vol", "0.5")
	cases := []struct {
		name, in, codec, wantCodec string
		ext                        string
		tol                        int
	}{
		{"aiff16", src, "pcm_s16be", "PCM 16-bit", "aiff", 0},
		{"aiff24", src, "pcm_s24be", "PCM 24-bit", "aiff", 0},
		{"aiff32", src, "pcm_s32be", "PCM 32-bit", "aiff", 0},
		{"aiff8-mono", mono, "pcm_s8", "PCM 8-bit", "aiff", 0},
		{"aifc-sowt", src, "pcm_s16le", "PCM 16-bit (sowt)", "aifc", 0},
		{"aifc-fl32", src, "pcm_f32be", "IEEE float 32-bit", "aifc", 1},
		{"aifc-fl64", src, "pcm_f64be", "IEEE float 64-bit", "aifc", 1},
		{"aifc-ulaw", mono, "pcm_mulaw", "G.711 µ-law", "aifc", 0},
		{"aifc-alaw", mono, "pcm_alaw", "G.711 A-law", "aifc", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testmedia.Encode(t, c.in, filepath.Join(dir, c.name+"."+c.ext), "-c:a", c.codec, "-f", "aiff")
			info := peaksAgainstFFmpeg(t, p, c.tol)
			if info.Codec != c.wantCodec || info.Decoder != "native" || !strings.HasPrefix(info.Format, "aif") {
				t.Errorf("info %+v, want codec %q decoded natively", info, c.wantCodec)
			}
		})
	}
	t.Run("sox-aiff", func(t *testing.T) {
		// sox writes a COMT chunk before COMM.
		p := filepath.Join(dir, "sox.aiff")
		testmedia.Run(t, "sox", src, "-b", "16", p)
		info := peaksAgainstFFmpeg(t, p, 0)
		if info.Format != "aiff" || info.SampleRate != 44100 || info.Channels != 2 {
			t.Errorf("info %+v", info)
		}
	})
	for _, codec := range []string{"adpcm_ima_wav", "adpcm_ms", "pcm_mulaw"} {
		t.Run("wav-"+codec+"-through-ffmpeg", func(t *testing.T) {
			p := testmedia.Encode(t, mono, filepath.Join(dir, codec+".wav"), "-c:a", codec)
			info := peaksAgainstFFmpeg(t, p, 0)
			if info.Decoder != "ffmpeg" || info.Format != "wav" {
				t.Errorf("info %+v: a compressed WAV goes to ffmpeg", info)
			}
		})
	}
	t.Run("aifc-ima4-through-ffmpeg", func(t *testing.T) {
		p := testmedia.Encode(t, src, filepath.Join(dir, "ima.aifc"), "-c:a", "adpcm_ima_qt", "-f", "aiff")
		info := peaksAgainstFFmpeg(t, p, 0)
		if info.Decoder != "ffmpeg" || info.Format != "aifc" {
			t.Errorf("info %+v: a compressed AIFF-C goes to ffmpeg", info)
		}
	})
}

var (
	sharedOnce  sync.Once
	sharedDir   string
	sharedCases map[string]string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// externalCases are the formats decoded through ffmpeg, made once per test
// binary from one source by ffmpeg's encoders. Tests must not change them.
func externalCases(t testing.TB) map[string]string {
	sharedOnce.Do(func() {
		d, err := os.MkdirTemp("", "atelier-formats-")
		if err != nil {
			t.Fatal(err)
		}
		sharedDir = d
		sharedCases = makeExternalCases(t, d)
	})
	if sharedCases == nil {
		t.Fatal("making the test media failed in an earlier test")
	}
	return sharedCases
}

func makeExternalCases(t testing.TB, dir string) map[string]string {
	stereo := testmedia.Music(t, dir, "music.wav", 44100, 2, 2.5)
	mono := testmedia.Music(t, dir, "voice.wav", 16000, 1, 2)
	e := func(name, in string, args ...string) string {
		return testmedia.Encode(t, in, filepath.Join(dir, name), args...)
	}
	return map[string]string{
		"ogg-vorbis": e("a.ogg", stereo, "-c:a", "libvorbis", "-q:a", "4"),
		"ogg-opus":   e("a.opus", stereo, "-c:a", "libopus", "-b:a", "96k"),
		"voice-opus": e("v.opus", mono, "-c:a", "libopus", "-b:a", "24k"),
		"m4a-aac":    e("a.m4a", stereo, "-c:a", "aac", "-b:a", "128k"),
		"m4a-alac":   e("alac.m4a", stereo, "-c:a", "alac"),
		"aac-adts":   e("a.aac", mono, "-c:a", "aac", "-b:a", "48k"),
		"ogg-flac":   e("f.oga", stereo, "-c:a", "flac"),
		"webm-opus":  e("a.webm", stereo, "-c:a", "libopus", "-vn"),
		"mka-vorbis": e("a.mka", stereo, "-c:a", "libvorbis"),
		"wma":        e("a.wma", stereo, "-c:a", "wmav2", "-b:a", "128k"),
		"ac3":        e("a.ac3", stereo, "-c:a", "ac3"),
		"mp4-video":  testmedia.Video(t, dir, "clip.mp4", 160, 120, 2, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"),
		"mkv-video":  testmedia.Video(t, dir, "clip.mkv", 160, 120, 2, "-c:v", "libvpx", "-c:a", "libvorbis"),
	}
}

// TestExternalPeaksMatchFFmpeg: the formats read through ffmpeg give the
// peaks of ffmpeg's own 16-bit decode (the floats are converted as ffmpeg
// converts them).
func TestExternalPeaksMatchFFmpeg(t *testing.T) {
	for name, p := range externalCases(t) {
		t.Run(name, func(t *testing.T) {
			info := peaksAgainstFFmpeg(t, p, 1)
			if info.Decoder != "ffmpeg" || info.SampleRate == 0 || info.Codec == "" {
				t.Errorf("info %+v", info)
			}
			t.Logf("%s: format %s, codec %s, %d Hz, %d ch, %.2f s", name, info.Format, info.Codec, info.SampleRate, info.Channels, info.Duration)
		})
	}
}

func TestExternalLoudnessMatchesFFmpeg(t *testing.T) {
	dir := t.TempDir()
	music := testmedia.Music(t, dir, "music.wav", 48000, 2, 6)
	cases := map[string]string{
		"aiff":   testmedia.Encode(t, music, filepath.Join(dir, "m.aiff"), "-c:a", "pcm_s24be"),
		"vorbis": testmedia.Encode(t, music, filepath.Join(dir, "m.ogg"), "-c:a", "libvorbis"),
		"opus":   testmedia.Encode(t, music, filepath.Join(dir, "m.opus"), "-c:a", "libopus"),
		"m4a":    testmedia.Encode(t, music, filepath.Join(dir, "m.m4a"), "-c:a", "aac"),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			a := analyzeFile(t, p, 256, false)
			wantI, wantLRA := ffmpegLoudness(t, p)
			t.Logf("%s: integrated %.3f (ffmpeg %.3f), LRA %.2f (ffmpeg %.2f)", name, a.Loudness.Integrated, wantI, a.Loudness.Range, wantLRA)
			if d := a.Loudness.Integrated - wantI; d > 0.1 || d < -0.1 {
				t.Errorf("integrated loudness %.3f LUFS, ffmpeg %.3f", a.Loudness.Integrated, wantI)
			}
			if d := a.Loudness.Range - wantLRA; d > 1 || d < -1 {
				t.Errorf("loudness range %.2f LU, ffmpeg %.2f", a.Loudness.Range, wantLRA)
			}
		})
	}
}

// TestExternalBudget: the duration budget stops ffmpeg early with a warning.
func TestExternalBudget(t *testing.T) {
	p := externalCases(t)["ogg-vorbis"]
	a, err := Analyze(context.Background(), p, AnalyzeOptions{Options: Options{MaxDuration: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Info.Partial || a.Info.Samples != 44100 || len(a.Info.Warnings) == 0 {
		t.Errorf("partial %v, %d samples, warnings %v", a.Info.Partial, a.Info.Samples, a.Info.Warnings)
	}
}

// TestUnsupportedNamesTheFormat: a file Atelier cannot preview as audio is
// named for what its bytes are; a valid file of a supported format is
// never told its extension is wrong.
func TestUnsupportedNamesTheFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]struct {
		path string
		want string
	}{
		"midi":    {write("song.mp3", []byte("MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00")), "MIDI"},
		"png":     {write("cover.wav", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")), "PNG image"},
		"pdf":     {write("notes.flac", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")), "PDF document"},
		"zip":     {write("stems.aiff", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")), "ZIP archive"},
		"unknown": {write("x.ogg", []byte("this is not audio at all, just words")), "74 68 69 73"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(context.Background(), c.path, Options{}, func([]int32, int) error { return nil })
			if err == nil || !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Base(c.path)) {
				t.Fatalf("error %v: want ErrUnknownFormat naming %q and the file", err, c.want)
			}
			if strings.Contains(err.Error(), "extension") {
				t.Errorf("error %q blames the extension", err)
			}
			t.Log(err)
		})
	}
	t.Run("video-without-sound", func(t *testing.T) {
		p := testmedia.Video(t, dir, "silent.mp4", 64, 48, 1, "-c:v", "libx264", "-preset", "ultrafast", "-an")
		_, err := Decode(context.Background(), p, Options{}, func([]int32, int) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "without sound") {
			t.Fatalf("error %v", err)
		}
	})
}

// TestHostileExternal: damaged files of each ffmpeg format end in an error
// or a result with warnings, in bounded time; the process limits hold.
func TestHostileExternal(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(17, 1))
	cases := externalCases(t)
	// One file per demuxer and decoder family is enough here; every format
	// is checked against ffmpeg in TestExternalPeaksMatchFFmpeg.
	for _, name := range []string{"ogg-vorbis", "ogg-opus", "m4a-aac", "aac-adts", "webm-opus", "wma", "ac3", "mp4-video"} {
		p := cases[name]
		good := testmedia.Read(t, p)
		variants := map[string][]byte{
			"truncated":   good[:len(good)*2/5],
			"header-only": good[:min(len(good), 200)],
		}
		garbled := append([]byte(nil), good...)
		for i := len(garbled) / 8; i < len(garbled); i += 1 + rng.IntN(64) {
			garbled[i] = byte(rng.Uint32())
		}
		variants["garbled"] = garbled
		for v, b := range variants {
			t.Run(name+"/"+v, func(t *testing.T) {
				q := filepath.Join(dir, "hostile-"+v+"-"+filepath.Base(p))
				if err := os.WriteFile(q, b, 0o600); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				start := time.Now()
				a, err := Analyze(ctx, q, AnalyzeOptions{Options: Options{FFmpeg: media.Limits{Timeout: 30 * time.Second}}})
				if ctx.Err() != nil {
					t.Fatalf("no answer in %s", time.Since(start))
				}
				if err != nil {
					if !strings.Contains(err.Error(), filepath.Base(q)) {
						t.Errorf("error %q does not name the file", err)
					}
					return
				}
				t.Logf("warnings: %q", a.Info.Warnings)
				if a.Info.Samples <= 0 || a.Info.Samples > 48000*3 {
					t.Errorf("%d samples from a damaged 2.5 s file", a.Info.Samples)
				}
			})
		}
	}
	ogg := cases["ogg-vorbis"]
	t.Run("memory-limit", func(t *testing.T) {
		_, err := Decode(context.Background(), ogg, Options{FFmpeg: media.Limits{Memory: 64 << 20}}, func([]int32, int) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "memory limit") {
			t.Fatalf("with a 64 MiB address space: %v", err)
		}
	})
	t.Run("time-out", func(t *testing.T) {
		// A reader that never drains the pipe stands for a decoder that
		// hangs: the time-out stops it.
		_, err := Decode(context.Background(), ogg, Options{FFmpeg: media.Limits{Timeout: 300 * time.Millisecond}}, func([]int32, int) error {
			time.Sleep(time.Second)
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "took longer than") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Decode(ctx, ogg, Options{}, func([]int32, int) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}

// TestHostileAIFF: lying sizes and counts give errors or short results
// with warnings, never big allocations.
func TestHostileAIFF(t *testing.T) {
	comm := func(ch uint16, frames uint32, bits uint16, rate string) string {
		return "COMM\x00\x00\x00\x12" + string([]byte{byte(ch >> 8), byte(ch), byte(frames >> 24), byte(frames >> 16), byte(frames >> 8), byte(frames), byte(bits >> 8), byte(bits)}) + rate
	}
	r44100 := "\x40\x0e\xac\x44\x00\x00\x00\x00\x00\x00"
	ssnd := func(size uint32, offset uint32, data string) string {
		return "SSND" + string([]byte{byte(size >> 24), byte(size >> 16), byte(size >> 8), byte(size), byte(offset >> 24), byte(offset >> 16), byte(offset >> 8), byte(offset)}) + "\x00\x00\x00\x00" + data
	}
	cases := map[string]struct {
		data    string
		wantErr string
	}{
		"frames-lie":      {"FORM\x00\x00\x00\x00AIFF" + comm(2, 0xFFFFFFFF, 16, r44100) + ssnd(0xFFFFFFF0, 0, "\x01\x00\x02\x00\x03\x00\x04\x00"), ""},
		"offset-past-end": {"FORM\x00\x00\x00\x00AIFF" + comm(1, 10, 16, r44100) + ssnd(100, 0x7FFFFFFF, ""), "past the end"},
		"no-channels":     {"FORM\x00\x00\x00\x00AIFF" + comm(0, 10, 16, r44100) + ssnd(28, 0, "\x00\x00"), "channels"},
		"rate-inf":        {"FORM\x00\x00\x00\x00AIFF" + comm(1, 1, 16, "\x7f\xff\x80\x00\x00\x00\x00\x00\x00\x00") + ssnd(10, 0, "\x00\x00"), "sample rate"},
		"bits-0":          {"FORM\x00\x00\x00\x00AIFF" + comm(1, 1, 0, r44100) + ssnd(10, 0, "\x00\x00"), "bits"},
		"no-ssnd":         {"FORM\x00\x00\x00\x00AIFF" + comm(1, 100, 16, r44100), "no SSND"},
		"huge-chunk":      {"FORM\x00\x00\x00\x00AIFFJUNK\xff\xff\xff\xf0" + comm(1, 1, 16, r44100), "no COMM"},
		"aifc-no-type":    {"FORM\x00\x00\x00\x00AIFC" + comm(1, 1, 16, r44100) + ssnd(10, 0, "\x00\x00"), "compression type"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			info, err := DecodeBytes(context.Background(), []byte(c.data), Options{}, func([]int32, int) error { return nil })
			if c.wantErr == "" {
				if err != nil || info.Samples != 2 || len(info.Warnings) == 0 {
					t.Fatalf("info %+v, err %v: want 2 frames with a warning", info, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err %v, want %q", err, c.wantErr)
			}
		})
	}
}

// TestChainedOgg: an Ogg file of two chained streams with different channel
// counts and rates decodes whole, at the first stream's layout.
func TestChainedOgg(t *testing.T) {
	dir := t.TempDir()
	a := testmedia.Encode(t, testmedia.Music(t, dir, "a.wav", 44100, 2, 1), filepath.Join(dir, "a.ogg"), "-c:a", "libvorbis")
	b := testmedia.Encode(t, testmedia.Music(t, dir, "b.wav", 22050, 1, 1), filepath.Join(dir, "b.ogg"), "-c:a", "libvorbis")
	chained := filepath.Join(dir, "chained.ogg")
	if err := os.WriteFile(chained, append(testmedia.Read(t, a), testmedia.Read(t, b)...), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := Decode(context.Background(), chained, Options{}, func(s []int32, ch int) error {
		if ch != 2 {
			t.Fatalf("%d channels midway", ch)
		}
		return nil
	})
	if err != nil || info.Channels != 2 || info.SampleRate != 44100 || info.Duration < 1.9 || info.Duration > 2.1 {
		t.Fatalf("info %+v, %v", info, err)
	}
}

// TestExternalOneProcess: decoding through ffmpeg runs ffmpeg alone (it
// describes the file itself): with no ffprobe to be found, the preview is
// the same.
func TestExternalOneProcess(t *testing.T) {
	p := externalCases(t)["m4a-alac"]
	old := media.FFprobePath
	media.FFprobePath = filepath.Join(t.TempDir(), "no-ffprobe")
	defer func() { media.FFprobePath = old }()
	a, err := Analyze(context.Background(), p, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Info.Codec != "ALAC" || a.Info.SampleRate != 44100 || a.Info.Channels != 2 || a.Info.Bitrate == 0 || a.Info.Samples < 44100*2 {
		t.Errorf("info %+v", a.Info)
	}
}
