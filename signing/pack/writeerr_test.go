package pack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// failingFile accepts limit bytes, then fails every write with err, as a
// file on a disk that fills up does.
type failingFile struct {
	f     *os.File
	limit int
	err   error
}

func (w *failingFile) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n, _ := w.f.Write(p[:w.limit])
		w.limit = 0
		return n, w.err
	}
	w.limit -= len(p)
	return w.f.Write(p)
}

func (w *failingFile) Close() error { return w.f.Close() }

func testArchive(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "atelier-module.json"), []byte(`{"name":"@a/b","version":"1.0.0","description":"","license":"MIT","author":"","permissions":["project:read"]}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
	os.WriteFile(filepath.Join(dir, "samples", "kick.wav"), bytes.Repeat([]byte("riff"), 64<<10), 0o644)
	var buf bytes.Buffer
	if _, err := Pack(context.Background(), dir, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A write that fails while extracting (a full disk, a quota, a read-only
// disk) is reported as what it is, naming the folder, not as a damaged
// archive.
func TestExtractWriteErrorIsNotDamage(t *testing.T) {
	arc := testArchive(t)
	rows := []struct {
		err  error
		want string
	}{
		{syscall.ENOSPC, "is full"},
		{syscall.EDQUOT, "quota"},
		{syscall.EROFS, "read-only"},
		{syscall.EIO, "the archive itself is fine"},
	}
	for _, row := range rows {
		t.Run(row.err.Error(), func(t *testing.T) {
			old := createFile
			defer func() { createFile = old }()
			createFile = func(root *os.Root, name string, perm os.FileMode) (io.WriteCloser, error) {
				f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
				if err != nil {
					return nil, err
				}
				if name == "samples/kick.wav" {
					return &failingFile{f: f, limit: 4096, err: &os.PathError{Op: "write", Path: name, Err: row.err}}, nil
				}
				return f, nil
			}
			dest := t.TempDir()
			_, err := Extract(context.Background(), bytes.NewReader(arc), "b-1.0.0.tgz", dest, DefaultLimits())
			if err == nil {
				t.Fatal("extract succeeded with a failing disk")
			}
			msg := err.Error()
			t.Log(msg)
			if errors.Is(err, ErrRefused) || strings.Contains(msg, "damaged") {
				t.Fatalf("a write error is reported as a bad archive: %v", err)
			}
			if !errors.Is(err, row.err) || !strings.Contains(msg, row.want) || !strings.Contains(msg, dest) || !strings.Contains(msg, "samples/kick.wav") {
				t.Fatalf("error %q: want it to say %q and name %s and the file", msg, row.want, dest)
			}
			if row.err == syscall.ENOSPC && !strings.Contains(msg, "free ") {
				t.Fatalf("a full disk does not say how much to free: %v", err)
			}
		})
	}
}

// Install refuses up front when the declared size does not fit.
func TestNeedSpace(t *testing.T) {
	dir := t.TempDir()
	if err := NeedSpace(dir, "m", 1<<10); err != nil {
		t.Fatalf("1 KiB does not fit in %s: %v", dir, err)
	}
	err := NeedSpace(dir, "m", 1<<62)
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "not enough space") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("4 EiB: %v", err)
	}
}
