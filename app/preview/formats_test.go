package preview

import (
	"context"
	"errors"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/app/index"
	"atelier/app/preview/media"
	"atelier/app/preview/testmedia"
	"atelier/app/preview/thumb"
)

func TestKindFor(t *testing.T) {
	for name, want := range map[string]Kind{
		"take.AIF": Audio, "a.aifc": Audio, "memo.m4a": Audio, "field.opus": Audio, "x.ogg": Audio, "a.wav": Audio,
		"clip.MOV": Video, "a.mkv": Video, "a.webm": Video, "a.mp4": Video, "a.avi": Video,
		"cover.jpg": Image, "notes.txt": "", "noext": "",
	} {
		if got := KindFor(name); got != want {
			t.Errorf("KindFor(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestRenderNewFormats: AIFF, Ogg Vorbis, Opus and M4A render waveforms;
// video renders poster thumbnails with its duration and size; an .mp4 with
// only sound renders a waveform.
func TestRenderNewFormats(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(filepath.Join(dir, "cache"))
	wav := testmedia.Music(t, dir, "m.wav", 44100, 2, 2)
	enc := func(name string, args ...string) string {
		return testmedia.Encode(t, wav, filepath.Join(dir, name), args...)
	}
	audioFiles := []string{
		enc("m.aiff", "-c:a", "pcm_s24be"),
		enc("m.ogg", "-c:a", "libvorbis"),
		enc("m.opus", "-c:a", "libopus"),
		enc("m.m4a", "-c:a", "aac"),
	}
	for _, p := range audioFiles {
		k := Key{Hash: hashOf(t, p), Kind: KindFor(p), Params: DefaultParams(Audio)}
		m, err := c.Render(context.Background(), k, p, 1)
		if err != nil || m.Status != "ready" || m.Audio == nil || m.Files["peaks"] == "" || m.Audio.Duration < 1.9 {
			t.Fatalf("%s: %+v, %v", filepath.Base(p), m, err)
		}
	}

	clip := testmedia.Video(t, dir, "clip.mov", 640, 360, 3, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")
	k := Key{Hash: hashOf(t, clip), Kind: KindFor(clip), Params: DefaultParams(Video)}
	m, err := c.Render(context.Background(), k, clip, 1)
	if err != nil || m.Status != "ready" {
		t.Fatalf("video: %+v, %v", m, err)
	}
	v := m.Video
	if v == nil || v.Width != 640 || v.Height != 360 || v.Duration < 2.9 || v.Duration > 3.1 || v.Codec != "H.264" || v.AudioCodec != "AAC" || v.Format != "mov" {
		t.Fatalf("video info %+v", v)
	}
	for role, want := range map[string]int{"small": thumb.Small, "large": thumb.Large} {
		f, err := os.Open(m.Files[role])
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		cfg, err := jpeg.DecodeConfig(f)
		f.Close()
		if err != nil || max(cfg.Width, cfg.Height) != min(want, 640) {
			t.Errorf("%s thumbnail %dx%d (%v), want longest side %d", role, cfg.Width, cfg.Height, err, min(want, 640))
		}
	}

	soundOnly := enc("memo.mp4", "-c:a", "aac")
	k = Key{Hash: hashOf(t, soundOnly), Kind: KindFor(soundOnly), Params: DefaultParams(Video)}
	m, err = c.Render(context.Background(), k, soundOnly, 1)
	if err != nil || m.Audio == nil || m.Files["waveform"] == "" {
		t.Fatalf("sound-only mp4: %+v, %v", m, err)
	}

	fake := filepath.Join(dir, "fake.mp4")
	os.WriteFile(fake, []byte("%PDF-1.7 not a video"), 0o600)
	k = Key{Hash: hashOf(t, fake), Kind: Video, Params: DefaultParams(Video)}
	m, err = c.Render(context.Background(), k, fake, 1)
	if err == nil || m.Status != "failed" || !strings.Contains(m.Error, "PDF document") {
		t.Fatalf("pdf named .mp4: %+v, %v", m, err)
	}
}

// TestKindForAgreesWithIndex: every name that gets a preview is of the same
// kind in the file index (which the Library filters by).
func TestKindForAgreesWithIndex(t *testing.T) {
	for ext, k := range kindByExt {
		if got := string(index.KindOf("x" + ext)); got != string(k) {
			t.Errorf("%s: preview kind %q, index kind %q", ext, k, got)
		}
	}
}

// TestHostileVideo: damaged clips end in a failed preview or a poster, in
// bounded time.
func TestHostileVideo(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(filepath.Join(dir, "cache"))
	clips := []string{
		testmedia.Video(t, dir, "a.mp4", 320, 240, 2, "-c:v", "libx264", "-preset", "ultrafast", "-an"),
		testmedia.Video(t, dir, "a.webm", 320, 240, 2, "-c:v", "libvpx", "-an"),
		testmedia.Video(t, dir, "a.avi", 320, 240, 2, "-c:v", "mjpeg", "-an"),
	}
	for _, clip := range clips {
		good := testmedia.Read(t, clip)
		garbled := append([]byte(nil), good...)
		for i := len(garbled) / 10; i < len(garbled); i += 37 {
			garbled[i] ^= 0x5A
		}
		for v, b := range map[string][]byte{"truncated": good[:len(good)/3], "header-only": good[:min(len(good), 300)], "garbled": garbled} {
			p := filepath.Join(dir, v+"-"+filepath.Base(clip))
			os.WriteFile(p, b, 0o600)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			m, err := c.Render(ctx, Key{Hash: hashOf(t, p), Kind: Video, Params: DefaultParams(Video)}, p, 1)
			if ctx.Err() != nil {
				t.Fatalf("%s: no answer in a minute", p)
			}
			cancel()
			if err != nil && (m.Status != "failed" || !strings.Contains(m.Error, filepath.Base(p))) {
				t.Errorf("%s: error %q does not name the file (status %s)", filepath.Base(p), m.Error, m.Status)
			}
			t.Logf("%s: status %s %s", filepath.Base(p), m.Status, m.Error)
		}
	}
}

// TestMissingFFmpegIsNotStored: without ffmpeg an Ogg file fails with words
// saying what to install, and the failure is not cached against the content
// (installing ffmpeg makes it render).
func TestMissingFFmpegIsNotStored(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(filepath.Join(dir, "cache"))
	ogg := testmedia.Encode(t, testmedia.Music(t, dir, "m.wav", 8000, 1, 1), filepath.Join(dir, "m.ogg"), "-c:a", "libvorbis")
	media.FFmpegPath, media.FFprobePath = filepath.Join(dir, "no-ffmpeg"), filepath.Join(dir, "no-ffprobe")
	k := Key{Hash: hashOf(t, ogg), Kind: Audio, Params: DefaultParams(Audio)}
	_, err := c.Render(context.Background(), k, ogg, 1)
	media.FFmpegPath, media.FFprobePath = "", ""
	if !errors.Is(err, media.ErrToolMissing) || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Fatalf("error %v", err)
	}
	if _, ok := c.Load(k.ID()); ok {
		t.Fatal("a failure for a missing ffmpeg was stored against the content")
	}
	if m, err := c.Render(context.Background(), k, ogg, 1); err != nil || m.Status != "ready" {
		t.Fatalf("with ffmpeg: %+v %v", m, err)
	}
}
