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

	"atelier/signing"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/registry"
)

func modulesEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(DirsUnder(t.TempDir()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// modulesArchive writes, packs and signs a module in a fresh folder.
func modulesArchive(t *testing.T, priv *ecdsa.PrivateKey, name, version string, perms ...string) string {
	t.Helper()
	src := t.TempDir()
	m := manifest.Manifest{Name: name, Version: version, Description: "d", License: "MIT", Author: "A", Permissions: perms}
	os.WriteFile(filepath.Join(src, manifest.FileName), m.Marshal(), 0o644)
	os.WriteFile(filepath.Join(src, "preset.json"), []byte(`{"v":"`+version+`"}`), 0o644)
	return modulesPackSign(t, priv, src, m)
}

// modulesPackSign packs the module in src (its manifest m) into a fresh
// folder and signs the archive with priv.
func modulesPackSign(t *testing.T, priv *ecdsa.PrivateKey, src string, m manifest.Manifest) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), pack.ArchiveName(m))
	if _, err := pack.PackFile(context.Background(), src, out); err != nil {
		t.Fatal(err)
	}
	if _, err := signing.SignArchive(context.Background(), out, priv, Version, time.Now()); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestModulesServiceFlow(t *testing.T) {
	e := modulesEngine(t)
	s := e.Modules
	const pass = "correct horse battery"
	if _, err := s.KeysGenerate("me", ""); err == nil {
		t.Fatal("empty passphrase accepted")
	}
	// KeysImport encrypts like KeysGenerate (one scrypt run: slow under -race),
	// and leaves the test holding the key to sign with.
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	if _, err := s.KeysImport("me", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), ""); err == nil {
		t.Fatal("import with an empty passphrase accepted")
	}
	ki, err := s.KeysImport("me", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), pass)
	if err != nil {
		t.Fatal(err)
	}
	if ks, err := s.KeysList(); err != nil || len(ks) != 1 || ks[0].ID != ki.ID {
		t.Fatalf("keys list: %+v %v", ks, err)
	}
	fi, err := os.Stat(ModulesKeyPath(e.Dirs, "me"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	raw, _ := os.ReadFile(ModulesKeyPath(e.Dirs, "me"))
	if !strings.Contains(string(raw), "ENCRYPTED SIGSTORE PRIVATE KEY") || strings.Contains(string(raw), pass) {
		t.Fatal("key not stored encrypted")
	}
	arc := modulesArchive(t, priv, "@me/reverb", "1.0.0", manifest.PermProjectRead)

	// Untrusted: refused, nothing installed.
	if _, err := s.Install(arc, true); err == nil || !strings.Contains(err.Error(), "atelier trust add") {
		t.Fatalf("untrusted install: %v", err)
	}
	if _, err := s.Trust("me", ki.PublicPEM, []string{"@me/*"}, "", ""); err != nil {
		t.Fatal(err)
	}
	v, err := s.Verify(arc)
	if err != nil || !v.OK || !v.NeedsApproval || len(v.Permissions) != 1 || !v.Permissions[0].New {
		t.Fatalf("verify: %+v %v", v, err)
	}
	r, err := s.Install(arc, false)
	if err != nil || r.Status != "needs-approval" {
		t.Fatalf("install without approval: %+v %v", r, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.Dirs.Data, "modules")); len(ents) != 0 {
		t.Fatalf("modules dir not empty after a refused install: %v", ents)
	}
	r, err = s.Install(arc, true)
	if err != nil || r.Status != "installed" {
		t.Fatalf("install: %+v %v", r, err)
	}
	list, err := s.Installed()
	if err != nil || len(list) != 1 || list[0].Verification != "verified" || list[0].Publisher != "me" {
		t.Fatalf("installed: %+v %v", list, err)
	}

	// A registry with 1.1.0, which asks for a new permission.
	reg := t.TempDir()
	arc2 := modulesArchive(t, priv, "@me/reverb", "1.1.0", manifest.PermProjectRead, "net:example.com")
	for _, suf := range []string{"", signing.SigSuffix, signing.EnvelopeSuffix, signing.BundleSuffix} {
		b, _ := os.ReadFile(arc2 + suf)
		os.WriteFile(filepath.Join(reg, filepath.Base(arc2)+suf), b, 0o644)
	}
	if _, err := registry.Publish(context.Background(), reg, priv, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegistryAdd(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(context.Background(), "reverb")
	if err != nil || len(hits) != 1 || hits[0].Installed != "1.0.0" {
		t.Fatalf("search: %+v %v", hits, err)
	}
	r, err = s.InstallByName(context.Background(), "@me/reverb", false)
	if err != nil || r.Status != "needs-approval" || r.Permissions[1].ID != "net:example.com" || !r.Permissions[1].New {
		t.Fatalf("update without approval: %+v %v", r, err)
	}
	if r, err = s.InstallByName(context.Background(), "@me/reverb@1.1.0", true); err != nil || r.Status != "installed" {
		t.Fatalf("update: %+v %v", r, err)
	}
	// Check notices a file changed after install.
	if m, err := s.Check("@me/reverb"); err != nil || m.FilesState != "" {
		t.Fatalf("check: %+v %v", m, err)
	}
	os.WriteFile(filepath.Join(list[0].Dir, "preset.json"), []byte("tampered"), 0o644)
	if m, err := s.Check("@me/reverb"); err != nil || !strings.Contains(m.Verification, "1 changed") {
		t.Fatalf("check after tampering: %+v %v", m, err)
	}
	if r, err = s.Install(arc2, true); err != nil || r.Status != "installed" {
		t.Fatalf("reinstall: %+v %v", r, err)
	}
	// Rollback refused.
	if _, err := s.Install(arc, true); err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Fatalf("rollback: %v", err)
	}
	// Revoking the key marks the module.
	if _, err := s.Revoke("me", "test"); err != nil {
		t.Fatal(err)
	}
	list, _ = s.Installed()
	if list[0].Verification != "key revoked" || list[0].Version != "1.1.0" {
		t.Fatalf("after revoke: %+v", list)
	}
	if err := s.Remove("@me/reverb", true); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.Dirs.Data, "modules", "me")); len(ents) != 0 {
		t.Fatalf("module files left after remove: %v", ents)
	}
	audit, err := s.Audit(0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+":"+a.Outcome)
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"remove:ok", "revoke:ok", "install:refused", "install:ok", "install:needs-approval", "verify:needs-approval", "trust:ok", "key:ok", "registry:ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit log lacks %s: %s", want, got)
		}
	}
}
