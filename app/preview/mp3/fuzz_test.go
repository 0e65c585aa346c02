package mp3

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atelier/app/preview/testmedia"
)

// seeds are short MP3s of each kind the decoder supports, made with lame.
func seeds(f *testing.F) [][]byte {
	dir := f.TempDir()
	wav := testmedia.Music(f, dir, "s.wav", 44100, 2, 0.08)
	mono := testmedia.Music(f, dir, "m.wav", 22050, 1, 0.08)
	low := testmedia.Music(f, dir, "l.wav", 8000, 1, 0.2) // MPEG-2.5
	var out [][]byte
	for i, c := range []struct {
		wav  string
		args []string
	}{
		{wav, []string{"-b", "128"}},
		{wav, []string{"-V", "5"}},
		{mono, []string{"-b", "32"}},
		{mono, []string{"-b", "24", "-t"}},
		{wav, []string{"--resample", "22.05", "-b", "32"}},
		{low, []string{"-b", "16"}},
	} {
		p := testmedia.Lame(f, c.wav, filepath.Join(dir, "seed"+string(rune('a'+i))+".mp3"), c.args...)
		out = append(out, testmedia.Read(f, p))
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Add([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f\xff\xfb\x90\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Scan(data)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		watchdog := time.AfterFunc(10*time.Second, func() {
			os.WriteFile(filepath.Join(os.TempDir(), "mp3-fuzz-hang.mp3"), data, 0o644)
			panic("decode hangs on this input (saved to $TMPDIR/mp3-fuzz-hang.mp3)")
		})
		defer watchdog.Stop()
		var n int
		_, _ = Decode(ctx, data, st, Options{Workers: 2, ChunkFrames: 2, Preroll: 1}, func(p []int16) error {
			n += len(p)
			return nil
		})
		if int64(n) > st.Samples()*int64(st.Channels) {
			t.Fatalf("decoded %d values, more than the %d the stream holds", n, st.Samples()*int64(st.Channels))
		}
	})
}

func FuzzClip(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, uint16(50), uint16(100))
	}
	f.Fuzz(func(t *testing.T, data []byte, startMs, lenMs uint16) {
		_, _, _ = Clip(data, time.Duration(startMs)*time.Millisecond, time.Duration(lenMs)*time.Millisecond)
	})
}
