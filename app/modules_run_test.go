package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/app/modules"
	"atelier/app/modules/sandbox"
	"atelier/app/modules/sandbox/sandboxtest"
	"atelier/signing/manifest"
)

// modulesSignedSkeleton writes a module of kind from sandbox.Skeleton, builds
// its program for an action, with perms if given, then packs and signs it.
func modulesSignedSkeleton(t *testing.T, priv *ecdsa.PrivateKey, kind, name, version string, perms ...string) string {
	t.Helper()
	files, err := sandbox.Skeleton(kind, name, version, "MIT", "A")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for p, b := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755)
		os.WriteFile(filepath.Join(src, p), b, 0o644)
	}
	raw, _ := os.ReadFile(filepath.Join(src, manifest.FileName))
	m, err := manifest.Parse(raw, name)
	if err != nil {
		t.Fatal(err)
	}
	if perms != nil {
		m.Permissions = perms
		os.WriteFile(filepath.Join(src, manifest.FileName), m.Marshal(), 0o644)
	}
	if m.Runs() {
		sandboxtest.Install(t, sandboxtest.Build(t, src), src, m.Program())
		for _, f := range []string{"main.go", "go.mod", "build.sh", ".gitignore"} {
			os.Remove(filepath.Join(src, f)) // the signed module ships its program, not its source
		}
	}
	return modulesPackSign(t, priv, src, m)
}

