package app

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"atelier/internal/testwait"
	"atelier/localdb"
)

// TestIdleEngineKeepsDatabaseClosed: once the engine is idle its database is
// closed (localdb.CloseAfter), and what polls an idle engine (the tray's
// Projects.Status, Sync.Status and Library.Stats every minute, the
// settings, the power loop) answers from memory without reopening it; a
// file change reopens it and is indexed.
func TestIdleEngineKeepsDatabaseClosed(t *testing.T) {
	old := localdb.CloseAfter
	localdb.CloseAfter = 300 * time.Millisecond
	defer func() { localdb.CloseAfter = old }()
	e := openEngine(t, DirsUnder(t.TempDir()), true)
	defer e.Close()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.txt"), "a")
	if _, err := e.Projects.Add(root); err != nil {
		t.Fatal(err)
	}
	poll := func() {
		t.Helper()
		if _, err := e.Projects.Status(); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Sync.Status(); err != nil {
			t.Fatal(err)
		}
		e.Library.Stats()
		if _, err := e.Settings.Get(); err != nil {
			t.Fatal(err)
		}
	}
	// Polled more often than CloseAfter, as the tray polls (a minute, to 2):
	// a poll after a write reads the database while it is still open.
	testwait.Until(t, 30*time.Second, 50*time.Millisecond, func() error {
		poll()
		if e.DB.IsOpen() {
			return errors.New("the idle engine's database is still open")
		}
		return nil
	})
	r0 := e.DB.Reopens()
	for range 5 {
		poll()
		time.Sleep(20 * time.Millisecond)
	}
	if e.DB.IsOpen() || e.DB.Reopens() != r0 {
		t.Fatalf("status polls reopened the idle database (%d reopens)", e.DB.Reopens()-r0)
	}
	writeFile(t, filepath.Join(root, "b.txt"), "b")
	testwait.Until(t, 30*time.Second, 50*time.Millisecond, func() error {
		st, err := e.Projects.Status()
		if err != nil {
			return err
		}
		if st.Files != 2 {
			return errors.New("b.txt not indexed yet")
		}
		return nil
	})
	if e.DB.Reopens() == r0 {
		t.Error("indexing a new file did not reopen the database")
	}
}
