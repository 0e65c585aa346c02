package localdb

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"atelier/diskspace"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func putOne(t *testing.T, dir string) {
	t.Helper()
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	tbl := NewTable[string]("t/")
	if err := db.Update(func(tx *Tx) error { return tbl.Put(tx, "k", "v") }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// Deleting MANIFEST used to open an empty database over the old one ("No
// projects yet"): now Open refuses and names the damage, and leaves the
// files as they are.
func TestOpenRefusesDatabaseWithoutManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	putOne(t, dir)
	if _, err := os.Stat(filepath.Join(dir, MarkerName)); err != nil {
		t.Fatalf("no marker after creating the database: %v", err)
	}
	os.Remove(filepath.Join(dir, "MANIFEST"))
	before, _ := os.ReadDir(dir)
	_, err := Open(dir, Options{Logger: quietLog})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "MANIFEST missing") || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "atelier db restore") {
		t.Fatalf("open without MANIFEST: %v", err)
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Fatalf("the refused open changed the directory: %d files before, %d after", len(before), len(after))
	}
	// Only the marker left (every data file deleted): still damaged, not new.
	for _, e := range after {
		if e.Name() != MarkerName {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if _, err := Open(dir, Options{Logger: quietLog}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with only the marker left: %v", err)
	}
}

// mountTmpfs mounts a tmpfs of size at dir (tests run as root in CI; a
// container that forbids mount fails here, loudly).
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs at %s (needs root): %v: %s", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// A read-only data directory says "read-only", not "damaged — move it
// aside". chmod does not stop root, so this uses a read-only mount.
func TestOpenReadOnlyDirectory(t *testing.T) {
	mnt := t.TempDir()
	mountTmpfs(t, mnt, "size=64m")
	dir := filepath.Join(mnt, "db")
	putOne(t, dir)
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	_, err := Open(dir, Options{Logger: quietLog})
	if !errors.Is(err, ErrReadOnly) || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "read-only") || strings.Contains(err.Error(), "move the directory aside") {
		t.Fatalf("open on a read-only mount: %v", err)
	}
	// A data dir that does not exist yet on a read-only file system.
	_, err = Open(filepath.Join(mnt, "new", "db"), Options{Logger: quietLog})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("create on a read-only mount: %v", err)
	}
}

// A full disk used to crash every command with SIGBUS (Badger maps its
// write-ahead logs as sparse files). Open now checks the free space first and
// names the file system, what is free and what is needed.
func TestOpenOnFullDisk(t *testing.T) {
	mnt := t.TempDir()
	mountTmpfs(t, mnt, "size=8m")
	_, err := Open(filepath.Join(mnt, "db"), Options{Logger: quietLog})
	if !errors.Is(err, diskspace.ErrNoSpace) || !strings.Contains(err.Error(), mnt) || !strings.Contains(err.Error(), "needed") {
		t.Fatalf("open on an 8 MiB file system: %v", err)
	}
}

// The same through the seam, for the numbers in the message (two 8 MiB
// write-ahead logs and 16 MiB to spare).
func TestOpenNoSpaceMessage(t *testing.T) {
	old := diskspace.Statfs
	diskspace.Statfs = func(string) (diskspace.Usage, error) {
		return diskspace.Usage{Mount: "/media/full", Free: 3 << 20, Total: 1 << 30}, nil
	}
	defer func() { diskspace.Statfs = old }()
	_, err := Open(filepath.Join(t.TempDir(), "db"), Options{Logger: quietLog})
	if err == nil || !strings.Contains(err.Error(), "/media/full has 3.0 MiB free, 32.0 MiB needed") {
		t.Fatalf("message: %v", err)
	}
}

// A disk that fills while the database is open: writes are refused with a
// clear error (the file system, free and needed) instead of a SIGBUS when
// Badger writes to a mapped page with no block behind it; what was written
// before is intact.
func TestWritesRefusedWhenDiskFills(t *testing.T) {
	old := SpaceCheckEvery
	SpaceCheckEvery = 0
	defer func() { SpaceCheckEvery = old }()
	mnt := t.TempDir()
	mountTmpfs(t, mnt, "size=64m")
	dir := filepath.Join(mnt, "db")
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := NewTable[string]("t/")
	if err := db.Update(func(tx *Tx) error { return tbl.Put(tx, "before", "kept") }); err != nil {
		t.Fatal(err)
	}
	// Fill the file system, leaving a few MiB.
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for {
		u, err := diskspace.Statfs(mnt)
		if err != nil {
			t.Fatal(err)
		}
		if u.Free < 4<<20 {
			break
		}
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	err = db.Update(func(tx *Tx) error { return tbl.Put(tx, "after", strings.Repeat("x", 4<<10)) })
	if !errors.Is(err, diskspace.ErrNoSpace) || !strings.Contains(err.Error(), mnt) {
		t.Fatalf("write on a full disk: %v", err)
	}
	b := db.Batch()
	if err := b.SetRaw([]byte("t/batch"), []byte("x")); !errors.Is(err, diskspace.ErrNoSpace) {
		t.Fatalf("batch write on a full disk: %v", err)
	}
	b.Cancel()
	var got string
	db.View(func(tx *Tx) error { got, _, _ = tbl.Get(tx, "before"); return nil })
	if got != "kept" {
		t.Fatalf("earlier write lost: %q", got)
	}
	// Space freed: writes go through again.
	os.Remove(filepath.Join(mnt, "filler"))
	if err := db.Update(func(tx *Tx) error { return tbl.Put(tx, "after", "ok") }); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
}
