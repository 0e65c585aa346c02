package vault

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atelier/sync/remote"
)

// TestFormat1VaultReadAndMigrated: a vault written before trees (config
// version 1, snapshots listing every file) is read as it is; the first
// sync of this version stores a tree snapshot and raises the config to
// version 2; the old snapshot still restores.
func TestFormat1VaultReadAndMigrated(t *testing.T) {
	ctx := context.Background()
	s, err := remote.Open(ctx, "file://"+t.TempDir(), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := Options{Storage: s, State: NewMemState(), Passphrase: []byte("pw"), Device: "old",
		KDF: &KDFParams{Alg: "argon2id", Time: 1, Memory: 8 << 10, Threads: 1, Salt: []byte("0123456789abcdef")}, PackSize: 1 << 20}
	v, err := Init(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// Make it a format-1 vault holding one format-1 snapshot.
	cfg := v.cfg
	cfg.Version = 1
	cb, _ := json.Marshal(cfg)
	s.Put(ctx, "config", cb, remote.PutOptions{})
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha"), 0o644)
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "b.txt"), []byte("beta"), 0o644)
	files, err := v.upload(ctx, root, []LocalFile{{Path: "a.txt"}, {Path: "d/b.txt"}}, newTracker(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	old := &Snapshot{ID: randHex(16), Project: "p", Seq: 1, Device: "old", Time: time.Now().UTC(), Files: files}
	sb, _ := v.sealJSON(snapshotKey(old.ID), old)
	s.Put(ctx, snapshotKey(old.ID), sb, remote.PutOptions{})
	h := Head{Project: "p", Seq: 1, Snapshot: old.ID, Device: "old", Time: old.Time, Files: 2}
	hb, _ := v.sealJSON(v.headKey("p", 1), h)
	s.Put(ctx, v.headKey("p", 1), hb, remote.PutOptions{})

	o.State, o.Device = NewMemState(), "new"
	v2, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Config().Version != 1 {
		t.Fatalf("opened as version %d", v2.Config().Version)
	}
	got, err := v2.FindSnapshot(ctx, "p", "")
	if err != nil || got.Tree != "" || len(got.Files) != 2 {
		t.Fatalf("format-1 snapshot read as %+v, %v", got, err)
	}
	if f, ok, err := v2.Lookup(ctx, got, "d/b.txt"); !ok || err != nil || f.Size != 4 {
		t.Fatalf("lookup in format 1: %+v %v %v", f, ok, err)
	}
	if ents, _ := v2.ReadDir(ctx, got, ""); len(ents) != 2 || !ents[1].IsDir() {
		t.Fatalf("readdir in format 1: %+v", ents)
	}
	// A sync with a change commits a tree snapshot and migrates.
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "a.txt"), []byte("alpha"), 0o644)
	os.MkdirAll(filepath.Join(work, "d"), 0o755)
	os.WriteFile(filepath.Join(work, "d", "b.txt"), []byte("beta"), 0o644)
	os.WriteFile(filepath.Join(work, "c.txt"), []byte("gamma"), 0o644)
	var lf []LocalFile
	for _, p := range []string{"a.txt", "d/b.txt", "c.txt"} {
		nl, _ := freshen(work, p, nil)
		lf = append(lf, *nl)
	}
	res, err := v2.Sync(ctx, Job{Project: "p", Root: work, Files: lf})
	if err != nil || res.Seq != 2 {
		t.Fatalf("sync on format 1: %+v %v", res, err)
	}
	cb, _ = s.Get(ctx, "config")
	var now Config
	json.Unmarshal(cb, &now)
	if now.Version != 2 {
		t.Fatalf("config version %d after the first tree snapshot", now.Version)
	}
	v3, _ := Open(ctx, Options{Storage: s, State: NewMemState(), Passphrase: []byte("pw")})
	newest, err := v3.FindSnapshot(ctx, "p", "")
	if err != nil || newest.Tree == "" || len(newest.Files) != 3 {
		t.Fatalf("tree snapshot read as %+v %v", newest, err)
	}
	first, err := v3.FindSnapshot(ctx, "p", "1")
	if err != nil || len(first.Files) != 2 {
		t.Fatalf("the format-1 snapshot after migration: %+v %v", first, err)
	}
	out := t.TempDir()
	if _, err := v3.Restore(ctx, first, out, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "d", "b.txt")); string(b) != "beta" {
		t.Fatalf("restored %q", b)
	}
	// A snapshot stored in format 2 is refused by a format-1 reader (the
	// "files" field is not a list), never read as an empty project.
	raw, _ := s.Get(ctx, snapshotKey(newest.ID))
	var w struct {
		Files []File `json:"files"`
	}
	if err := v3.openJSON(snapshotKey(newest.ID), raw, &w); err == nil {
		t.Fatal("a format-1 reader would read a tree snapshot as an empty file list")
	}
}

