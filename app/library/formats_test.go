package library

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"atelier/app/host"
	"atelier/app/index"
	"atelier/app/preview/testmedia"
	"atelier/internal/testwait"
)

// dirFiles is a FileSource over the files of one folder.
type dirFiles struct{ root string }

func (f dirFiles) Project(string) (host.Project, error) {
	return host.Project{ID: "p", Root: f.root}, nil
}
func (f dirFiles) Projects() ([]host.Project, error) {
	p, _ := f.Project("")
	return []host.Project{p}, nil
}
func (f dirFiles) Record(_ index.ProjectID, p string) (index.FileRecord, error) {
	b, err := os.ReadFile(filepath.Join(f.root, p))
	if err != nil {
		return index.FileRecord{}, err
	}
	return index.FileRecord{Project: "p", Path: p, Size: int64(len(b)), ModTime: time.Now().Add(-time.Hour),
		SHA256: index.Digest(sha256.Sum256(b)), Kind: index.KindOf(p)}, nil
}
func (f dirFiles) Records(id index.ProjectID, kind string) ([]index.FileRecord, error) {
	es, err := os.ReadDir(f.root)
	if err != nil {
		return nil, err
	}
	var out []index.FileRecord
	for _, e := range es {
		r, err := f.Record(id, e.Name())
		if err != nil {
			return nil, err
		}
		if kind == "" || string(r.Kind) == kind {
			out = append(out, r)
		}
	}
	return out, nil
}

// TestNewFormatsInTheLibrary: AIFF, Ogg Vorbis, Opus, M4A and video files in
// a project get previews: waveforms and loudness for the sound, poster
// thumbnails with duration and size for the video.
func TestNewFormatsInTheLibrary(t *testing.T) {
	root := t.TempDir()
	wav := testmedia.Music(t, t.TempDir(), "m.wav", 44100, 2, 2)
	for name, codec := range map[string]string{"take.aif": "pcm_s16be", "field.ogg": "libvorbis", "voice.opus": "libopus", "memo.m4a": "aac"} {
		testmedia.Encode(t, wav, filepath.Join(root, name), "-c:a", codec)
	}
	testmedia.Video(t, root, "clip.mp4", 320, 240, 2, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")

	var (
		mu     sync.Mutex
		events []map[string]any
	)
	ctx, s, ctl := newTestLibrary(t, dirFiles{root},
		func(_ string, f map[string]any) { mu.Lock(); events = append(events, f); mu.Unlock() })
	ctl.Start(ctx)
	var items []LibraryItem
	testwait.Until(t, 2*time.Minute, 100*time.Millisecond, func() error {
		var err error
		if items, err = s.List("p", ""); err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Status == "pending" {
				return fmt.Errorf("previews not ready: %+v", items)
			}
		}
		return nil
	})
	for _, it := range items {
		if it.Status != "ready" {
			t.Errorf("%s: %s %s", it.Path, it.Status, it.Error)
			continue
		}
		switch it.Kind {
		case "audio":
			if it.Waveform == "" || it.LUFS == nil || it.Duration < 1.9 {
				t.Errorf("%s: %+v", it.Path, it)
			}
		case "video":
			if it.Thumb == "" || it.Width != 320 || it.Height != 240 || it.Duration < 1.9 {
				t.Errorf("%s: %+v", it.Path, it)
			}
			d, err := s.Detail("p", it.Path)
			if err != nil || d.Video == nil || d.Video.Codec != "H.264" {
				t.Errorf("detail %+v %v", d, err)
			}
		default:
			t.Errorf("%s: kind %q", it.Path, it.Kind)
		}
	}
	if len(items) != 5 {
		t.Errorf("%d items, want 5", len(items))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range events {
		switch fmt.Sprint(e["format"]) {
		case "ogg", "aac", "other":
		default:
			t.Errorf("preview event format %v is outside the event's enum for these files", e["format"])
		}
	}
}
