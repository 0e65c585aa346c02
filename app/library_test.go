package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app/library"
	"atelier/app/preview"
	"atelier/app/preview/testmedia"
	"atelier/internal/testwait"
)

func TestLibraryPreviewsEndToEnd(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Demo Song")
	if err := os.MkdirAll(filepath.Join(proj, "stems"), 0o755); err != nil {
		t.Fatal(err)
	}
	wav := testmedia.Music(t, filepath.Join(proj, "stems"), "bass.wav", 44100, 2, 2)
	testmedia.Lame(t, wav, filepath.Join(proj, "mix.mp3"), "-b", "128")
	data := testmedia.Read(t, wav)
	os.WriteFile(filepath.Join(proj, "bass copy.wav"), data, 0o644)
	img := image.NewNRGBA(image.Rect(0, 0, 320, 200))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	img.SetNRGBA(10, 10, color.NRGBA{255, 0, 0, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(filepath.Join(proj, "cover.png"), b.Bytes(), 0o644)
	os.WriteFile(filepath.Join(proj, "notes.txt"), []byte("lyrics"), 0o644)
	os.WriteFile(filepath.Join(proj, "broken.mp3"), bytes.Repeat([]byte("junk"), 100), 0o644)

	e, id, seen := openWithProject(t, root, proj, Options{Background: true})

	want := map[string]string{
		"mix.mp3": "ready", "stems/bass.wav": "ready", "bass copy.wav": "ready",
		"cover.png": "ready", "notes.txt": "unsupported", "broken.mp3": "failed",
	}
	var items []library.LibraryItem
	testwait.Until(t, 90*time.Second, 50*time.Millisecond, func() error {
		var err error
		if items, err = e.Library.List(id, ""); err != nil {
			t.Fatal(err)
		}
		if len(items) != len(want) || pendingItems(items) > 0 {
			return fmt.Errorf("previews not ready: %+v", items)
		}
		return nil
	})
	byPath := map[string]library.LibraryItem{}
	for _, it := range items {
		byPath[it.Path] = it
		if w, ok := want[it.Path]; !ok || w != it.Status {
			t.Errorf("%s: status %q (%s), want %q", it.Path, it.Status, it.Error, w)
		}
	}
	if byPath["bass copy.wav"].Waveform == "" || byPath["bass copy.wav"].Waveform != byPath["stems/bass.wav"].Waveform {
		t.Errorf("a copy should share its preview: %q vs %q", byPath["bass copy.wav"].Waveform, byPath["stems/bass.wav"].Waveform)
	}
	for _, f := range []string{byPath["mix.mp3"].Waveform, byPath["mix.mp3"].Peaks, byPath["cover.png"].Thumb, byPath["cover.png"].Large} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("preview file %q: %v", f, err)
		}
	}
	if byPath["broken.mp3"].Error == "" {
		t.Error("a failed preview carries no error")
	}
	images, _ := e.Library.List(id, "image")
	if len(images) != 1 || images[0].Path != "cover.png" {
		t.Errorf("kind filter: %+v", images)
	}

	d, err := e.Library.Detail(id, "mix.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if d.Audio == nil || d.Audio.Format != "mp3" || d.Loudness == nil || len(d.Loudness.Targets) < 2 {
		t.Fatalf("detail %+v", d)
	}
	if d.Loudness.Targets[0].LUFS != -14 || d.Loudness.Targets[1].LUFS != -16 {
		t.Errorf("targets %+v", d.Loudness.Targets)
	}
	if err := e.Library.Focus(id, []string{"mix.mp3"}); err != nil {
		t.Fatal(err)
	}
	st := e.Library.Stats()
	if st.Done != 3 || st.Failed != 1 { // the two copies rendered once
		t.Errorf("stats %+v, want 3 rendered and 1 failed", st)
	}
	time.Sleep(400 * time.Millisecond) // the throttled events
	if ev := seen(); ev[library.PreviewEvent] == 0 || ev[library.PreviewProgressEvent] == 0 {
		t.Errorf("events seen: %v", ev)
	}

	// A teaser lands beside its MP3 (and is indexed and previewed like any file).
	cr, err := e.Library.Clip(id, "mix.mp3", 0.5, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Path != "mix (teaser 0-00).mp3" || cr.Length < 0.9 || cr.Length > 1.1 {
		t.Errorf("clip %+v", cr)
	}
	if _, err := os.Stat(cr.Source); err != nil {
		t.Errorf("teaser not written: %v", err)
	}
	if _, err := e.Library.Clip(id, "cover.png", 0, 1); err == nil {
		t.Error("clipped a PNG")
	}

	// Clearing the cache (Settings) renders the previews again.
	if err := os.RemoveAll(filepath.Join(e.Dirs.Cache, "previews")); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 60*time.Second, 50*time.Millisecond, func() error {
		items, err := e.Library.List(id, "")
		if err != nil {
			t.Fatal(err)
		}
		if pendingItems(items) > 0 {
			return fmt.Errorf("not rendered again after clearing the cache: %+v", items)
		}
		return nil
	})
	cover, err := e.Library.Detail(id, "cover.png")
	if err != nil || cover.Status != "ready" {
		t.Fatalf("cover after re-render: %+v %v", cover, err)
	}
	if _, err := os.Stat(cover.Thumb); err != nil {
		t.Fatalf("thumbnail after re-render: %v", err)
	}

	// A collection keeps what a project still holds.
	if n, err := e.Library.Collect(); err != nil || n != 0 {
		t.Fatalf("collected %d previews of live files (%v)", n, err)
	}
	if _, err := os.Stat(byPath["mix.mp3"].Waveform); err != nil {
		t.Fatalf("a live waveform was collected: %v", err)
	}

	// Content no project holds any more is collected.
	if err := e.Projects.Remove(id); err != nil {
		t.Fatal(err)
	}
	n, err := e.Library.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 { // 4, plus the teaser's when it was rendered in time
		t.Errorf("collected %d previews, want at least 4", n)
	}
	if _, err := os.Stat(byPath["mix.mp3"].Waveform); !os.IsNotExist(err) {
		t.Errorf("stale waveform survived: %v", err)
	}
}

