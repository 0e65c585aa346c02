package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/client"

	"atelier/app/projects"
)

// `atelier sync restore PROJECT --to DIR` refuses a non-empty folder (the
// live project's included) and changes nothing; with --overwrite it
// restores and keeps the replaced file as "NAME (before restore DATE).EXT".
func TestCLISyncRestoreRefusesAndOverwrites(t *testing.T) {
	data := t.TempDir()
	gopts := &globalOptions{dataDir: data}
	t.Setenv("ATELIER_HOME", data) // a root without --data-dir would use ATELIER_HOME: never the user's own data dir
	t.Setenv("ATELIER_VAULT_PASSPHRASE", "a passphrase for the cli test")
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		t.Helper()
		out, err := os.CreateTemp(t.TempDir(), "stdout")
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stdout
		os.Stdout = out
		defer func() { os.Stdout = saved }()
		root := newRootCommand(&globalOptions{})
		root.SetArgs(append([]string{"--data-dir", data}, args...))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err = root.ExecuteContext(ctx)
		b, _ := os.ReadFile(out.Name())
		return string(b), err
	}
	if err := do(ctx, gopts, func(cl *client.Client) error { _, err := cl.Privacy.Grant(ctx, "sync.cloud", "test"); return err }); err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(t.TempDir(), "album")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "mix.wav"), []byte("mix v1"), 0o644)
	os.WriteFile(filepath.Join(proj, "notes.txt"), []byte("notes"), 0o644)
	var p projects.ProjectSummary
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(ctx, proj); return }); err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	if _, err := run("sync", "run", id); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(proj, "mix.wav"), []byte("unsynced edit"), 0o644)

	_, err := run("sync", "restore", id, "--to", proj)
	if err == nil || !strings.Contains(err.Error(), proj) || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("restore over the live project without --overwrite: %v", err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "keep.txt"), []byte("mine"), 0o644)
	if _, err := run("sync", "restore", id, "--to", other); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(proj, "mix.wav")); string(b) != "unsynced edit" {
		t.Fatal("a refused restore changed the project")
	}
	if _, err := os.Stat(filepath.Join(other, "mix.wav")); err == nil {
		t.Fatal("a refused restore wrote into the folder")
	}

	out, err := run("sync", "restore", id, "--to", proj, "--overwrite")
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := filepath.Glob(filepath.Join(proj, "mix (before restore *).wav"))
	if len(kept) != 1 {
		t.Fatalf("kept copies %q", kept)
	}
	if b, _ := os.ReadFile(kept[0]); string(b) != "unsynced edit" {
		t.Fatalf("kept copy holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(proj, "mix.wav")); string(b) != "mix v1" {
		t.Fatalf("mix.wav holds %q after the restore", b)
	}
	if !strings.Contains(out, `kept "mix.wav"`) || !strings.Contains(out, filepath.Base(kept[0])) || !strings.Contains(out, "left alone") {
		t.Fatalf("restore output does not list what it kept:\n%s", out)
	}
}
