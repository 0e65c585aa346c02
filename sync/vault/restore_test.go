package vault_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"atelier/sync/target"
	"atelier/sync/vault"
)

// pushed makes a vault holding one snapshot of a small project.
func pushed(t *testing.T, files map[string]string) (*vault.Vault, *vault.Snapshot, string) {
	t.Helper()
	v, err := vault.Init(ctx, opts(fileRemote(t), vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for p, c := range files {
		abs := filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(abs), 0o755)
		if err := os.WriteFile(abs, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	push(t, v, "p", root)
	snap, err := v.FindSnapshot(ctx, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	return v, snap, root
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Item 1: a restore into a non-empty folder is refused and touches nothing.
func TestRestoreRefusesNonEmptyFolder(t *testing.T) {
	v, snap, _ := pushed(t, map[string]string{"song.txt": "snapshot version", "notes/a.txt": "a"})
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "song.txt"), []byte("unsynced edit"), 0o644)
	_, err := v.Restore(ctx, snap, out, nil)
	if !errors.Is(err, target.ErrNotEmpty) {
		t.Fatalf("restore into a non-empty folder: %v, want a refusal", err)
	}
	for _, want := range []string{out, "--overwrite", "empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not mention %q", err, want)
		}
	}
	if got := read(t, filepath.Join(out, "song.txt")); got != "unsynced edit" {
		t.Fatalf("refused restore changed song.txt to %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, "notes")); err == nil {
		t.Fatal("refused restore wrote notes/")
	}
}

// Item 1: with Overwrite, every replaced file that differs is kept beside
// it under a free name, identical ones are left alone, and the result says so.
func TestRestoreOverwriteKeepsReplacedFiles(t *testing.T) {
	v, snap, root := pushed(t, map[string]string{"song.txt": "snapshot version", "same.txt": "same", "new/x.txt": "x"})
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "song.txt"), []byte("unsynced edit"), 0o644)
	os.WriteFile(filepath.Join(out, "same.txt"), []byte("same"), 0o600)
	os.WriteFile(filepath.Join(out, "mine.txt"), []byte("not in the snapshot"), 0o644)
	res, err := v.RestoreWith(ctx, snap, out, vault.RestoreOptions{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 2 || res.Skipped != 1 || len(res.Kept) != 1 || res.Kept[0].Path != "song.txt" {
		t.Fatalf("result %+v: want 2 written, 1 left alone, song.txt kept", res)
	}
	if !regexp.MustCompile(`^song \(before restore \d{4}-\d\d-\d\d \d{6}\)\.txt$`).MatchString(res.Kept[0].KeptAs) {
		t.Fatalf("kept as %q", res.Kept[0].KeptAs)
	}
	if got := read(t, filepath.Join(out, res.Kept[0].KeptAs)); got != "unsynced edit" {
		t.Fatalf("kept copy holds %q", got)
	}
	if got := read(t, filepath.Join(out, "song.txt")); got != "snapshot version" {
		t.Fatalf("song.txt holds %q", got)
	}
	if fi, _ := os.Stat(filepath.Join(out, "same.txt")); fi.Mode().Perm() != 0o600 {
		t.Fatal("an identical file was rewritten")
	}
	if got := read(t, filepath.Join(out, "mine.txt")); got != "not in the snapshot" {
		t.Fatal("a file the snapshot does not have was touched")
	}
	// Again, after another edit: the first kept copy is never overwritten.
	os.WriteFile(filepath.Join(out, "song.txt"), []byte("second edit"), 0o644)
	res2, err := v.RestoreWith(ctx, snap, out, vault.RestoreOptions{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Kept) != 1 || res2.Kept[0].KeptAs == res.Kept[0].KeptAs {
		t.Fatalf("second restore kept %+v (first: %+v)", res2.Kept, res.Kept)
	}
	if read(t, filepath.Join(out, res.Kept[0].KeptAs)) != "unsynced edit" || read(t, filepath.Join(out, res2.Kept[0].KeptAs)) != "second edit" {
		t.Fatal("a kept copy lost its content")
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), target.TempPrefix) {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
	_ = root
}

// Item 2: a linked sub-folder or a linked file in the target is an error
// naming it, and nothing is written outside the target.
func TestRestoreNeverWritesThroughLinks(t *testing.T) {
	v, snap, _ := pushed(t, map[string]string{"sub/evil.txt": "snapshot", "file.txt": "snapshot"})
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "file.txt"), []byte("outside"), 0o644)

	out := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(out, "sub")); err != nil {
		t.Fatal(err)
	}
	_, err := v.RestoreWith(ctx, snap, out, vault.RestoreOptions{Overwrite: true})
	if !errors.Is(err, target.ErrLink) || !strings.Contains(err.Error(), filepath.Join(out, "sub")) {
		t.Fatalf("restore through a linked folder: %v, want an error naming %s", err, filepath.Join(out, "sub"))
	}
	if _, err := os.Stat(filepath.Join(outside, "evil.txt")); err == nil {
		t.Fatal("restore wrote outside the target through a linked folder")
	}

	out2 := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "file.txt"), filepath.Join(out2, "file.txt")); err != nil {
		t.Fatal(err)
	}
	_, err = v.RestoreWith(ctx, snap, out2, vault.RestoreOptions{Overwrite: true})
	if !errors.Is(err, target.ErrLink) || !strings.Contains(err.Error(), filepath.Join(out2, "file.txt")) {
		t.Fatalf("restore over a linked file: %v, want an error naming it", err)
	}
	if got := read(t, filepath.Join(outside, "file.txt")); got != "outside" {
		t.Fatalf("restore wrote through a linked file: outside file now %q", got)
	}
}

