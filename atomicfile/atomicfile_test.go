package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesAtomically(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(b) != "two" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("got %q mode %v", b, fi.Mode())
	}
}

func TestFailedWriteLeavesOriginalAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "index.json")
	WriteFile(p, []byte("good"), 0o644)
	err := Write(p, 0o644, func(f *os.File) error {
		f.Write([]byte("half"))
		return errors.New("disk full")
	})
	if err == nil {
		t.Fatal("error lost")
	}
	b, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(dir)
	if string(b) != "good" || len(entries) != 1 {
		t.Fatalf("original %q, %d entries", b, len(entries))
	}
}
