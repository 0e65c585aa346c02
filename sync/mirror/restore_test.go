package mirror_test

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"atelier/sync/mirror"
	"atelier/sync/remote"
	"atelier/sync/target"
	"atelier/sync/vault"
)

// published mirrors files to a file:// remote and returns the mirror.
func published(t *testing.T, files map[string]string) *mirror.Mirror {
	t.Helper()
	ctx := t.Context()
	s, err := remote.Open(ctx, "file://"+t.TempDir(), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	root := t.TempDir()
	var lf []vault.LocalFile
	for p, c := range files {
		abs := filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(abs), 0o755)
		os.WriteFile(abs, []byte(c), 0o644)
		lf = append(lf, vault.LocalFile{Path: p, Size: int64(len(c)), SHA256: sha256.Sum256([]byte(c))})
	}
	m := &mirror.Mirror{S: s, St: vault.NewMemState()}
	res, err := m.Sync(ctx, vault.Job{Project: "site", Root: root, Files: lf})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploaded) != len(files) {
		t.Fatalf("published %q of %d files", res.Uploaded, len(files))
	}
	return m
}

// Items 1, 2 and 5 for the mirror target: refusal, kept copies, links,
// backslash names.
func TestMirrorRestoreIsSafe(t *testing.T) {
	ctx := t.Context()
	m := published(t, map[string]string{"index.html": "<h1>new</h1>", `back\slash.txt`: "b", "img/a.png": "png"})

	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "index.html"), []byte("<h1>mine</h1>"), 0o644)
	if _, err := m.Restore(ctx, "site", out, vault.RestoreOptions{}); !errors.Is(err, target.ErrNotEmpty) {
		t.Fatalf("mirror restore into a non-empty folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "index.html")); string(b) != "<h1>mine</h1>" {
		t.Fatal("refused mirror restore changed a file")
	}
	res, err := m.Restore(ctx, "site", out, vault.RestoreOptions{Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || len(res.Kept) != 1 || !regexp.MustCompile(`^index \(before restore .*\)\.html$`).MatchString(res.Kept[0].KeptAs) {
		t.Fatalf("mirror overwrite: %+v", res)
	}
	if b, _ := os.ReadFile(filepath.Join(out, res.Kept[0].KeptAs)); string(b) != "<h1>mine</h1>" {
		t.Fatal("kept copy lost the previous content")
	}
	if b, _ := os.ReadFile(filepath.Join(out, `back\slash.txt`)); string(b) != "b" {
		t.Fatal("backslash name not restored under its own name")
	}

	outside := t.TempDir()
	out2 := t.TempDir()
	os.Symlink(outside, filepath.Join(out2, "img"))
	_, err = m.Restore(ctx, "site", out2, vault.RestoreOptions{Overwrite: true})
	if !errors.Is(err, target.ErrLink) || !strings.Contains(err.Error(), filepath.Join(out2, "img")) {
		t.Fatalf("mirror restore through a linked folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "a.png")); err == nil {
		t.Fatal("mirror restore wrote outside the target")
	}

	m.GOOS = "windows"
	out3 := t.TempDir()
	res, err = m.Restore(ctx, "site", out3, vault.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renamed) != 1 || res.Renamed[0].As != "back_slash.txt" {
		t.Fatalf("windows names: %+v", res.Renamed)
	}
}
