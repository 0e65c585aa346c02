package app

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"atelier/app/index"
	"atelier/app/watch"
	"atelier/internal/testwait"
	"atelier/localdb"
)

func openEngine(t *testing.T, dirs Dirs, background bool) *Engine {
	t.Helper()
	e, err := Open(dirs, Options{Background: background, Serve: background})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// diskState is what the index should hold: path -> SHA-256, with the default
// ignores applied.
func diskState(t *testing.T, root string) map[string]index.Digest {
	t.Helper()
	ig := index.LoadIgnorer(root)
	out := map[string]index.Digest{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel != "." && ig.Ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err == nil {
				out[rel] = sha256.Sum256(b)
			}
		}
		return nil
	})
	return out
}

func indexState(t *testing.T, e *Engine, project string) map[string]index.Digest {
	t.Helper()
	fs, err := e.Projects.Files(project, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]index.Digest{}
	for _, f := range fs {
		out[f.Path] = f.SHA256
	}
	return out
}

func diffStates(a, b map[string]index.Digest) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, "missing from index: "+k)
		} else if w != v {
			d = append(d, "stale hash: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "not on disk: "+k)
		}
	}
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("... %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

// waitConverged waits until the index equals the disk.
func waitConverged(t *testing.T, e *Engine, project, root string, within time.Duration) {
	t.Helper()
	testwait.Until(t, within, time.Second, func() error {
		if d := diffStates(diskState(t, root), indexState(t, e, project)); d != "" {
			return fmt.Errorf("the index differs from the disk:\n%s", d)
		}
		return nil
	})
}

func writeFile(t testing.TB, p, content string) {
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherStorm: 10,000 creates, renames and deletes in nested new
// directories, some while the first scan runs; after quiet the index equals the disk.
func TestWatcherStorm(t *testing.T) {
	root := t.TempDir()
	for i := range 2000 {
		writeFile(t, filepath.Join(root, "existing", fmt.Sprintf("d%02d", i%40), fmt.Sprintf("f%04d.txt", i)), fmt.Sprint("old ", i))
	}
	e := openEngine(t, DirsUnder(t.TempDir()), true)
	defer e.Close()
	p, err := e.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	ops := 0
	for ops < 10000 {
		dir := filepath.Join(root, "new", fmt.Sprintf("a%d", rng.Intn(20)), fmt.Sprintf("b%d", rng.Intn(10)), "c")
		name := filepath.Join(dir, fmt.Sprintf("s%05d.wav", ops))
		writeFile(t, name, fmt.Sprint("take ", ops))
		ops++
		switch rng.Intn(4) {
		case 0:
			os.Rename(name, name+".renamed.wav")
			ops++
		case 1:
			os.Remove(name)
			ops++
		case 2:
			writeFile(t, name, fmt.Sprint("edited ", ops))
			ops++
		}
		if ops%2500 < 4 {
			// rename a whole directory tree now and then
			os.Rename(filepath.Join(root, "new", "a3"), filepath.Join(root, "new", fmt.Sprintf("moved-%d", ops)))
		}
	}
	os.RemoveAll(filepath.Join(root, "existing", "d07"))
	waitConverged(t, e, string(p.ID), root, 180*time.Second)
}

// TestAtomicSaveEditors: editors that write a temp file and rename it over the
// original leave exactly the original's record, with the new content.
func TestAtomicSaveEditors(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "lyrics.txt")
	writeFile(t, target, "v1")
	e := openEngine(t, DirsUnder(t.TempDir()), true)
	defer e.Close()
	p, _ := e.Projects.Add(root)
	waitConverged(t, e, string(p.ID), root, 20*time.Second)
	// vim-style: write "lyrics.txt~"/"4913" probes, gedit-style .goutputstream,
	// and a plain temp + rename.
	for i, tmp := range []string{".goutputstream-ABC123", "lyrics.txt.tmp", ".lyrics.txt.swp"} {
		tp := filepath.Join(root, tmp)
		writeFile(t, tp, fmt.Sprint("v", i+2))
		if err := os.Rename(tp, target); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256([]byte(fmt.Sprint("v", i+2)))
		testwait.Until(t, 10*time.Second, 50*time.Millisecond, func() error {
			if st := indexState(t, e, string(p.ID)); st["lyrics.txt"] != want || len(st) != 1 {
				return fmt.Errorf("after save %d the index is %v", i+2, st)
			}
			return nil
		})
	}
}

// TestOverflowRescanConverges: while the engine is busy the kernel's event
// queue (16,384 events by default) overflows; the watcher rescans and the
// index converges anyway.
func TestOverflowRescanConverges(t *testing.T) {
	root := t.TempDir()
	e := openEngine(t, DirsUnder(t.TempDir()), true)
	defer e.Close()
	for i := range 10 {
		os.MkdirAll(filepath.Join(root, fmt.Sprintf("d%d", i)), 0o755)
	}
	p, _ := e.Projects.Add(root)
	waitConverged(t, e, string(p.ID), root, 10*time.Second)
	// Hold the project's batch handler, as a long rescan would: events pile
	// up in the kernel queue until it overflows.
	release := make(chan struct{})
	var full atomic.Int32
	hook := func(b watch.Batch) {
		if b.Full {
			full.Add(1)
		}
		<-release
	}
	e.projectsCtl.SetBatchHook(hook)
	writeFile(t, filepath.Join(root, "wake"), "x")
	// 12,000 new files make ~24,000 events: more than the kernel queue
	// (16,384 by default) and the watcher's buffer (4,096) hold.
	n := 12000
	for i := range n {
		writeFile(t, filepath.Join(root, fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%05d", i)), "x")
	}
	close(release)
	waitConverged(t, e, string(p.ID), root, 180*time.Second)
	if got := len(indexState(t, e, string(p.ID))); got != n+1 {
		t.Fatalf("indexed %d of %d files", got, n+1)
	}
	// Directory rescans from storm collapsing may converge first; the rescan
	// the overflow asks for still has to arrive.
	testwait.Until(t, 20*time.Second, 50*time.Millisecond, func() error {
		if full.Load() == 0 {
			return errors.New("the queue overflow did not lead to a full rescan")
		}
		return nil
	})
}

func TestLockedDataDirMessage(t *testing.T) {
	d := DirsUnder(t.TempDir())
	e := openEngine(t, d, false)
	defer e.Close()
	_, err := Open(d, Options{})
	if !errors.Is(err, localdb.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if !strings.Contains(err.Error(), "in use by another Atelier") || !strings.Contains(err.Error(), "CLI") {
		t.Fatalf("unhelpful message: %v", err)
	}
}

func TestCorruptDataDirMessage(t *testing.T) {
	d := DirsUnder(t.TempDir())
	e := openEngine(t, d, false)
	e.Close()
	if err := os.WriteFile(filepath.Join(d.Data, "db", "MANIFEST"), []byte("this is not a manifest"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(d, Options{})
	if !errors.Is(err, localdb.ErrCorrupt) {
		t.Fatalf("open corrupt: %v", err)
	}
	if !strings.Contains(err.Error(), "atelier db restore") {
		t.Fatalf("no way out in: %v", err)
	}
}

func TestProjectAddRules(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	defer e.Close()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "inner", "a.wav"), "a")
	if _, err := e.Projects.Add(filepath.Join(root, "missing")); err == nil {
		t.Fatal("added a missing folder")
	}
	if _, err := e.Projects.Add(filepath.Join(root, "inner", "a.wav")); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("added a file: %v", err)
	}
	p, err := e.Projects.Add(root)
	if err != nil || p.Files != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := e.Projects.Add(filepath.Join(root, "inner")); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("nested project: %v", err)
	}
	if _, err := e.Projects.Add(root); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("duplicate: %v", err)
	}
	if err := e.Projects.Remove(string(p.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Projects.Files(string(p.ID), ""); err == nil {
		t.Fatal("files of a removed project")
	}
	if _, err := os.Stat(filepath.Join(root, "inner", "a.wav")); err != nil {
		t.Fatal("remove touched the folder")
	}
}
