package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/localdb"
)

// Deleting db/MANIFEST used to give an empty engine ("No projects yet") and a
// consent ledger that verified "OK: 0 records". The engine now refuses to
// open and names the damage; and a database replaced wholesale (the directory
// deleted) is caught by the ledger head kept beside it.
func TestEngineDetectsLostDatabase(t *testing.T) {
	dirs := DirsUnder(t.TempDir())
	e := openEngine(t, dirs, false)
	if _, err := e.Privacy.Grant("analytics.local", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Projects.Add(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.Close()
	dbDir := filepath.Join(dirs.Data, "db")
	os.Remove(filepath.Join(dbDir, "MANIFEST"))
	_, err := Open(dirs, Options{})
	if !errors.Is(err, localdb.ErrCorrupt) || !strings.Contains(err.Error(), "MANIFEST missing") {
		t.Fatalf("open without MANIFEST: %v", err)
	}
	// The whole database gone: Atelier starts a new one, but the consent
	// ledger says records were lost instead of "OK: 0 records".
	if err := os.RemoveAll(dbDir); err != nil {
		t.Fatal(err)
	}
	e = openEngine(t, dirs, false)
	defer e.Close()
	v, err := e.Privacy.VerifyLedger()
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || !strings.Contains(v.Problem, "consent-head.json") {
		t.Fatalf("a wiped ledger verified: %+v", v)
	}
}
