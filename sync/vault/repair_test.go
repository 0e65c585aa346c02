package vault_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/sync/remote"
	"atelier/sync/synctest"
	"atelier/sync/vault"
)

// lostPackProject pushes two versions of a project (two packs) and deletes
// the pack holding a.bin, as a bucket that lost one object would.
func lostPackProject(t *testing.T, s remote.Storage, v *vault.Vault, root string) (lostPack string) {
	t.Helper()
	for name, seed := range map[string]uint64{"a.bin": 1, "b.bin": 2, "notes.txt": 3} {
		b := make([]byte, 200<<10)
		fill(b, seed)
		if name == "notes.txt" {
			b = []byte("a line the creator wrote\n")
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	push(t, v, "songs", root)
	later := make([]byte, 300<<10)
	fill(later, 4)
	os.WriteFile(filepath.Join(root, "later.bin"), later, 0o644)
	push(t, v, "songs", root)
	snap, err := v.FindSnapshot(ctx, "songs", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range snap.Files {
		if f.Path == "a.bin" {
			lostPack = f.Chunks[0].Pack
		}
	}
	for _, f := range snap.Files {
		if f.Path == "later.bin" && f.Chunks[0].Pack == lostPack {
			t.Fatal("test setup: later.bin shares a pack with a.bin")
		}
	}
	if err := s.Delete(ctx, "data/"+lostPack[:2]+"/"+lostPack); err != nil {
		t.Fatal(err)
	}
	return lostPack
}

func restoreFresh(t *testing.T, s remote.Storage, dir string) error {
	t.Helper()
	fresh, err := vault.Open(ctx, opts(s, vault.NewMemState(), "new-laptop"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := fresh.FindSnapshot(ctx, "songs", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = fresh.Restore(ctx, snap, dir, nil)
	return err
}

// A pack deleted from the bucket: verify reports it, repair uploads its
// chunks again from the files here and commits a snapshot a fresh device
// restores byte for byte, and verify is clean after.
func TestRepairLostPackS3(t *testing.T) {
	srv := synctest.Server(t)
	s := srv.Open(t, srv.NewBucket(t), nil)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	lostPack := lostPackProject(t, s, v, root)
	if err := restoreFresh(t, s, t.TempDir()); err == nil || !strings.Contains(err.Error(), lostPack) {
		t.Fatalf("restore with a pack missing: %v", err)
	}
	rr, err := v.Repair(ctx, vault.Job{Project: "songs", Root: root, Files: scan(t, root)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Verify.Problems) == 0 || !strings.Contains(rr.Verify.Problems[0].Object, lostPack) {
		t.Fatalf("verify before repair: %+v", rr.Verify)
	}
	if strings.Join(rr.Repaired, ",") != "a.bin,b.bin,notes.txt" || len(rr.Unrepaired) != 0 || rr.Seq != 3 {
		t.Fatalf("repair: %+v", rr)
	}
	out := t.TempDir()
	if err := restoreFresh(t, s, out); err != nil {
		t.Fatalf("restore after repair: %v", err)
	}
	sameTree(t, root, out)
	vr, err := v.Verify(ctx, nil, nil)
	if err != nil || len(vr.Problems) != 0 {
		t.Fatalf("verify after repair: %+v %v", vr, err)
	}
	// Healed: back to the no-change shortcut.
	if again := push(t, v, "songs", root); !again.NoChange || len(again.Damaged) != 0 {
		t.Fatalf("sync after repair: %+v", again)
	}
}

// After verify found a pack missing, a plain sync no longer says "no
// change" and never points a new snapshot at the missing pack.
func TestSyncAfterVerifyStopsPointingAtLostPack(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	lostPack := lostPackProject(t, s, v, root)
	if res := push(t, v, "songs", root); !res.NoChange {
		t.Fatalf("before verify: %+v", res)
	}
	vr, err := v.Verify(ctx, []string{"songs"}, nil)
	if err != nil || len(vr.Problems) != 1 || strings.Join(vr.Problems[0].Files, ",") != "songs/a.bin,songs/b.bin,songs/notes.txt" {
		t.Fatalf("verify: %+v %v", vr, err)
	}
	// An edit elsewhere: the new snapshot must not reference the lost pack.
	os.WriteFile(filepath.Join(root, "new.txt"), []byte("new"), 0o644)
	res := push(t, v, "songs", root)
	if res.NoChange || len(res.Damaged) != 0 || len(res.Repaired) != 3 {
		t.Fatalf("sync after verify: %+v", res)
	}
	snap, err := v.FindSnapshot(ctx, "songs", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range snap.Files {
		for _, r := range f.Chunks {
			if r.Pack == lostPack {
				t.Fatalf("%s still points at the lost pack %s", f.Path, lostPack)
			}
		}
	}
	out := t.TempDir()
	if err := restoreFresh(t, s, out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
}

// A file changed here since the snapshot cannot supply the lost version:
// repair names it; the other files are repaired.
func TestRepairNamesWhatItCannot(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	lostPackProject(t, s, v, root)
	edited := make([]byte, 100<<10)
	fill(edited, 99)
	os.WriteFile(filepath.Join(root, "b.bin"), edited, 0o644)
	// notes.txt is not on this device (another device's file, not selected here).
	notes, _ := os.ReadFile(filepath.Join(root, "notes.txt"))
	os.Remove(filepath.Join(root, "notes.txt"))
	job := vault.Job{Project: "songs", Root: root, Files: scan(t, root),
		Selected: func(p string, _ int64) bool { return p != "notes.txt" }}
	rr, err := v.Repair(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rr.Repaired, ",") != "a.bin" {
		t.Fatalf("repaired: %+v", rr)
	}
	if len(rr.Unrepaired) != 2 || rr.Unrepaired[0].Path != "b.bin" || !strings.Contains(rr.Unrepaired[0].Reason, "changed") ||
		rr.Unrepaired[1].Path != "notes.txt" || !strings.Contains(rr.Unrepaired[1].Reason, "not on this device") {
		t.Fatalf("unrepaired: %+v", rr.Unrepaired)
	}
	// Still named on the next run, until a device that has it repairs.
	again, err := v.Sync(ctx, job)
	if err != nil || len(again.Damaged) != 1 || again.Damaged[0].Path != "notes.txt" {
		t.Fatalf("next run: %+v %v", again, err)
	}
	os.WriteFile(filepath.Join(root, "notes.txt"), notes, 0o644)
	rr, err = v.Repair(ctx, vault.Job{Project: "songs", Root: root, Files: scan(t, root)})
	if err != nil || strings.Join(rr.Repaired, ",") != "notes.txt" || len(rr.Unrepaired) != 0 {
		t.Fatalf("repair with the file back: %+v %v", rr, err)
	}
	out := t.TempDir()
	if err := restoreFresh(t, s, out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
}