// A render that fails without a stored result (here the preview cache
// cannot be written) is recorded and attempted once, not queued again by
// every listing; a WAV whose loudness cannot be measured (random 8-bit
// samples at 1 kHz) renders, its metadata stored (issue 11, item 13).
func TestLibraryFailedRenderIsNotRetried(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Song")
	os.MkdirAll(proj, 0o755)
	noise := make([]byte, 20000)
	for i := range noise {
		noise[i] = byte(i*7919 ^ i>>3)
	}
	wav := func(rate int, data []byte) []byte {
		var b bytes.Buffer
		le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
		b.WriteString("RIFF")
		le(uint32(36 + len(data)))
		b.WriteString("WAVEfmt ")
		le(uint32(16))
		le(uint16(1))
		le(uint16(1))
		le(uint32(rate))
		le(uint32(rate))
		le(uint16(1))
		le(uint16(8))
		b.WriteString("data")
		le(uint32(len(data)))
		b.Write(data)
		return b.Bytes()
	}
	os.WriteFile(filepath.Join(proj, "noise.wav"), wav(1000, noise), 0o644)
	e, id, _ := openWithProject(t, root, proj, Options{Background: true})
	waitStatus := func(p string) library.LibraryItem {
		t.Helper()
		var found library.LibraryItem
		testwait.Until(t, 30*time.Second, 20*time.Millisecond, func() error {
			items, err := e.Library.List(id, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Path == p && it.Status != "pending" {
					found = it
					return nil
				}
			}
			return fmt.Errorf("%s never rendered: %+v", p, items)
		})
		return found
	}
	if it := waitStatus("noise.wav"); it.Status != "ready" || it.LUFS != nil {
		t.Fatalf("noise.wav: %+v", it)
	}
	d, err := e.Library.Detail(id, "noise.wav")
	if err != nil || d.Loudness == nil || d.Loudness.NotMeasurable == "" {
		t.Fatalf("detail %+v %v", d.Loudness, err)
	}
	if _, err := json.Marshal(d); err != nil {
		t.Fatalf("detail does not encode: %v", err)
	}
	// break the cache: no render result can be stored any more
	v1 := filepath.Join(e.Dirs.Cache, "previews", fmt.Sprintf("v%d", preview.RendererVersion))
	if err := os.RemoveAll(v1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v1, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := e.Library.Stats()
	os.WriteFile(filepath.Join(proj, "other.wav"), wav(8000, noise), 0o644)
	it := waitStatus("other.wav")
	if it.Status != "failed" || !strings.Contains(it.Error, "preview cache") {
		t.Fatalf("other.wav: %+v", it)
	}
	for range 20 {
		if _, err := e.Library.List(id, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Library.Detail(id, "other.wav"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.libraryCtl.Idle(ctx)
	after := e.Library.Stats()
	if attempts := (after.Done + after.Failed) - (before.Done + before.Failed); attempts != 1 {
		t.Fatalf("the failing render was attempted %d times, want once (%+v)", attempts, after)
	}
}

// A file written in 20 chunks over 3 seconds renders once, when it has
// settled, not once per chunk (issue 11, item 18).
func TestLibrarySlowWriterRendersOnce(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Art")
	os.MkdirAll(proj, 0o755)
	e, id, _ := openWithProject(t, root, proj, Options{Background: true, PreviewSettle: 700 * time.Millisecond})
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i*31 ^ i>>7)
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	data := b.Bytes()
	p := filepath.Join(proj, "slow.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	step := (len(data) + 19) / 20
	for i := 0; i < len(data); i += step {
		if _, err := f.Write(data[i:min(i+step, len(data))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}
	f.Close()
	var it library.LibraryItem
	testwait.Until(t, 30*time.Second, 50*time.Millisecond, func() error {
		items, err := e.Library.List(id, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 1 && items[0].Status != "pending" && items[0].Size == int64(len(data)) {
			it = items[0]
			return nil
		}
		return fmt.Errorf("slow.png never rendered: %+v", items)
	})
	time.Sleep(time.Second) // a late render of an older version would show now
	st := e.Library.Stats()
	if it.Status != "ready" || st.Done+st.Failed != 1 {
		t.Fatalf("slow.png: %s %s; %d renders (%+v), want 1", it.Status, it.Error, st.Done+st.Failed, st.QueueStats)
	}
}

// openWithProject opens an engine under root/home (closed when the test
// ends), counts its events by name from the start, and adds proj. seen
// returns a copy of the counts so far.
func openWithProject(t *testing.T, root, proj string, o Options) (e *Engine, id string, seen func() map[string]int) {
	t.Helper()
	e, err := Open(DirsUnder(filepath.Join(root, "home")), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	events, stop := e.Hub().Subscribe()
	t.Cleanup(stop)
	var mu sync.Mutex
	counts := map[string]int{}
	go func() {
		for ev := range events {
			mu.Lock()
			counts[ev.Name]++
			mu.Unlock()
		}
	}()
	p, err := e.Projects.Add(proj)
	if err != nil {
		t.Fatal(err)
	}
	return e, string(p.ID), func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(counts)
	}
}

// pendingItems counts the items whose preview is still to come.
func pendingItems(items []library.LibraryItem) int {
	n := 0
	for _, it := range items {
		if it.Status == "pending" {
			n++
		}
	}
	return n
}
