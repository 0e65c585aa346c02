package diskspace

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Check names the file system's mount point, what is free and what is needed;
// a path that does not exist yet is checked on its nearest existing parent.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if err := Check(filepath.Join(dir, "not", "yet"), 1, "a test"); err != nil {
		t.Fatalf("1 byte on %s: %v", dir, err)
	}
	err := Check(dir, 1<<62, "a huge restore")
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "a huge restore") || !strings.Contains(err.Error(), "needed") {
		t.Fatalf("4 EiB: %v", err)
	}
	u, err := Statfs(dir)
	if err != nil || u.Mount == "" || u.Total <= 0 || !strings.HasPrefix(dir, u.Mount) {
		t.Fatalf("statfs %s: %+v %v", dir, u, err)
	}
}
