package app

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"atelier/app/history"
	"atelier/internal/testwait"
)

// Quitting while a local history version is being taken (History.Taking
// names it: the quit notice says "Quitting after the local history version
// of …") leaves history consistent: Close waits for the version through the
// engine's runner, which either finishes it or stops it with its changes
// still pending; the next start takes them. Every version is whole (no
// version holds part of the first pass), the vault verifies, and each file
// reads back as it is on disk.
func TestQuitWhileTakingAVersion(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Field Recordings")
	os.MkdirAll(proj, 0o755)
	const n = 1200
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][]byte{}
	for i := range n {
		b := make([]byte, 48<<10)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		name := fmt.Sprintf("take-%04d.raw", i)
		want[name] = b
		if err := os.WriteFile(filepath.Join(proj, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dirs := DirsUnder(filepath.Join(root, "home"))
	o := Options{Background: true, HistorySettle: 100 * time.Millisecond}
	e, err := Open(dirs, o)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := e.Projects.Add(proj)
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	// the first version takes every file: quit as soon as it is under way
	deadline := time.Now().Add(2 * time.Minute)
	for e.History.Taking() == "" {
		if time.Now().After(deadline) {
			e.Close()
			t.Fatal("no local history version was taken within 2 minutes")
		}
		time.Sleep(time.Millisecond)
	}
	if got := e.History.Taking(); got != ps.Name {
		t.Errorf("Taking = %q, want the project %s", got, ps.Name)
	}
	start := time.Now()
	if err := e.Close(); err != nil {
		t.Fatalf("close while a version was being taken: %v", err)
	}
	tl := timeline(t, dirs, ps.Name)
	t.Logf("closed %v after the version started; versions after close: %d", time.Since(start).Round(time.Millisecond), len(tl))

	// the next start: whole versions only, and the changes left pending are taken
	e, err = Open(dirs, o)
	if err != nil {
		t.Fatalf("reopen after quitting during a version: %v", err)
	}
	defer e.Close()
	whole := func(tl []history.SnapInfo) error {
		for _, v := range tl {
			if v.Files != n {
				return fmt.Errorf("version %d holds %d files, want all %d: a partial version", v.Seq, v.Files, n)
			}
		}
		return nil
	}
	if tl, err := e.History.Timeline(ps.Name); err != nil || whole(tl) != nil {
		t.Fatalf("at the next start: %v %v", err, whole(tl))
	}
	testwait.Until(t, 3*time.Minute, 50*time.Millisecond, func() error {
		tl, err := e.History.Timeline(ps.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := whole(tl); err != nil {
			t.Fatal(err)
		}
		if len(tl) == 0 {
			return fmt.Errorf("no version of %s yet", ps.Name)
		}
		return nil
	})
	for name := range want {
		vs, err := e.History.Versions(ps.Name, name)
		if err != nil || len(vs) == 0 {
			t.Fatalf("%s: versions %v, %v; want one", name, vs, err)
		}
	}
	h := e.historyCtl.History()
	res, err := h.Vault().Verify(context.Background(), nil, nil)
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("verify the history vault: %+v, %v", res.Problems, err)
	}
	for _, name := range []string{"take-0000.raw", fmt.Sprintf("take-%04d.raw", n/2), fmt.Sprintf("take-%04d.raw", n-1)} {
		var b bytes.Buffer
		if _, err := h.ReadVersion(context.Background(), string(ps.ID), name, "", &b); err != nil {
			t.Fatalf("read the version of %s: %v", name, err)
		}
		if !bytes.Equal(b.Bytes(), want[name]) {
			t.Fatalf("%s reads back %d bytes unlike the file's %d", name, b.Len(), len(want[name]))
		}
	}
}

// timeline reads a project's versions with an engine of its own (no background work).
func timeline(t *testing.T, dirs Dirs, project string) []history.SnapInfo {
	t.Helper()
	e, err := Open(dirs, Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	defer e.Close()
	tl, err := e.History.Timeline(project)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}
