package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"atelier/sync/remote"
	"atelier/sync/vault"
)

// TestSyncCopiesLocalHistory: a sync to a vault remote sends the snapshots
// local history takes (one history, two vaults): the cloud's copy of a
// large file has the history's fine chunks, not the cloud vault's own
// 128 KiB-minimum ones, and the cloud restores what is on disk.
func TestSyncCopiesLocalHistory(t *testing.T) {
	dir := t.TempDir()
	e, _ := syncEngine(t, "studio", "file://"+filepath.ToSlash(dir))
	root := filepath.Join(t.TempDir(), "album")
	big := make([]byte, 3<<20)
	rand.Read(big)
	writeFiles(t, root, map[string]string{"notes.txt": "notes v1", "stems/bass.wav": "bass"})
	if err := os.WriteFile(filepath.Join(root, "mix.wav"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := e.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	run := func() {
		t.Helper()
		r, err := e.Sync.Run(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Projects[0].Error != "" {
			t.Fatal(r.Projects[0].Error)
		}
	}
	run()
	if tl, err := e.History.Timeline(id); err != nil || len(tl) == 0 {
		t.Fatalf("history has no version after a sync: %v %v", tl, err)
	}

	st, err := remote.Open(context.Background(), "file://"+filepath.ToSlash(dir), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cloud, err := vault.Open(context.Background(), vault.Options{Storage: st, State: vault.NewMemState(), Passphrase: []byte("pass phrase for tests")})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want map[string][]byte) {
		t.Helper()
		snap, err := cloud.FindSnapshot(context.Background(), id, "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]vault.File{}
		for _, f := range snap.Files {
			got[f.Path] = f
		}
		if len(got) != len(want) {
			t.Fatalf("the cloud snapshot holds %d files, want %d", len(got), len(want))
		}
		for p, b := range want {
			sum := sha256.Sum256(b)
			if got[p].SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("%s in the cloud is not the file on disk", p)
			}
		}
		mix := got["mix.wav"]
		for _, c := range mix.Chunks {
			if c.Size() > 128<<10 {
				t.Fatalf("mix.wav in the cloud has a %d-byte chunk: cut by the sync, not copied from history (chunks ≤ 128 KiB)", c.Size())
			}
		}
		if len(mix.Chunks) < 3<<20/(128<<10) {
			t.Fatalf("mix.wav in the cloud has %d chunks", len(mix.Chunks))
		}
	}
	check(map[string][]byte{"notes.txt": []byte("notes v1"), "stems/bass.wav": []byte("bass"), "mix.wav": big})

	// An edit in the middle of the mix: the next run copies the new version.
	copy(big[1<<20:], "an edit in the middle of the mix")
	if err := os.WriteFile(filepath.Join(root, "mix.wav"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	run()
	check(map[string][]byte{"notes.txt": []byte("notes v1"), "stems/bass.wav": []byte("bass"), "mix.wav": big})
}
