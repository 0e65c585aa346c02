package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"atelier/app/history"
	"atelier/internal/testwait"
)

// TestHistoryVersionsOnSaveWithoutConsent: in a running engine, saving a
// file of a watched project makes versions in local history with no
// consent granted (nothing leaves the machine); the History service lists
// them, restores one in place and keeps what it replaced.
func TestHistoryVersionsOnSaveWithoutConsent(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Album")
	os.MkdirAll(proj, 0o755)
	e, err := Open(DirsUnder(filepath.Join(root, "home")), Options{Background: true, HistorySettle: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.privacyCtl.Granted("sync.cloud") {
		t.Fatal("the test needs sync.cloud not granted")
	}
	ps, err := e.Projects.Add(proj)
	if err != nil {
		t.Fatal(err)
	}
	mix := filepath.Join(proj, "mix.wav")
	waitVersions := func(n int) []history.Version {
		t.Helper()
		var vs []history.Version
		testwait.Until(t, 30*time.Second, 100*time.Millisecond, func() error {
			var err error
			if vs, err = e.History.Versions(ps.Name, "mix.wav"); err != nil {
				t.Fatal(err)
			}
			if len(vs) < n {
				return fmt.Errorf("%d versions of mix.wav, want %d", len(vs), n)
			}
			return nil
		})
		return vs
	}
	os.WriteFile(mix, []byte("first take"), 0o644)
	waitVersions(1)
	os.WriteFile(mix, []byte("second take, longer"), 0o644)
	vs := waitVersions(2)
	res, err := e.History.Restore(context.Background(), history.RestoreRequest{Project: ps.Name, Path: "mix.wav", At: strconv.FormatInt(vs[1].Seq, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mix); string(b) != "first take" || res.Before == 0 {
		t.Fatalf("restored %q, %+v", b, res)
	}
	tl, err := e.History.Timeline(ps.Name)
	if err != nil || len(tl) < 2 {
		t.Fatalf("timeline: %+v %v", tl, err)
	}
}
