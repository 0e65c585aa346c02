package vault_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/sync/remote"
	"atelier/sync/vault"
)

// objects lists the keys under prefix with their sizes.
func objects(t testing.TB, s remote.Storage, prefix string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	if err := s.List(ctx, prefix, func(i remote.Info) error { m[i.Key] = i.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

// deepProject writes n small files spread over nested folders.
func deepProject(t testing.TB, root string, n int) {
	for i := 0; i < n; i++ {
		p := filepath.Join(root, fmt.Sprintf("a%d/b%d/c%d/f%05d.txt", i%5, i%17, i%3, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTreesSharedBetweenSnapshots: after one file changes, a sync writes
// the trees on that file's path only (a few KB), and both snapshots
// restore exactly.
func TestTreesSharedBetweenSnapshots(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	deepProject(t, root, 1000)
	first := push(t, v, "p", root)
	before := objects(t, s, "trees/")
	if len(before) < 100 {
		t.Fatalf("only %d trees for a project of 255 folders", len(before))
	}
	os.WriteFile(filepath.Join(root, "a1/b1/c1/f00001.txt"), []byte("changed"), 0o644)
	second := push(t, v, "p", root)
	after := objects(t, s, "trees/")
	var newBytes int64
	n := 0
	for k, size := range after {
		if _, ok := before[k]; !ok {
			n++
			newBytes += size
		}
	}
	// the file's folder, its 3 parents (the root included)
	if n != 4 {
		t.Fatalf("one changed file wrote %d new trees, want 4 (its folder and its parents)", n)
	}
	snaps := objects(t, s, "snapshots/")
	var snapBytes int64
	for k, size := range snaps {
		if strings.HasSuffix(k, second.Snapshot) {
			snapBytes = size
		}
	}
	if newBytes+snapBytes > 16<<10 {
		t.Fatalf("one changed file in 1,000 wrote %d bytes of trees and %d of snapshot", newBytes, snapBytes)
	}
	for _, id := range []string{first.Snapshot, second.Snapshot} {
		snap, err := v.FindSnapshot(ctx, "p", id)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Tree == "" || len(snap.Files) != 1000 {
			t.Fatalf("snapshot %s: tree %q, %d files", id, snap.Tree, len(snap.Files))
		}
	}
	out := t.TempDir()
	snap, _ := v.FindSnapshot(ctx, "p", "")
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	// With the caches dropped (an idle engine), the snapshot and its trees
	// are read again, the same.
	v.DropCaches()
	snap, err = v.FindSnapshot(ctx, "p", "")
	if err != nil || len(snap.Files) != 1000 {
		t.Fatalf("after DropCaches: %v, %+v", err, snap)
	}
	out1 := t.TempDir()
	if _, err := v.Restore(ctx, snap, out1, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out1)
	// A second device (no local state, no cache) reads the same.
	v2, err := vault.Open(ctx, opts(s, vault.NewMemState(), "b"))
	if err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	if r := push(t, v2, "p", out2); len(r.Pulled) != 1000 {
		t.Fatalf("second device pulled %d files", len(r.Pulled))
	}
	sameTree(t, root, out2)
}

// TestCommitIncremental: a commit from a change list reads only the named
// files, writes the trees on their paths, reports what it replaced, and
// Lookup/ReadDir answer from trees.
func TestCommitIncremental(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	deepProject(t, root, 1000)
	all := scan(t, root)
	r1, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: all})
	if err != nil || r1.Head.Seq != 1 || r1.Head.Files != 1000 {
		t.Fatalf("first commit: %+v %v", r1.Head, err)
	}
	os.WriteFile(filepath.Join(root, "a0/b0/c0/f00000.txt"), []byte("new content"), 0o644)
	os.Remove(filepath.Join(root, "a1/b1/c1/f00001.txt"))
	os.MkdirAll(filepath.Join(root, "new/dir"), 0o755)
	os.WriteFile(filepath.Join(root, "new/dir/x.txt"), []byte("x"), 0o644)
	r2, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root,
		Put:    []vault.LocalFile{{Path: "a0/b0/c0/f00000.txt"}, {Path: "new/dir/x.txt"}},
		Delete: []string{"a1/b1/c1/f00001.txt", "never/was.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Head.Seq != 2 || r2.Head.Files != 1000 || r2.NoChange {
		t.Fatalf("second commit head %+v", r2.Head)
	}
	if old, ok := r2.Replaced["a0/b0/c0/f00000.txt"]; !ok || old.Size != int64(len("file 0\n")) {
		t.Fatalf("replaced: %+v", r2.Replaced)
	}
	if _, ok := r2.Replaced["a1/b1/c1/f00001.txt"]; !ok || len(r2.Replaced) != 2 {
		t.Fatalf("replaced: %+v", r2.Replaced)
	}
	if r2.MetaBytes > 16<<10 || r2.Trees > 10 {
		t.Fatalf("a 3-file commit wrote %d trees, %d bytes of metadata", r2.Trees, r2.MetaBytes)
	}
	snap, err := v.SnapshotHeader(ctx, r2.Head.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	f, ok, err := v.Lookup(ctx, snap, "a0/b0/c0/f00000.txt")
	if err != nil || !ok || f.Size != 11 {
		t.Fatalf("lookup: %+v %v %v", f, ok, err)
	}
	var buf bytes.Buffer
	if err := v.ReadFile(ctx, f, &buf); err != nil || buf.String() != "new content" {
		t.Fatalf("read: %q %v", buf.String(), err)
	}
	if _, ok, _ := v.Lookup(ctx, snap, "a1/b1/c1/f00001.txt"); ok {
		t.Fatal("deleted file still in the snapshot")
	}
	ents, err := v.ReadDir(ctx, snap, "new")
	if err != nil || len(ents) != 1 || ents[0].Name != "dir" || !ents[0].IsDir() {
		t.Fatalf("readdir new: %+v %v", ents, err)
	}
	old, _ := v.SnapshotHeader(ctx, r1.Head.Snapshot)
	if _, ok, _ := v.Lookup(ctx, old, "a1/b1/c1/f00001.txt"); !ok {
		t.Fatal("the old snapshot lost a file")
	}
	// Nothing changed: no snapshot.
	r3, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Delete: []string{"never/was.txt"}})
	if err != nil || !r3.NoChange || r3.Head.Seq != 2 {
		t.Fatalf("no-change commit: %+v %v", r3, err)
	}
	// Full restore of the commit equals the folder.
	full, err := v.FindSnapshot(ctx, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := v.Restore(ctx, full, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	// Prune drops the first snapshot and the trees only it used.
	trees := len(objects(t, s, "trees/"))
	pr, err := v.PruneSnapshots(ctx, map[string]bool{r1.Head.Snapshot: true, r2.Head.Snapshot: true}, 0, false)
	if err != nil || pr.SnapshotsRemoved != 1 || pr.TreesRemoved == 0 {
		t.Fatalf("prune: %+v %v (newest must stay, old trees go)", pr, err)
	}
	// The repack rewrote the trees naming moved chunks; the next prune
	// collects the replaced ones: what is left is one tree per folder of
	// the kept snapshot (255 + 85 + 5 + new/dir + new + the top).
	if _, err := v.PruneSnapshots(ctx, nil, 0, false); err != nil {
		t.Fatal(err)
	}
	if got := len(objects(t, s, "trees/")); got != 348 || trees < 348 {
		t.Fatalf("%d trees left (%d before), want 348", got, trees)
	}
	out2 := t.TempDir()
	full, _ = v.FindSnapshot(ctx, "p", "")
	if _, err := v.Restore(ctx, full, out2, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out2)
	// After the epoch change the next commit stores trees again as needed.
	os.WriteFile(filepath.Join(root, "a0/b0/c0/f00000.txt"), []byte("third"), 0o644)
	if _, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: []vault.LocalFile{{Path: "a0/b0/c0/f00000.txt"}}, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	full, _ = v.FindSnapshot(ctx, "p", "")
	out3 := t.TempDir()
	if _, err := v.Restore(ctx, full, out3, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out3)
}

// TestChunkListsOfLargeFiles: a file of many chunks keeps its chunk list
// in content-defined list objects: an edit in its middle stores one or two
// pieces of the list, not all of it; every version restores exactly, and
// prune collects the pieces no kept snapshot uses.
func TestChunkListsOfLargeFiles(t *testing.T) {
	s := fileRemote(t)
	o := opts(s, vault.NewMemState(), "a")
	o.Chunker = &vault.Chunker{Min: 64, Avg: 256, Max: 1024}
	v, err := vault.Init(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	big := make([]byte, 400<<10) // ~1,600 chunks
	fill(big, 3)
	os.WriteFile(filepath.Join(root, "take.wav"), big, 0o644)
	r1, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: []vault.LocalFile{{Path: "take.wav"}}})
	if err != nil {
		t.Fatal(err)
	}
	lists := objects(t, s, "lists/")
	if len(lists) < 5 {
		t.Fatalf("a 1,600-chunk file has %d list pieces", len(lists))
	}
	copy(big[200<<10:], bytes.Repeat([]byte("edit"), 256))
	os.WriteFile(filepath.Join(root, "take.wav"), big, 0o644)
	r2, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: []vault.LocalFile{{Path: "take.wav"}}})
	if err != nil {
		t.Fatal(err)
	}
	newLists := 0
	for k := range objects(t, s, "lists/") {
		if _, ok := lists[k]; !ok {
			newLists++
		}
	}
	if newLists == 0 || newLists > 3 {
		t.Fatalf("a 1 KiB edit stored %d new list pieces (want 1 to 3)", newLists)
	}
	for _, h := range []vault.Head{r1.Head, r2.Head} {
		snap, _ := v.SnapshotHeader(ctx, h.Snapshot)
		f, ok, err := v.Lookup(ctx, snap, "take.wav")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		var buf bytes.Buffer
		if err := v.ReadFile(ctx, f, &buf); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh device (no caches) reads the lists too.
	v2, _ := vault.Open(ctx, opts(s, vault.NewMemState(), "b"))
	snap, err := v2.FindSnapshot(ctx, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := v2.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	pr, err := v.PruneSnapshots(ctx, map[string]bool{r1.Head.Snapshot: true}, 0, false)
	if err != nil || pr.TreesRemoved < 2 {
		t.Fatalf("prune: %+v %v", pr, err)
	}
	if _, err := v.PruneSnapshots(ctx, nil, 0, false); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	snap, _ = v.FindSnapshot(ctx, "p", "")
	if _, err := v.Restore(ctx, snap, out2, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out2)
	if vr, err := v.Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
}

// TestLargeFolderInPieces: a folder of 3,000 files is stored as
// content-defined pieces: changing, adding or removing one file stores one
// piece and the folder's small index, and every state reads back.
func TestLargeFolderInPieces(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "samples"), 0o755)
	var put []vault.LocalFile
	for i := 0; i < 3000; i++ {
		p := fmt.Sprintf("samples/hit%04d.wav", i)
		os.WriteFile(filepath.Join(root, filepath.FromSlash(p)), []byte(p), 0o644)
		put = append(put, vault.LocalFile{Path: p})
	}
	r1, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: put})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Trees < 20 {
		t.Fatalf("a 3,000-file folder stored as %d tree objects: not in pieces", r1.Trees)
	}
	os.WriteFile(filepath.Join(root, "samples/hit1500.wav"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(root, "samples/new.wav"), []byte("new"), 0o644)
	os.Remove(filepath.Join(root, "samples/hit0007.wav"))
	r2, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root,
		Put: []vault.LocalFile{{Path: "samples/hit1500.wav"}, {Path: "samples/new.wav"}}, Delete: []string{"samples/hit0007.wav"}})
	if err != nil {
		t.Fatal(err)
	}
	// up to 3 pieces, the folder's index, the root
	if r2.Trees > 5 || r2.MetaBytes > 24<<10 {
		t.Fatalf("3 edits in a 3,000-file folder stored %d trees, %d bytes", r2.Trees, r2.MetaBytes)
	}
	v2, _ := vault.Open(ctx, opts(s, vault.NewMemState(), "b"))
	for _, h := range []vault.Head{r1.Head, r2.Head} {
		snap, err := v2.FindSnapshot(ctx, "p", h.Snapshot)
		if err != nil || len(snap.Files) != 3000 {
			t.Fatalf("%d files, %v", len(snap.Files), err)
		}
	}
	snap, _ := v2.SnapshotHeader(ctx, r2.Head.Snapshot)
	if f, ok, err := v2.Lookup(ctx, snap, "samples/hit1500.wav"); !ok || err != nil || f.Size != 7 {
		t.Fatalf("lookup: %+v %v %v", f, ok, err)
	}
	if _, ok, _ := v2.Lookup(ctx, snap, "samples/hit0007.wav"); ok {
		t.Fatal("the removed file is still there")
	}
	if ents, err := v2.ReadDir(ctx, snap, "samples"); err != nil || len(ents) != 3000 {
		t.Fatalf("readdir: %d %v", len(ents), err)
	}
	out := t.TempDir()
	full, _ := v2.FindSnapshot(ctx, "p", "")
	if _, err := v2.Restore(ctx, full, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	pr, err := v.PruneSnapshots(ctx, map[string]bool{r1.Head.Snapshot: true}, 0, false)
	if err != nil || pr.TreesRemoved == 0 || pr.TreesRemoved > 6 {
		t.Fatalf("prune: %+v %v", pr, err)
	}
	if vr, err := v.Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
}

// TestPruneKeepsChunkIndexHere: the device that prunes forgets only what
// it deleted, so its next commit of an edited large file stores the edit,
// not the file again; another device resets on the new epoch.
func TestPruneKeepsChunkIndexHere(t *testing.T) {
	s := fileRemote(t)
	o := opts(s, vault.NewMemState(), "a")
	o.Chunker = &vault.Chunker{Min: 4 << 10, Avg: 16 << 10, Max: 64 << 10}
	v, err := vault.Init(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	big := make([]byte, 4<<20)
	fill(big, 11)
	write := func() vault.CommitResult {
		os.WriteFile(filepath.Join(root, "take.wav"), big, 0o644)
		r, err := v.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: []vault.LocalFile{{Path: "take.wav"}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := write()
	fill(big[1<<20:1<<20+100<<10], 12)
	write()
	if pr, err := v.PruneSnapshots(ctx, map[string]bool{r1.Head.Snapshot: true}, 0, false); err != nil || pr.SnapshotsRemoved != 1 {
		t.Fatalf("prune: %+v %v", pr, err)
	}
	fill(big[3<<20:3<<20+100<<10], 13)
	r3 := write()
	if r3.BytesNew > 512<<10 {
		t.Fatalf("after a prune, a 100 KiB edit stored %d new bytes: the chunk index was dropped", r3.BytesNew)
	}
	out := t.TempDir()
	snap, _ := v.FindSnapshot(ctx, "p", "")
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
}
