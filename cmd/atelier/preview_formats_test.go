package main

import (
	"encoding/json"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/preview/testmedia"
)

// `atelier preview` on the formats read through ffmpeg: an Ogg file's
// loudness, a video's facts and poster frame, the waveform of its sound;
// a file of no audio format named for what it is.
func TestCLIPreviewFormats(t *testing.T) {
	dir := t.TempDir()
	ogg := testmedia.Encode(t, testmedia.Music(t, dir, "m.wav", 44100, 2, 2), filepath.Join(dir, "field.ogg"), "-c:a", "libvorbis")
	clip := testmedia.Video(t, dir, "clip.mp4", 320, 240, 2, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")

	out, err := runCLI(t, "--json", "preview", ogg)
	if err != nil {
		t.Fatal(err)
	}
	var rep previewReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Audio == nil || rep.Audio.Format != "ogg-vorbis" || rep.Loudness == nil {
		t.Fatalf("ogg report %s: %v", out, err)
	}

	poster := filepath.Join(dir, "poster.jpg")
	out, err = runCLI(t, "--json", "preview", clip, "-o", poster)
	if err != nil {
		t.Fatal(err)
	}
	rep = previewReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Video == nil || rep.Video.Width != 320 || rep.Video.Height != 240 || rep.Video.AudioCodec != "AAC" {
		t.Fatalf("video report %s: %v", out, err)
	}
	f, err := os.Open(poster)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Width != 320 || cfg.Height != 240 {
		t.Errorf("poster %dx%d, %v", cfg.Width, cfg.Height, err)
	}

	if _, err := runCLI(t, "preview", clip, "-o", filepath.Join(dir, "sound.dat")); err != nil {
		t.Fatalf("waveform of a video's sound: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "sound.dat")); err != nil || st.Size() < 100 {
		t.Errorf("sound.dat: %v", err)
	}

	midi := filepath.Join(dir, "song.mp3")
	os.WriteFile(midi, []byte("MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0"), 0o644)
	if _, err := runCLI(t, "preview", midi); err == nil || !strings.Contains(err.Error(), "MIDI") || strings.Contains(err.Error(), "extension") {
		t.Errorf("a MIDI file named .mp3: %v", err)
	}
}