// Item 5: a name with a backslash (legal on Linux and macOS) is synced and
// restored under its own name; nothing selected is left out.
func TestBackslashNameIsSyncedAndRestored(t *testing.T) {
	v, snap, root := pushed(t, map[string]string{`back\slash.txt`: "one", "plain.txt": "two", `dir\x/in.txt`: "three"})
	if len(snap.Files) != 3 {
		var ps []string
		for _, f := range snap.Files {
			ps = append(ps, f.Path)
		}
		t.Fatalf("snapshot holds %q, want all 3 files", ps)
	}
	out := t.TempDir()
	res, err := v.Restore(ctx, snap, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || len(res.Renamed) != 0 {
		t.Fatalf("restore %+v", res)
	}
	sameTree(t, root, out)
}

// Item 5: where the platform cannot hold a name, restore writes it under a
// safe name and says so; a sync run there reports it instead of dropping it
// silently, and keeps it in the vault.
func TestUnrepresentableNameOnWindows(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "linux"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, `back\slash.txt`), []byte("one"), 0o644)
	os.WriteFile(filepath.Join(root, "back_slash.txt"), []byte("two"), 0o644)
	push(t, v, "p", root)

	o := opts(s, vault.NewMemState(), "windows")
	o.GOOS = "windows"
	w, err := vault.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := w.FindSnapshot(ctx, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := w.Restore(ctx, snap, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renamed) != 1 || res.Renamed[0].Path != `back\slash.txt` || res.Renamed[0].As != "back_slash (2).txt" || !strings.Contains(res.Renamed[0].Reason, "Windows") {
		t.Fatalf("renamed: %+v", res.Renamed)
	}
	if read(t, filepath.Join(out, "back_slash (2).txt")) != "one" || read(t, filepath.Join(out, "back_slash.txt")) != "two" {
		t.Fatal("safe-named file or its neighbour has the wrong content")
	}

	// A sync on that device: the file is reported, not written, and stays in the vault.
	wroot := t.TempDir()
	r, err := w.Sync(ctx, vault.Job{Project: "p", Root: wroot})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Skipped) != 1 || r.Skipped[0].Path != `back\slash.txt` {
		t.Fatalf("sync skipped %+v, want back\\slash.txt reported", r.Skipped)
	}
	if _, err := os.Stat(filepath.Join(wroot, `back\slash.txt`)); err == nil {
		t.Fatal("sync wrote a name Windows cannot hold")
	}
	w.Sync(ctx, vault.Job{Project: "p", Root: wroot, Files: scan(t, wroot)})
	latest, _ := v.FindSnapshot(ctx, "p", "")
	found := false
	for _, f := range latest.Files {
		found = found || f.Path == `back\slash.txt`
	}
	if !found {
		t.Fatal("a sync on Windows dropped the file from the vault")
	}
}
