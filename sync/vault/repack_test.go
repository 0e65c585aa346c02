package vault_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"atelier/sync/remote"
	"atelier/sync/vault"
)

func countPacks(t *testing.T, s remote.Storage) int {
	t.Helper()
	n := 0
	if err := s.List(ctx, "data/", func(remote.Info) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// Prune repacks a pack mostly freed by old versions: the live chunks move,
// a device that loaded the snapshot before the repack still commits a
// snapshot that restores, and the old pack goes once its grace has passed.
func TestPruneRepacksSparsePacks(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	// 20 × 40 KiB: one pack of 1 MiB holds them all.
	for i := 0; i < 20; i++ {
		b := make([]byte, 40<<10)
		fill(b, uint64(300+i))
		os.WriteFile(filepath.Join(root, fmt.Sprintf("hit%02d.wav", i)), b, 0o644)
	}
	push(t, v, "p", root)
	for i := 0; i < 16; i++ {
		os.Remove(filepath.Join(root, fmt.Sprintf("hit%02d.wav", i)))
	}
	push(t, v, "p", root)
	// A second device pulls now: it caches snapshot 2, whose four files
	// live in the pack the repack will retire.
	other, err := vault.Open(ctx, opts(s, vault.NewMemState(), "studio"))
	if err != nil {
		t.Fatal(err)
	}
	otherRoot := t.TempDir()
	push(t, other, "p", otherRoot)
	// Snapshot 3 adds a file; snapshot 1 is then the one to prune.
	os.WriteFile(filepath.Join(root, "notes.txt"), []byte("bridge needs work"), 0o644)
	push(t, v, "p", root)
	if n := countPacks(t, s); n != 2 {
		t.Fatalf("%d packs before prune, want 2", n)
	}

	dry, err := v.Prune(ctx, vault.Retention{KeepLast: 2}, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.PacksRepacked != 1 || dry.BytesFreed < 16*40<<10 || countPacks(t, s) != 2 {
		t.Fatalf("dry run: %+v, %d packs (want 1 to repack, ≥640 KiB to free, nothing touched)", dry, countPacks(t, s))
	}
	res, err := v.Prune(ctx, vault.Retention{KeepLast: 2}, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.SnapshotsRemoved != 1 || res.PacksRepacked != 1 || res.BytesRepacked < 4*40<<10 || res.BytesRepacked > 5*40<<10 {
		t.Fatalf("prune: %+v (want 1 snapshot removed, 1 pack repacked with the 4 live files)", res)
	}
	if n := countPacks(t, s); n != 3 {
		t.Fatalf("%d packs right after the repack, want 3 (the old one is retired, not deleted yet)", n)
	}

	// The other device still holds the pre-repack snapshot 2 in its cache;
	// it edits one file and syncs, carrying the other three over from it.
	// Were it to carry the old references, the retired pack would be kept
	// alive below (nothing lost, but not freed either).
	b := make([]byte, 10<<10)
	fill(b, 999)
	os.WriteFile(filepath.Join(otherRoot, "hit19.wav"), b, 0o644)
	push(t, other, "p", otherRoot)

	// The next prune deletes the retired pack: nothing may reference it.
	res, err = v.Prune(ctx, vault.Retention{KeepLast: 2}, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.PacksRemoved != 1 {
		t.Fatalf("second prune: %+v (want the retired pack deleted)", res)
	}
	fresh, err := vault.Open(ctx, opts(s, vault.NewMemState(), "new laptop"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := fresh.FindSnapshot(ctx, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := fresh.Restore(ctx, snap, out, nil); err != nil {
		t.Fatalf("restore after repack and delete: %v", err)
	}
	sameTree(t, otherRoot, out)
	if vr, err := fresh.Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify after repack: %+v %v", vr, err)
	}
}
