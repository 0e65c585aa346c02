package preview

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/preview/testmedia"
)

// coverJPEG writes a 300×300 JPEG: red on the left half, blue on the right.
func coverJPEG(t *testing.T, p string) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for y := range 300 {
		for x := range 300 {
			c := color.RGBA{220, 20, 20, 255}
			if x >= 150 {
				c = color.RGBA{20, 20, 220, 255}
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAudioCoverArtBecomesThumbnail: an MP3 tagged by lame with an embedded
// picture (ID3v2 APIC) gets the picture's thumbnails beside its waveform; one
// without gets none; a damaged picture is a warning, not a failed preview.
func TestAudioCoverArtBecomesThumbnail(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(filepath.Join(dir, "cache"))
	wav := testmedia.Music(t, dir, "a.wav", 44100, 2, 1)
	cover := filepath.Join(dir, "cover.jpg")
	coverJPEG(t, cover)
	tagged := testmedia.Lame(t, wav, filepath.Join(dir, "tagged.mp3"), "-b", "128", "--tt", "Night Drive", "--ti", cover)
	plain := testmedia.Lame(t, wav, filepath.Join(dir, "plain.mp3"), "-b", "128")

	render := func(p string) Meta {
		t.Helper()
		k := Key{Hash: hashOf(t, p), Kind: Audio, Params: DefaultParams(Audio)}
		m, err := c.Render(context.Background(), k, p, 2)
		if err != nil || m.Status != "ready" {
			t.Fatalf("%s: %+v %v", p, m, err)
		}
		if m.Files["waveform"] == "" {
			t.Fatalf("%s: no waveform: %+v", p, m.Files)
		}
		return m
	}

	m := render(tagged)
	for _, role := range []string{"small", "large"} {
		f := m.Files[role]
		if f == "" {
			t.Fatalf("tagged MP3: no %s thumbnail: %+v", role, m.Files)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s thumbnail %s: %v", role, f, err)
		}
		r := img.Bounds()
		if r.Dx() != r.Dy() || r.Dx() == 0 || r.Dx() > 300 {
			t.Fatalf("%s thumbnail is %v, want a square of at most the cover's 300 px", role, r)
		}
		// the picture itself: red on the left, blue on the right
		lr, _, lb, _ := img.At(r.Dx()/4, r.Dy()/2).RGBA()
		rr, _, rb, _ := img.At(3*r.Dx()/4, r.Dy()/2).RGBA()
		if lr>>8 < 150 || lb>>8 > 80 || rb>>8 < 150 || rr>>8 > 80 {
			t.Fatalf("%s thumbnail is not the cover: left rgb(%d,·,%d) right rgb(%d,·,%d)", role, lr>>8, lb>>8, rr>>8, rb>>8)
		}
	}
	if len(m.Warnings) != 0 {
		t.Fatalf("warnings for a good cover: %v", m.Warnings)
	}

	if m := render(plain); m.Files["small"] != "" || m.Files["large"] != "" {
		t.Fatalf("an MP3 without a picture got thumbnails: %+v", m.Files)
	}

	// the picture's JPEG header damaged: the sound still previews
	data, err := os.ReadFile(tagged)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte{0xFF, 0xD8, 0xFF})
	if at < 0 {
		t.Fatal("no JPEG inside the tagged MP3")
	}
	copy(data[at:], "XXXX")
	damaged := filepath.Join(dir, "damaged.mp3")
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	m = render(damaged)
	if m.Files["small"] != "" {
		t.Fatalf("a damaged cover got a thumbnail: %+v", m.Files)
	}
	if len(m.Warnings) == 0 || !strings.Contains(strings.Join(m.Warnings, " "), "damaged.mp3") {
		t.Fatalf("no warning naming the file for a damaged cover: %v", m.Warnings)
	}
}
