package library

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"atelier/app/host"
	"atelier/app/index"
	"atelier/localdb"
)

type testHost struct {
	ctx context.Context
	wg  sync.WaitGroup
}

func (h *testHost) Go(fn func(context.Context)) {
	h.wg.Add(1)
	go func() { defer h.wg.Done(); fn(h.ctx) }()
}
func (h *testHost) Context() context.Context { return h.ctx }
func (h *testHost) Emit(string, any)         {}

// countingFiles is a FileSource that counts the calls it answers.
type countingFiles struct{ calls atomic.Int32 }

func (f *countingFiles) Project(ref string) (host.Project, error) {
	f.calls.Add(1)
	return host.Project{ID: index.ProjectID(ref), Root: "/nowhere"}, nil
}
func (f *countingFiles) Projects() ([]host.Project, error) { f.calls.Add(1); return nil, nil }
func (f *countingFiles) Record(index.ProjectID, string) (index.FileRecord, error) {
	f.calls.Add(1)
	return index.FileRecord{}, nil
}
func (f *countingFiles) Records(index.ProjectID, string) ([]index.FileRecord, error) {
	f.calls.Add(1)
	return nil, nil
}

// A change arrives with its project's root: the Library queues its preview
// without asking the file source anything (it used to look the project up
// in the projects table for every change).
func TestConsiderNeedsNoLookup(t *testing.T) {
	files := &countingFiles{}
	_, _, ctl := newTestLibrary(t, files, func(string, map[string]any) {})
	old := time.Now().Add(-time.Hour)
	for i, p := range []string{"a.mp3", "b.png", "notes.txt"} {
		ctl.Consider("/music", index.Change{Op: index.OpCreate, Record: index.FileRecord{
			Project: "p", Path: p, Size: 10, ModTime: old, SHA256: index.Digest(sha256.Sum256([]byte{byte(i)})),
		}})
	}
	if n := files.calls.Load(); n != 0 {
		t.Fatalf("Consider asked the file source %d times, want 0", n)
	}
	if st := ctl.s.queue.Stats(); st.Pending != 2 {
		t.Fatalf("%d previews queued, want 2 (the MP3 and the PNG)", st.Pending)
	}
}

// newTestLibrary makes a Library on a fresh database with files as its
// file source and record as its event recorder; when the test ends it is
// closed, its goroutines are waited for and the database is closed. ctx is
// the host's context (for ctl.Start).
func newTestLibrary(t *testing.T, files FileSource, record func(string, map[string]any)) (ctx context.Context, s *Service, ctl *Control) {
	t.Helper()
	dbDir, cacheDir := t.TempDir(), t.TempDir()
	db, err := localdb.Open(filepath.Join(dbDir, "db"), localdb.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	h := &testHost{ctx: ctx}
	t.Cleanup(func() { cancel(); h.wg.Wait() })
	s, ctl, err = New(Config{DB: db, Log: slog.New(slog.DiscardHandler), Host: h, Files: files,
		Record: record, CacheDir: cacheDir, Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	return ctx, s, ctl
}

// projectFiles is a FileSource of fixed projects (no files) that counts
// how often the index is read.
type projectFiles struct {
	countingFiles
	ids     []index.ProjectID
	records atomic.Int32
}

func (f *projectFiles) Projects() ([]host.Project, error) {
	var ps []host.Project
	for _, id := range f.ids {
		ps = append(ps, host.Project{ID: id, Root: "/music/" + string(id)})
	}
	return ps, nil
}
func (f *projectFiles) Records(index.ProjectID, string) ([]index.FileRecord, error) {
	f.records.Add(1)
	return nil, nil
}

// The periodic collection of stale previews reads the index only when
// something may have gone stale since the last one: a file deleted or
// rewritten, a project added or removed (issue 16: it was a full scan of
// 100,000 files every 30 minutes of an idle day).
func TestCollectOnlyAfterChanges(t *testing.T) {
	files := &projectFiles{ids: []index.ProjectID{"ep"}}
	_, s, ctl := newTestLibrary(t, files, func(string, map[string]any) {})
	if !s.mayHaveStale() {
		t.Fatal("never collected: a collection is due")
	}
	if _, err := s.collect(); err != nil {
		t.Fatal(err)
	}
	if s.mayHaveStale() {
		t.Fatal("nothing changed since the last collection, yet one is due")
	}
	rec := index.FileRecord{Project: "ep", Path: "a.wav", Size: 10, ModTime: time.Now().Add(-time.Hour), SHA256: index.Digest(sha256.Sum256([]byte("a")))}
	ctl.Consider("/music/ep", index.Change{Op: index.OpCreate, Record: rec})
	if s.mayHaveStale() {
		t.Fatal("a new file leaves nothing stale, yet a collection is due")
	}
	ctl.Consider("/music/ep", index.Change{Op: index.OpDelete, Record: rec})
	if !s.mayHaveStale() {
		t.Fatal("a file was deleted: a collection is due")
	}
	if _, err := s.collect(); err != nil {
		t.Fatal(err)
	}
	if s.mayHaveStale() {
		t.Fatal("collected after the delete, yet another is due")
	}
	files.ids = append(files.ids, "demo")
	if !s.mayHaveStale() {
		t.Fatal("a project came: a collection is due")
	}
}

// With nothing rendered, a collection has nothing to remove and does not
// read the index (a quiet engine's first minutes, issue 16); once a preview
// folder exists, it reads the index and removes what no file holds.
func TestCollectWithoutPreviewsSkipsTheIndex(t *testing.T) {
	files := &projectFiles{ids: []index.ProjectID{"ep"}}
	_, s, _ := newTestLibrary(t, files, func(string, map[string]any) {})
	if _, err := s.collect(); err != nil {
		t.Fatal(err)
	}
	if n := files.records.Load(); n != 0 {
		t.Fatalf("an empty preview cache: the collection read the index %d times", n)
	}
	if s.mayHaveStale() {
		t.Fatal("collected, yet another collection is due")
	}
	old := filepath.Join(s.cache.Root, "v0")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := s.collect()
	if err != nil {
		t.Fatal(err)
	}
	if files.records.Load() == 0 {
		t.Fatal("a preview folder exists: the collection must read the index")
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) || n != 1 {
		t.Fatalf("an older renderer's folder must go: removed %d, stat %v", n, err)
	}
}
