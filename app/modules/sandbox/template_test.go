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

func TestInstallPreset(t *testing.T) {
	base := t.TempDir()
	mod := filepath.Join(base, "mod")
	mustWrite(t, filepath.Join(mod, "preset", "Bass", "warm.fxp"), "v1")
	mustWrite(t, filepath.Join(mod, "preset", "lead.fxp"), "v1")
	m := Module{Manifest: manifest.Manifest{Name: "@t/daw", Version: "1.0.0", Kind: manifest.KindPreset, Permissions: []string{"folder:daw-presets"}}, Dir: mod}
	dest := filepath.Join(base, "DAW Presets")
	mustWrite(t, filepath.Join(dest, "mine.fxp"), "the creator's own")
	files, err := InstallPreset(context.Background(), m, dest, false)
	if err != nil || strings.Join(files, ",") != "Bass/warm.fxp,lead.fxp" {
		t.Fatalf("install: %v %v", err, files)
	}
	mustWrite(t, filepath.Join(mod, "preset", "lead.fxp"), "v2")
	if _, err := InstallPreset(context.Background(), m, dest, false); err == nil || !strings.Contains(err.Error(), ".fxp already exists") {
		t.Fatalf("a second install without replace: %v", err)
	}
	if _, err := InstallPreset(context.Background(), m, dest, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "lead.fxp")); string(b) != "v2" {
		t.Fatalf("lead.fxp %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "mine.fxp")); string(b) != "the creator's own" {
		t.Fatalf("the creator's file changed: %q", b)
	}
	// A link planted where a preset file goes is never written through.
	mustWrite(t, filepath.Join(base, "victim"), "untouched")
	os.Remove(filepath.Join(dest, "lead.fxp"))
	if err := os.Symlink(filepath.Join(base, "victim"), filepath.Join(dest, "lead.fxp")); err != nil {
		t.Fatal(err)
	}
	for _, replace := range []bool{false, true} {
		if _, err := InstallPreset(context.Background(), m, dest, replace); err == nil {
			t.Errorf("replace=%v: installed over a link", replace)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(base, "victim")); string(b) != "untouched" {
		t.Fatalf("written through a link: %q", b)
	}
}
