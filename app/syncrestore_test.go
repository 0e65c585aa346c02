package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	syncsvc "atelier/app/sync"

	"atelier/sync/target"
)

// syncedProject registers root (filled with files) on e, enables its sync
// to the "shared" remote and runs it once.
func syncedProject(t *testing.T, e *Engine, root string, files map[string]string) (string, syncsvc.ProjectRun) {
	t.Helper()
	writeFiles(t, root, files)
	p, err := e.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	if err := e.Sync.SetRules(id, syncsvc.SyncRules{Enabled: true, Remote: "shared"}); err != nil {
		t.Fatal(err)
	}
	r, err := e.Sync.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return id, r.Projects[0]
}

// Item 1: restore never destroys a byte. Over the live project or into a
// non-empty folder it is refused, naming the folder and the way out; with
// Overwrite every replaced file that differs is kept beside it.
func TestSyncRestoreRefusesOrKeeps(t *testing.T) {
	e, _ := syncEngine(t, "studio", "file://"+filepath.ToSlash(t.TempDir()))
	root := filepath.Join(t.TempDir(), "album")
	id, _ := syncedProject(t, e, root, map[string]string{"mix.wav": "mix v1", "notes.txt": "notes"})
	writeFiles(t, root, map[string]string{"mix.wav": "unsynced edit"})

	_, err := e.Sync.Restore(id, root, "", syncsvc.RestoreOptions{})
	if err == nil || !strings.Contains(err.Error(), root) || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("restore over the live project: %v, want a refusal naming it and --overwrite", err)
	}
	other := t.TempDir()
	writeFiles(t, other, map[string]string{"notes.txt": "someone else's notes"})
	if _, err := e.Sync.Restore(id, other, "", syncsvc.RestoreOptions{}); !errors.Is(err, target.ErrNotEmpty) || !strings.Contains(err.Error(), other) {
		t.Fatalf("restore into a non-empty folder: %v", err)
	}
	if readFile(root, "mix.wav") != "unsynced edit" || readFile(other, "notes.txt") != "someone else's notes" || readFile(other, "mix.wav") != "<missing>" {
		t.Fatal("a refused restore wrote something")
	}

	res, err := e.Sync.Restore(id, root, "", syncsvc.RestoreOptions{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kept) != 1 || res.Kept[0].Path != "mix.wav" || res.Skipped != 1 {
		t.Fatalf("overwrite result: %+v", res)
	}
	if !regexp.MustCompile(`^mix \(before restore \d{4}-\d\d-\d\d \d{6}\)\.wav$`).MatchString(res.Kept[0].KeptAs) {
		t.Fatalf("kept as %q", res.Kept[0].KeptAs)
	}
	if readFile(root, "mix.wav") != "mix v1" || readFile(root, res.Kept[0].KeptAs) != "unsynced edit" {
		t.Fatal("overwrite lost the unsynced edit or did not restore")
	}
}

// Item 2: a linked sub-folder in the target is an error naming it and
// nothing lands outside the target.
func TestSyncRestoreRefusesLinks(t *testing.T) {
	e, _ := syncEngine(t, "studio", "file://"+filepath.ToSlash(t.TempDir()))
	id, _ := syncedProject(t, e, filepath.Join(t.TempDir(), "album"), map[string]string{"stems/drums.wav": "drums"})
	outside := t.TempDir()
	out := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(out, "stems")); err != nil {
		t.Fatal(err)
	}
	_, err := e.Sync.Restore(id, out, "", syncsvc.RestoreOptions{Overwrite: true})
	if !errors.Is(err, target.ErrLink) || !strings.Contains(err.Error(), filepath.Join(out, "stems")) {
		t.Fatalf("restore through a linked folder: %v", err)
	}
	if readFile(outside, "drums.wav") != "<missing>" {
		t.Fatal("restore wrote outside the target")
	}
}

// Item 5: a backslash name is synced like any other and restored under its
// own name; a device that cannot hold the name says so in the run's result
// and in the status, and its restore writes a safe name.
func TestSyncBackslashName(t *testing.T) {
	remoteURL := "file://" + filepath.ToSlash(t.TempDir())
	a, _ := syncEngine(t, "linux", remoteURL)
	files := map[string]string{`back\slash.txt`: "bs", "one.txt": "1", "two.txt": "2"}
	id, pr := syncedProject(t, a, filepath.Join(t.TempDir(), "album"), files)
	if pr.Selected != 3 || pr.Uploaded != 3 || len(pr.Skipped) != 0 {
		t.Fatalf("run: %+v, want all 3 selected files uploaded", pr)
	}
	if p, _ := a.Sync.Preview(id); p.Pending != 0 {
		t.Fatalf("%d pending after the run", p.Pending)
	}
	out := t.TempDir()
	res, err := a.Sync.Restore(id, out, "", syncsvc.RestoreOptions{})
	if err != nil || res.Files != 3 || readFile(out, `back\slash.txt`) != "bs" {
		t.Fatalf("restore: %+v %v", res, err)
	}

	w, _ := syncEngine(t, "windows", remoteURL)
	w.syncCtl.SetGOOS("windows")
	wroot := filepath.Join(t.TempDir(), "album")
	os.MkdirAll(wroot, 0o755)
	wp, err := w.Projects.Add(wroot)
	if err != nil || string(wp.ID) != id {
		t.Fatalf("project on the second device: %v %v", wp.ID, err)
	}
	w.Sync.SetRules(id, syncsvc.SyncRules{Enabled: true, Remote: "shared"})
	r, err := w.Sync.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Projects[0]; p.Pulled != 2 || len(p.Skipped) != 1 || p.Skipped[0].Path != `back\slash.txt` || !strings.Contains(p.Skipped[0].Reason, "Windows") {
		t.Fatalf("windows run: %+v", p)
	}
	st, err := w.Sync.Status()
	if err != nil || len(st.Projects) != 1 || st.Projects[0].LastRun == nil || len(st.Projects[0].LastRun.Skipped) != 1 {
		t.Fatalf("status does not name the skipped file: %+v %v", st, err)
	}
	wout := t.TempDir()
	res, err = w.Sync.Restore(id, wout, "", syncsvc.RestoreOptions{})
	if err != nil || len(res.Renamed) != 1 || res.Renamed[0].As != "back_slash.txt" || readFile(wout, "back_slash.txt") != "bs" {
		t.Fatalf("windows restore: %+v %v", res, err)
	}
}
