package preview

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/app/preview/testmedia"
)

func hashOf(t *testing.T, p string) string {
	s := sha256.Sum256(testmedia.Read(t, p))
	return hex.EncodeToString(s[:])
}

func TestRenderAndCollect(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(filepath.Join(dir, "cache"))
	wav := testmedia.Music(t, dir, "a.wav", 44100, 2, 2)
	mp := testmedia.Lame(t, wav, filepath.Join(dir, "a.mp3"), "-b", "128")
	img := filepath.Join(dir, "a.png")
	m := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	os.WriteFile(img, b.Bytes(), 0o600)

	keys := map[string]Key{}
	for _, p := range []string{wav, mp, img} {
		kind := Audio
		if strings.HasSuffix(p, ".png") {
			kind = Image
		}
		k := Key{Hash: hashOf(t, p), Kind: kind, Params: DefaultParams(kind)}
		keys[p] = k
		meta, err := c.Render(context.Background(), k, p, 2)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if meta.Status != "ready" || len(meta.Files) == 0 {
			t.Fatalf("%s: %+v", p, meta)
		}
		for role, f := range meta.Files {
			if _, err := os.Stat(f); err != nil {
				t.Fatalf("%s: %s missing: %v", p, role, err)
			}
		}
		back, ok := c.Load(k.ID())
		if !ok || back.ID != meta.ID {
			t.Fatalf("%s: Load after Render failed", p)
		}
	}
	if m, _ := c.Load(keys[mp].ID()); m.Audio == nil || m.Loudness == nil || m.Audio.Duration < 1.9 {
		t.Fatalf("audio meta %+v", m)
	}
	// An old renderer version's leftovers and unreferenced content are collected.
	old := filepath.Join(c.Root, "v0", "ab", "abc")
	os.MkdirAll(old, 0o700)
	n, err := c.Collect(func(h string) bool { return h == keys[img].Hash })
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("collected %d, want 3 (old version + 2 audio previews)", n)
	}
	if _, ok := c.Load(keys[img].ID()); !ok {
		t.Fatal("a live preview was collected")
	}
	if _, ok := c.Load(keys[mp].ID()); ok {
		t.Fatal("a stale preview survived")
	}
}

// TestHostileInputs: every bad input ends in an error or a preview with
// warnings, quickly, without a panic or a huge allocation.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(filepath.Join(dir, "cache"))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	music := testmedia.Music(t, dir, "music.wav", 44100, 2, 3)
	mp := testmedia.Lame(t, music, filepath.Join(dir, "music.mp3"), "-b", "128")
	mpData := testmedia.Read(t, mp)
	flac := filepath.Join(dir, "music.flac")
	testmedia.Run(t, "sox", music, flac)
	flacData := testmedia.Read(t, flac)
	wavData := testmedia.Read(t, music)
	damaged := append([]byte(nil), mpData...)
	for i := len(damaged) / 3; i < len(damaged)/3+2000; i += 7 {
		damaged[i] ^= 0x5A
	}
	hugeID3 := append([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x64}, 25)...)
	var pngBomb bytes.Buffer
	png.Encode(&pngBomb, image.NewGray(image.Rect(0, 0, 1, 1)))
	bomb := pngBomb.Bytes()
	// Patch IHDR to 50000×50000 (and fix its CRC).
	bomb = patchIHDR(bomb, 50000, 50000)
	// A WAV header that promises 10 hours but holds 1 second.
	tenHours := append([]byte(nil), wavData[:44+44100*4]...)
	copy(tenHours[40:], le32(uint32(10*3600*44100)))
	copy(tenHours[22:], []byte{1, 0}) // mono: 10 h of 16-bit at 44.1 kHz fits in the 32-bit size

	cases := []struct {
		name  string
		path  string
		kind  Kind
		fails bool // an error is expected; otherwise a preview with warnings
	}{
		{"garbage.mp3", write("garbage.mp3", bytes.Repeat([]byte("not audio "), 500)), Audio, true},
		{"text-as.wav", write("notes.wav", []byte("RIFF but not really")), Audio, true},
		{"zero.mp3", write("zero.mp3", nil), Audio, true},
		{"zero.png", write("zero.png", nil), Image, true},
		{"huge-id3.mp3", write("id3.mp3", hugeID3), Audio, true},
		{"png-bomb.png", write("bomb.png", bomb), Image, true},
		{"wav-named.mp3", write("really-a-wav.mp3", wavData), Audio, false},
		{"mp3-named.png", write("really-an-mp3.png", mpData), Image, true},
		{"truncated.mp3", write("trunc.mp3", mpData[:len(mpData)/2+77]), Audio, false},
		{"truncated.wav", write("trunc.wav", wavData[:len(wavData)/2+3]), Audio, false},
		{"truncated.flac", write("trunc.flac", flacData[:len(flacData)/2]), Audio, false},
		{"damaged.mp3", write("damaged.mp3", damaged), Audio, false},
		{"ten-hours.wav", write("ten-hours.wav", tenHours), Audio, false},
		{"96k-8ch.wav", testmedia.Tone(t, dir, "surround.wav", 96000, 8, 24, 1, "", "sine", "440"), Audio, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := Key{Hash: hashOf(t, tc.path), Kind: tc.kind, Params: DefaultParams(tc.kind)}
			start := time.Now()
			m, err := c.Render(context.Background(), k, tc.path, 2)
			took := time.Since(start)
			if took > 20*time.Second {
				t.Errorf("took %s", took)
			}
			if tc.fails {
				if err == nil {
					t.Fatalf("no error; meta %+v", m)
				}
				if m.Status != "failed" {
					t.Errorf("status %q, want failed stored", m.Status)
				}
				t.Logf("%s: %v", tc.name, err)
				return
			}
			if err != nil {
				t.Fatalf("want a (partial) preview, got %v", err)
			}
			t.Logf("%s: %d warnings %v", tc.name, len(m.Warnings), m.Warnings)
			if strings.Contains(tc.name, "truncated") || tc.name == "ten-hours.wav" {
				if len(m.Warnings) == 0 {
					t.Errorf("no warning for a damaged file")
				}
			}
		})
	}
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

var _ = color.Black