// TestCopyOntoFormat1Vault: history's snapshot copied onto a vault written
// before trees keeps the old snapshot readable, raises the config to
// format 2, and reuses the old snapshot's chunks of unchanged files.
func TestCopyOntoFormat1Vault(t *testing.T) {
	ctx := context.Background()
	kdf := &KDFParams{Alg: "argon2id", Time: 1, Memory: 8 << 10, Threads: 1, Salt: []byte("0123456789abcdef")}
	s, err := remote.Open(ctx, "file://"+t.TempDir(), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := Init(ctx, Options{Storage: s, State: NewMemState(), Passphrase: []byte("pw"), Device: "studio", KDF: kdf, PackSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	cfg := v.cfg
	cfg.Version = 1
	cb, _ := json.Marshal(cfg)
	s.Put(ctx, "config", cb, remote.PutOptions{})
	v.cfg = cfg
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha"), 0o644)
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "b.txt"), []byte("beta"), 0o644)
	files, err := v.upload(ctx, root, []LocalFile{{Path: "a.txt"}, {Path: "d/b.txt"}}, newTracker(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	old := &Snapshot{ID: randHex(16), Project: "p", Seq: 1, Device: "studio", Time: time.Now().UTC(), Files: files}
	sb, _ := v.sealJSON(snapshotKey(old.ID), old)
	s.Put(ctx, snapshotKey(old.ID), sb, remote.PutOptions{})
	h := Head{Project: "p", Seq: 1, Snapshot: old.ID, Device: "studio", Time: old.Time, Files: 2}
	hb, _ := v.sealJSON(v.headKey("p", 1), h)
	s.Put(ctx, v.headKey("p", 1), hb, remote.PutOptions{})
	if err := v.setLocalHead("p", h); err != nil {
		t.Fatal(err)
	}

	hs, err := remote.Open(ctx, "file://"+t.TempDir(), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	hv, err := Init(ctx, Options{Storage: hs, State: NewMemState(), Passphrase: []byte("local"), KDF: kdf, PackSize: 1 << 20, Chunker: &Chunker{Min: 8 << 10, Avg: 32 << 10, Max: 128 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "c.txt"), []byte("gamma"), 0o644)
	var put []LocalFile
	for _, p := range []string{"a.txt", "d/b.txt", "c.txt"} {
		put = append(put, LocalFile{Path: p})
	}
	if _, err := hv.Commit(ctx, Commit{Project: "p", Root: root, Put: put}); err != nil {
		t.Fatal(err)
	}
	res, err := v.CopyFrom(ctx, hv, CopyOptions{Project: "p"})
	if err != nil || res.Head.Seq != 2 || res.ChunksCopied != 1 {
		t.Fatalf("copy onto format 1: %+v %v (want seq 2, only c.txt's chunk copied)", res, err)
	}
	cb, _ = s.Get(ctx, "config")
	var now Config
	json.Unmarshal(cb, &now)
	if now.Version != 2 {
		t.Fatalf("config version %d after the copy", now.Version)
	}
	fresh, err := Open(ctx, Options{Storage: s, State: NewMemState(), Passphrase: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	for seq, want := range map[string]int{"1": 2, "2": 3} {
		snap, err := fresh.FindSnapshot(ctx, "p", seq)
		if err != nil || len(snap.Files) != want {
			t.Fatalf("snapshot %s after the copy: %+v %v", seq, snap, err)
		}
		out := t.TempDir()
		if _, err := fresh.Restore(ctx, snap, out, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "d", "b.txt")); string(b) != "beta" {
			t.Fatalf("snapshot %s restored d/b.txt as %q", seq, b)
		}
	}
}
