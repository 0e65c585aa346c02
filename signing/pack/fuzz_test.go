package pack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func seedArchive(f *testing.F) []byte {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "atelier-module.json"), []byte(`{"name":"@a/b","version":"1.0.0","description":"","license":"MIT","author":"","permissions":["project:read"]}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "x"), 0o755)
	os.WriteFile(filepath.Join(dir, "x", "y.txt"), []byte("hello"), 0o644)
	var buf bytes.Buffer
	if _, err := Pack(context.Background(), dir, &buf); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReadArchive: any bytes give a Head or an error, never a panic, a hang
// or an allocation past the caps.
func FuzzReadArchive(f *testing.F) {
	f.Add(seedArchive(f))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	lim := Limits{MaxTotal: 1 << 20, MaxFile: 256 << 10, MaxEntries: 64, MaxRatio: 100}
	f.Fuzz(func(t *testing.T, b []byte) {
		Check(context.Background(), bytes.NewReader(b), "fuzz", lim)
		ReadHead(bytes.NewReader(b), "fuzz", lim)
		dest := t.TempDir()
		if _, err := Extract(context.Background(), bytes.NewReader(b), "fuzz", dest, lim); err == nil {
			return
		}
	})
}

func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"a/b.txt", "../x", "C:/x", "CON", "a//b", "ca\u0301fe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckPath(s) == nil {
			if filepath.IsAbs(s) || s == ".." || len(s) > 2 && s[:3] == "../" {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}

func FuzzFileList(f *testing.F) {
	f.Add([]byte(`{"module":"@a/b","version":"1.0.0","files":[{"path":"a","size":1,"mode":"0644","sha256":"` + string(bytes.Repeat([]byte("0"), 64)) + `"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { ParseFileList(b, "fuzz") })
}
