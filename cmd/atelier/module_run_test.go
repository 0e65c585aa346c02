package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/modules"
	"atelier/app/modules/sandbox"
	"atelier/app/modules/sandbox/sandboxtest"
)

// An author's loop: `module init --kind action` writes a skeleton that
// builds, and `module run --dev` runs it on a project (or a selection) in
// the sandbox a user's Atelier applies, with the report, the files written
// and the outcome.
func TestCLIModuleInitAndRunDev(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(t.TempDir(), "my-check")
	if out, err := runCLI(t, "--data-dir", data, "module", "init", "--kind", "action", "--name", "@me/my-check", dir); err != nil || !strings.Contains(out, "Wrote an action module @me/my-check") {
		t.Fatalf("init: %v\n%s", err, out)
	}
	for _, f := range []string{"atelier-module.json", "main.go", "go.mod", "build.sh"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runCLI(t, "--data-dir", data, "module", "init", "--kind", "action", dir); err == nil {
		t.Fatal("init over an existing module accepted")
	}
	if _, err := runCLI(t, "--data-dir", data, "module", "init", "--kind", "plugin", t.TempDir()); err == nil {
		t.Fatal("an unknown kind accepted")
	}
	sandboxtest.Install(t, sandboxtest.Build(t, dir), dir, "main.wasm")

	proj := t.TempDir()
	os.MkdirAll(filepath.Join(proj, "mix"), 0o755)
	os.WriteFile(filepath.Join(proj, "mix", "a.wav"), []byte("1234"), 0o644)
	os.WriteFile(filepath.Join(proj, "notes.txt"), []byte("12"), 0o644)
	out, err := runCLI(t, "--data-dir", data, "module", "run", "--dev", dir, proj)
	if err != nil || !strings.HasPrefix(out, "2 files, 6 bytes\n") || !strings.Contains(out, "@me/my-check 0.1.0: ok in") || !strings.Contains(out, "summary.txt") {
		t.Fatalf("run --dev: %v\n%s", err, out)
	}
	out, err = runCLI(t, "--data-dir", data, "--json", "module", "run", "--dev", dir, proj, filepath.Join(proj, "mix", "a.wav"))
	var res modules.RunResult
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res.Outcome != sandbox.OutcomeOK || res.Report != "1 files, 4 bytes\n" {
		t.Fatalf("run --dev on a selection: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "--data-dir", data, "module", "run", "--dev", dir, proj, "/etc/passwd"); err == nil {
		t.Fatal("a selection outside the project accepted")
	}
	if _, err := runCLI(t, "--data-dir", data, "module", "run", "@me/not-installed", proj); err == nil {
		t.Fatal("running a module that is not installed succeeded")
	}
	if _, err := runCLI(t, "--data-dir", data, "project", "new", "--template", "@me/not-installed", filepath.Join(t.TempDir(), "p")); err == nil {
		t.Fatal("a project from a template that is not installed")
	}
}
