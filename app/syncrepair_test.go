package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	syncsvc "atelier/app/sync"
)

// An edit made while no engine ran (a one-shot `atelier sync run` from
// cron): the run reconciles the index with the disk first and pushes what
// is on disk, not the stale index's version.
func TestSyncRunPushesOfflineEdit(t *testing.T) {
	dirs := DirsUnder(t.TempDir())
	remoteURL := "file://" + filepath.ToSlash(t.TempDir())
	root := filepath.Join(t.TempDir(), "album")
	writeFiles(t, root, map[string]string{"mix.wav": "mix v1", "notes.txt": "notes"})

	e := openEngine(t, dirs, false)
	e.syncCtl.SetSecrets(&memSecrets{m: map[string]string{}})
	if _, err := e.Privacy.Grant("sync.cloud", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sync.RemoteAdd(syncsvc.RemoteSpec{Name: "shared", URL: remoteURL, Kind: "vault", Passphrase: "pass phrase for tests", Default: true}); err != nil {
		t.Fatal(err)
	}
	p, err := e.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	if err := e.Sync.SetRules(id, syncsvc.SyncRules{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.Sync.Run(context.Background(), id); err != nil || r.Projects[0].Seq != 1 {
		t.Fatalf("first run: %+v %v", r, err)
	}
	e.Close()

	// Same size, a later time: only the stat-first pass can see it.
	writeFiles(t, root, map[string]string{"mix.wav": "mix v2"})
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(root, "mix.wav"), later, later)

	e2 := openEngine(t, dirs, false)
	defer e2.Close()
	e2.syncCtl.SetSecrets(&memSecrets{m: map[string]string{"shared": "pass phrase for tests"}})
	r, err := e2.Sync.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if pr := r.Projects[0]; pr.NoChange || pr.Uploaded != 1 || pr.Seq != 2 {
		t.Fatalf("run after an offline edit: %+v", pr)
	}
	st, err := e2.Sync.Status()
	if err != nil || len(st.Projects) != 1 || st.Projects[0].LastSeq != 2 || st.Projects[0].Pending != 0 ||
		st.Projects[0].LastRun == nil || st.Projects[0].LastRun.Uploaded != 1 {
		t.Fatalf("status after the run: %+v %v", st.Projects, err)
	}
	out := t.TempDir()
	if _, err := e2.Sync.Restore(id, out, "", syncsvc.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(out, "mix.wav"); got != "mix v2" {
		t.Fatalf("the vault holds %q, the disk %q", got, "mix v2")
	}
}

// The service's Repair: a pack lost from the remote is uploaded again from
// the project's files, and a second engine restores the project.
func TestSyncRepairLostPack(t *testing.T) {
	remoteDir := t.TempDir()
	remoteURL := "file://" + filepath.ToSlash(remoteDir)
	a, _ := syncEngine(t, "studio", remoteURL)
	root := filepath.Join(t.TempDir(), "album")
	writeFiles(t, root, map[string]string{"mix.wav": strings.Repeat("mix ", 1000), "notes.txt": "notes"})
	p, err := a.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	if _, err := a.Sync.Run(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	// Lose every pack.
	packs, _ := filepath.Glob(filepath.Join(remoteDir, "data", "*", "*"))
	if len(packs) == 0 {
		t.Fatal("no pack on the remote")
	}
	for _, p := range packs {
		os.Remove(p)
	}
	rr, err := a.Sync.Repair(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Verify.Problems) == 0 || strings.Join(rr.Repaired, ",") != "mix.wav,notes.txt" || len(rr.Unrepaired) != 0 {
		t.Fatalf("repair: %+v", rr)
	}
	b, _ := syncEngine(t, "laptop", remoteURL)
	rootB := filepath.Join(t.TempDir(), "album")
	os.MkdirAll(rootB, 0o755)
	if _, err := b.Projects.Add(rootB); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := b.Sync.Restore(id, out, "", syncsvc.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if readFile(out, "mix.wav") != strings.Repeat("mix ", 1000) || readFile(out, "notes.txt") != "notes" {
		t.Fatal("restore after repair differs")
	}
	if vr, err := a.Sync.Verify(id); err != nil || len(vr.Problems) != 0 {
		t.Fatalf("verify after repair: %+v %v", vr, err)
	}
}
