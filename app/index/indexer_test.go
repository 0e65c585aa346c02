package index

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/localdb"
)

func newIndexer(t *testing.T) (*Indexer, string) {
	t.Helper()
	db, err := localdb.Open("", localdb.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root := t.TempDir()
	return &Indexer{Root: root, Project: "p", Store: NewStore(db, "p"), Ignore: LoadIgnorer(root)}, root
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func records(t *testing.T, ix *Indexer) map[string]FileRecord {
	t.Helper()
	m := map[string]FileRecord{}
	if err := ix.Store.All(func(r FileRecord) error { m[r.Path] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReconcileIndexesHashesAndIgnores(t *testing.T) {
	ix, root := newIndexer(t)
	write(t, root, "mix.wav", "audio")
	write(t, root, "art/cover.png", "image")
	write(t, root, ".git/config", "x")
	write(t, root, "node_modules/a/b.js", "x")
	write(t, root, "song.wav.swp", "x")
	write(t, root, "Backup/old.als", "x")
	write(t, root, ".atelierignore", "renders/\n*.log\n")
	write(t, root, "renders/r1.wav", "x")
	write(t, root, "session.log", "x")
	ix.Ignore = LoadIgnorer(root)
	changes, problems, err := ix.Reconcile(context.Background(), "", nil)
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	got := records(t, ix)
	want := []string{".atelierignore", "art/cover.png", "mix.wav"}
	if len(got) != len(want) {
		t.Fatalf("indexed %v, want %v", keys(got), want)
	}
	for _, w := range want {
		if _, ok := got[w]; !ok {
			t.Fatalf("%s not indexed: %v", w, keys(got))
		}
	}
	if len(changes) != 3 {
		t.Fatalf("%d changes", len(changes))
	}
	if got["mix.wav"].SHA256 != Digest(sha256.Sum256([]byte("audio"))) || got["mix.wav"].Kind != KindAudio || got["art/cover.png"].Kind != KindImage {
		t.Fatalf("bad record %+v", got["mix.wav"])
	}
	// A second pass with nothing changed hashes nothing and reports nothing.
	changes, _, _ = ix.Reconcile(context.Background(), "", nil)
	if len(changes) != 0 {
		t.Fatalf("no-change reconcile reported %v", changes)
	}
}

func keys(m map[string]FileRecord) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestUpdateDetectsRenameModifyDelete(t *testing.T) {
	ix, root := newIndexer(t)
	write(t, root, "a/take1.wav", "one")
	write(t, root, "b.txt", "bee")
	write(t, root, "dir/x/y.txt", "y")
	ix.Reconcile(context.Background(), "", nil)

	os.Rename(filepath.Join(root, "a/take1.wav"), filepath.Join(root, "a/take1-final.wav"))
	write(t, root, "b.txt", "bee, edited")
	os.RemoveAll(filepath.Join(root, "dir"))
	changes, problems, err := ix.Update(context.Background(), []string{"a/take1.wav", "a/take1-final.wav", "b.txt", "dir"})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	ops := map[string]Op{}
	for _, c := range changes {
		ops[c.Record.Path] = c.Op
		if c.Op == OpRename && c.From != "a/take1.wav" {
			t.Fatalf("rename from %q", c.From)
		}
	}
	if ops["a/take1-final.wav"] != OpRename || ops["b.txt"] != OpModify || ops["dir/x/y.txt"] != OpDelete {
		t.Fatalf("changes %+v", changes)
	}
	got := records(t, ix)
	if _, ok := got["a/take1.wav"]; ok {
		t.Fatal("old name still indexed")
	}
	if len(got) != 2 {
		t.Fatalf("records %v", keys(got))
	}
}

func TestBadPathsAreReportedNotFatal(t *testing.T) {
	ix, root := newIndexer(t)
	write(t, root, "ok.wav", "fine")
	// A symlink loop and a dangling link.
	os.Symlink("loop-b", filepath.Join(root, "loop-a"))
	os.Symlink("loop-a", filepath.Join(root, "loop-b"))
	os.Symlink("missing-target", filepath.Join(root, "dangling"))
	// A directory symlink pointing at its own parent is not followed.
	os.Symlink(".", filepath.Join(root, "self"))
	// An unreadable file and a file vanishing while hashed. (Tests run as root
	// in CI, where mode 000 does not stop reads, so these go through the open hook.)
	write(t, root, "locked.wav", "secret")
	write(t, root, "vanishing.wav", "gone soon")
	openFile = func(p string) (*os.File, error) {
		switch filepath.Base(p) {
		case "locked.wav":
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
		case "vanishing.wav":
			os.Remove(p)
		}
		return os.Open(p)
	}
	defer func() { openFile = os.Open }()

	done := make(chan struct{})
	var problems []Problem
	go func() {
		defer close(done)
		_, problems, _ = ix.Reconcile(context.Background(), "", nil)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("reconcile hung on bad paths")
	}
	byPath := map[string]string{}
	for _, p := range problems {
		byPath[p.Path] = p.Err
	}
	if !strings.Contains(byPath["loop-a"], "link") || !strings.Contains(byPath["dangling"], "link") {
		t.Fatalf("links not reported: %v", byPath)
	}
	if !strings.Contains(byPath["locked.wav"], "permission denied") {
		t.Fatalf("unreadable file not reported: %v", byPath)
	}
	if _, ok := byPath["vanishing.wav"]; ok {
		t.Fatalf("a vanished file is not a problem: %v", byPath)
	}
	got := records(t, ix)
	if _, ok := got["ok.wav"]; !ok || len(got) != 1 {
		t.Fatalf("records %v", keys(got))
	}
}

func TestRecordCodecRoundTrip(t *testing.T) {
	r := FileRecord{Project: "proj", Path: "a/b ü.wav", Size: 1 << 40, ModTime: time.Unix(1700000000, 123456789), Mode: 0o644, Inode: 99, Kind: KindAudio}
	r.SHA256[0], r.SHA256[31] = 1, 2
	b, _ := recordCodec{}.Encode(r)
	got, err := recordCodec{}.Decode(b)
	if err != nil || !got.ModTime.Equal(r.ModTime) {
		t.Fatal(err, got)
	}
	got.ModTime = r.ModTime
	if got != r {
		t.Fatalf("%+v != %+v", got, r)
	}
}

func FuzzRecordCodec(f *testing.F) {
	b, _ := recordCodec{}.Encode(FileRecord{Project: "p", Path: "x.wav", Size: 3, Kind: KindAudio})
	f.Add(b)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := recordCodec{}.Decode(data)
		if err != nil {
			return
		}
		again, _ := recordCodec{}.Encode(r)
		r2, err := recordCodec{}.Decode(again)
		if err != nil || r2.Path != r.Path || r2.SHA256 != r.SHA256 {
			t.Fatalf("round trip changed the record: %v", err)
		}
	})
}

func FuzzIgnoreFile(f *testing.F) {
	f.Add("renders/\n*.log\n!keep.log\n", "renders/a.wav")
	f.Add("**/tmp\n[a-z]*.bak", "x/tmp")
	f.Fuzz(func(t *testing.T, rules, p string) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, IgnoreFile), []byte(rules), 0o644)
		ig := LoadIgnorer(dir)
		ig.Ignored(p, false)
		ig.Ignored(p, true)
	})
}
