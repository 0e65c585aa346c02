package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atelier/app"
)

// The CLI talks to a running engine through its socket: a project added by
// the CLI appears in the engine, and status reports the engine as running.
func TestCLIAgainstRunningEngine(t *testing.T) {
	data := t.TempDir()
	flags.dataDir = data
	defer func() { flags.dataDir = "" }()
	e, err := app.Open(app.DataDirFlag(data), app.Options{Background: true, Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !engineRunning() {
		t.Fatal("engineRunning() is false with an engine serving")
	}
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "a.wav"), []byte("RIFF"), 0o644)
	ctx := context.Background()
	var p app.ProjectSummary
	if err := call(ctx, "Projects.Add", &p, proj); err != nil {
		t.Fatal(err)
	}
	// The engine itself knows the project: the call went through its socket.
	ps, err := e.Projects.List()
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("engine projects %v %v", ps, err)
	}
	var st app.Status
	if err := call(ctx, "Projects.Status", &st); err != nil || !st.Running {
		t.Fatalf("status %+v %v", st, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var files []map[string]any
		if err := call(ctx, "Projects.Files", &files, string(p.ID), "audio"); err != nil {
			t.Fatal(err)
		}
		if len(files) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a.wav never indexed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := call(ctx, "Projects.Nope", nil); err == nil {
		t.Fatal("unknown method accepted")
	}
}

// Without an engine the CLI opens the data dir itself for one call.
func TestCLIWithoutEngine(t *testing.T) {
	flags.dataDir = t.TempDir()
	defer func() { flags.dataDir = "" }()
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "cover.png"), []byte("png"), 0o644)
	var p app.ProjectSummary
	if err := call(context.Background(), "Projects.Add", &p, proj); err != nil {
		t.Fatal(err)
	}
	if p.Files != 1 {
		t.Fatalf("indexed %d files", p.Files)
	}
	var st app.Status
	if err := call(context.Background(), "Projects.Status", &st); err != nil || st.Running || st.Files != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
}

// `atelier remote limit` changes the limit of the built-in remote, and
// refuses what is not a number.
func TestCLIRemoteLimit(t *testing.T) {
	data := t.TempDir()
	flags.dataDir = data
	defer func() { flags.dataDir = "" }()
	run := func(args ...string) error {
		root := rootCmd() // resets flags.dataDir: pass the test's own
		root.SetArgs(append([]string{"--data-dir", data}, args...))
		root.SetOut(io.Discard)
		return root.ExecuteContext(context.Background())
	}
	if err := run("remote", "limit", "local", "200"); err != nil {
		t.Fatal(err)
	}
	var rs []app.Remote
	if err := call(context.Background(), "Sync.RemoteList", &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 || rs[0].Name != "local" || rs[0].BandwidthKBps != 200 {
		t.Fatalf("remotes after the limit: %+v", rs)
	}
	if err := run("remote", "limit", "local", "fast"); err == nil {
		t.Fatal("a limit of \"fast\" was accepted")
	}
}