// modulesStudio is an engine whose keyring holds the studio's signing key,
// trusted for @studio/*, and that key's ID.
func modulesStudio(t *testing.T) (e *Engine, priv *ecdsa.PrivateKey, keyID string) {
	t.Helper()
	e = modulesEngine(t)
	priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	ki, err := e.Modules.KeysImport("studio", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "a long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Modules.Trust("studio", ki.PublicPEM, []string{"@studio/*"}, "", ""); err != nil {
		t.Fatal(err)
	}
	return e, priv, ki.ID
}

// An installed, signed action runs on a project in the sandbox with the
// permissions approved at install; the run is in the audit log; an update
// that asks for more waits for approval (the old version keeps running with
// its old grant); a revoked key stops it; a template makes a project.
func TestModulesRunAndTemplate(t *testing.T) {
	e, priv, keyID := modulesStudio(t)
	s := e.Modules
	if r, err := s.Install(modulesSignedSkeleton(t, priv, manifest.KindAction, "@studio/count", "1.0.0"), true); err != nil || r.Status != "installed" {
		t.Fatalf("install: %+v %v", r, err)
	}
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "a.wav"), []byte("1234"), 0o644)
	os.WriteFile(filepath.Join(proj, "b.txt"), []byte("12"), 0o644)
	ctx := context.Background()
	res, err := s.Run(ctx, "@studio/count", proj, nil)
	if err != nil || res.Outcome != sandbox.OutcomeOK || res.Report != "2 files, 6 bytes\n" || res.Signer != "studio" {
		t.Fatalf("run: %+v %v", res, err)
	}
	if ms, _ := s.Installed(); len(ms) != 1 || ms[0].Kind != manifest.KindAction {
		t.Fatalf("installed kind: %+v", ms)
	}
	if len(res.Files) != 1 || res.Output == "" || !strings.HasPrefix(res.Output, e.Dirs.Data) {
		t.Fatalf("output %q files %+v", res.Output, res.Files)
	}
	if b, _ := os.ReadFile(filepath.Join(res.Output, "summary.txt")); string(b) != "2 files, 6 bytes\n" {
		t.Fatalf("summary.txt %q", b)
	}
	res, err = s.Run(ctx, "@studio/count", proj, []string{"b.txt"})
	if err != nil || res.Report != "1 files, 2 bytes\n" {
		t.Fatalf("run on a selection: %+v %v", res, err)
	}
	audit, _ := s.Audit(10)
	if audit[0].Action != "run" || audit[0].Subject != "@studio/count" || audit[0].Outcome != "ok" || !strings.Contains(audit[0].Detail, "wrote 1 file(s): summary.txt") || audit[0].KeyID != keyID {
		t.Fatalf("audit %+v", audit[0])
	}

	// 1.1.0 asks for the network too: not installed without approval, and
	// 1.0.0 keeps running with what was granted.
	up := modulesSignedSkeleton(t, priv, manifest.KindAction, "@studio/count", "1.1.0", manifest.PermScriptRun, manifest.PermProjectRead, manifest.PermModuleWrite, "net:example.com")
	if r, err := s.Install(up, false); err != nil || r.Status != "needs-approval" {
		t.Fatalf("update with more permissions: %+v %v", r, err)
	}
	if res, err := s.Run(ctx, "@studio/count", proj, nil); err != nil || res.Version != "1.0.0" || strings.Contains(strings.Join(res.Permissions, ","), "net:") {
		t.Fatalf("run after a refused update: %+v %v", res, err)
	}

	// Not an action, not installed, a missing project: refused, and said why.
	if r, err := s.Install(modulesSignedSkeleton(t, priv, manifest.KindTemplate, "@studio/ep", "1.0.0"), true); err != nil || r.Status != "installed" {
		t.Fatalf("install template: %+v %v", r, err)
	}
	if _, err := s.Run(ctx, "@studio/ep", proj, nil); err == nil || !strings.Contains(err.Error(), "template module, not action") {
		t.Fatalf("running a template: %v", err)
	}
	if _, err := s.Run(ctx, "@studio/nope", proj, nil); err == nil || !strings.Contains(err.Error(), "no installed module") {
		t.Fatalf("running what is not installed: %v", err)
	}
	if _, err := s.Run(ctx, "@studio/count", filepath.Join(proj, "missing"), nil); err == nil {
		t.Fatal("a missing project folder was accepted")
	}

	made, err := s.NewProject(ctx, "@studio/ep", filepath.Join(t.TempDir(), "Episode 1"))
	if err != nil || len(made.Files) != 1 {
		t.Fatalf("new project: %+v %v", made, err)
	}
	if b, _ := os.ReadFile(filepath.Join(made.Dir, "README.md")); !strings.HasPrefix(string(b), "# Episode 1\n") {
		t.Fatalf("README %q", b)
	}

	// A revoked key: the module no longer runs.
	if _, err := s.Revoke("studio", "lost laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, "@studio/count", proj, nil); err == nil || !strings.Contains(err.Error(), "key revoked") {
		t.Fatalf("run with a revoked key: %v", err)
	}
}

// A run the creator cancels stops at once, even in a busy loop, and says so;
// RunFile shows the files a run wrote and nothing outside the runs folder.
func TestModulesRunCancelAndFiles(t *testing.T) {
	e, priv, _ := modulesStudio(t)
	s := e.Modules
	src := t.TempDir()
	files, _ := sandbox.Skeleton(manifest.KindAction, "@studio/spin", "1.0.0", "MIT", "A")
	for p, b := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755)
		os.WriteFile(filepath.Join(src, p), b, 0o644)
	}
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {\n\tn := 0\n\tfor {\n\t\tn++\n\t}\n}\n"), 0o644)
	raw, _ := os.ReadFile(filepath.Join(src, manifest.FileName))
	m, _ := manifest.Parse(raw, "spin")
	sandboxtest.Install(t, sandboxtest.Build(t, src), src, m.Program())
	for _, f := range []string{"main.go", "go.mod", "build.sh", ".gitignore"} {
		os.Remove(filepath.Join(src, f))
	}
	if r, err := s.Install(modulesPackSign(t, priv, src, m), true); err != nil || r.Status != "installed" {
		t.Fatalf("install: %+v %v", r, err)
	}
	if _, err := s.RunCancel("@studio/spin"); err == nil {
		t.Fatal("cancelling a module that is not running succeeded")
	}
	proj := t.TempDir()
	type result struct {
		res modules.RunResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Run(context.Background(), "@studio/spin", proj, nil)
		done <- result{res, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, err := s.RunCancel("@studio/spin"); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-done:
		if r.res.Outcome != sandbox.OutcomeCanceled || !strings.Contains(r.res.Message, "stopped by you") {
			t.Fatalf("cancelled run: %+v %v", r.res, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a cancelled run kept running")
	}
	audit, _ := s.Audit(1)
	if audit[0].Outcome != sandbox.OutcomeCanceled {
		t.Fatalf("audit %+v", audit[0])
	}

	// RunFile: a file in a run's output folder, nothing else.
	out := filepath.Join(e.Dirs.Data, "runs", "studio-x", "20260101-000000.000")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "report.csv"), []byte("a,b\n1,2\n"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(out, "leak"))
	if f, err := s.RunFile(out, "report.csv"); err != nil || f.Text != "a,b\n1,2\n" || f.Size != 8 {
		t.Fatalf("RunFile: %+v %v", f, err)
	}
	for _, bad := range [][2]string{{out, "leak"}, {out, "../../../../modules"}, {"/etc", "passwd"}, {filepath.Join(e.Dirs.Data, "runs"), "x"}} {
		if f, err := s.RunFile(bad[0], bad[1]); err == nil {
			t.Errorf("RunFile(%q, %q) read %q", bad[0], bad[1], f.Text)
		}
	}
}

// A preset installs into the folder the creator picks once for its
// folder:LABEL permission; the folder is remembered.
func TestModulesPresetFolder(t *testing.T) {
	e, priv, _ := modulesStudio(t)
	s := e.Modules
	if r, err := s.Install(modulesSignedSkeleton(t, priv, manifest.KindPreset, "@studio/synth-presets", "1.0.0"), true); err != nil || r.Status != "installed" {
		t.Fatalf("install: %+v %v", r, err)
	}
	ctx := context.Background()
	if pf, err := s.PresetFolderOf("@studio/synth-presets"); err != nil || pf.Folder != "" || pf.Label != "presets" {
		t.Fatalf("before picking: %+v %v", pf, err)
	}
	if _, err := s.PresetInstall(ctx, "@studio/synth-presets", ""); err == nil || !strings.Contains(err.Error(), "pick the folder") {
		t.Fatalf("install with no folder picked: %v", err)
	}
	dir := t.TempDir()
	res, err := s.PresetInstall(ctx, "@studio/synth-presets", dir)
	if err != nil || len(res.Files) != 1 || res.Folder != dir {
		t.Fatalf("install: %+v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.txt")); err != nil {
		t.Fatal(err)
	}
	if pf, _ := s.PresetFolderOf("@studio/synth-presets"); pf.Folder != dir {
		t.Fatalf("folder not remembered: %+v", pf)
	}
	if res, err := s.PresetInstall(ctx, "@studio/synth-presets", ""); err != nil || res.Folder != dir {
		t.Fatalf("again into the remembered folder: %+v %v", res, err)
	}
	if _, err := s.PresetInstall(ctx, "@studio/synth-presets", filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing folder was accepted")
	}
}
