package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/signing/manifest"
)

func TestApplyTemplateRefusesLinks(t *testing.T) {
	base := t.TempDir()
	mod := filepath.Join(base, "mod")
	mustWrite(t, filepath.Join(mod, "template", "notes.md"), "# {{project}}")
	mustWrite(t, filepath.Join(base, "secret"), "secret")
	if err := os.Symlink(filepath.Join(base, "secret"), filepath.Join(mod, "template", "leak.md")); err != nil {
		t.Fatal(err)
	}
	m := Module{Manifest: manifest.Manifest{Name: "@t/tpl", Version: "1.0.0", Kind: manifest.KindTemplate}, Dir: mod}
	dest := filepath.Join(base, "new")
	_, err := ApplyTemplate(context.Background(), m, dest)
	if err == nil || !strings.Contains(err.Error(), "link or a special file") {
		t.Fatalf("a template with a link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dest, "leak.md")); err == nil {
		t.Fatal("the link's target was copied")
	}
	os.Remove(filepath.Join(mod, "template", "leak.md"))
	os.RemoveAll(dest)
	files, err := ApplyTemplate(context.Background(), m, dest)
	if err != nil || len(files) != 1 {
		t.Fatal(err, files)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "notes.md")); string(b) != "# new" {
		t.Fatalf("notes.md %q", b)
	}
}
