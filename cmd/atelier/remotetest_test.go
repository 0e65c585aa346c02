package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/client"

	"atelier/app"
)

// `atelier remote test NAME --passphrase-file FILE` unlocks the vault with
// the file's passphrase, like the other vault commands; a wrong one is
// reported as locked.
func TestCLIRemoteTestPassphraseFile(t *testing.T) {
	t.Setenv("ATELIER_VAULT_PASSPHRASE", "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // no keyring: the file is the only source
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	data := t.TempDir()
	gopts := &globalOptions{dataDir: data}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("correct horse battery staple\n"), 0o600)
	os.WriteFile(bad, []byte("not the passphrase\n"), 0o600)
	run := func(args ...string) (string, error) {
		os.Unsetenv("ATELIER_VAULT_PASSPHRASE")
		root := newRootCommand(&globalOptions{}) // a fresh root: --data-dir gives it the test's dir
		var out bytes.Buffer
		root.SetArgs(append([]string{"--data-dir", data}, args...))
		root.SetOut(&out)
		root.SetErr(&out)
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	if out, err := run("consent", "grant", "sync.cloud"); err != nil {
		t.Fatalf("consent grant: %v\n%s", err, out)
	}
	store := "file://" + filepath.ToSlash(t.TempDir())
	if out, err := run("remote", "add", "vault1", store, "--passphrase-file", good); err != nil {
		t.Fatalf("remote add: %v\n%s", err, out)
	}
	var r struct {
		OK    bool   `json:"ok"`
		Vault string `json:"vault"`
	}
	if err := runRemoteTest(t, run, &r, "vault1", "--passphrase-file", good); err != nil || !r.OK || r.Vault != "unlocked" {
		t.Fatalf("remote test with the right passphrase file: %+v %v", r, err)
	}
	if err := runRemoteTest(t, run, &r, "vault1", "--passphrase-file", bad); err == nil || r.OK || !strings.Contains(r.Vault, "locked") {
		t.Fatalf("remote test with a wrong passphrase file: %+v %v", r, err)
	}
	if err := runRemoteTest(t, run, &r, "vault1"); err == nil || r.OK || !strings.Contains(r.Vault, "passphrase-file") {
		t.Fatalf("remote test without a passphrase: %+v %v", r, err)
	}

	// With an engine running, a passphrase file given to the test is only
	// tried: a wrong one does not replace the one the engine syncs with.
	e, err := app.Open(app.DataDirFlag(data), app.Options{Background: true, Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !engineRunning(gopts) {
		t.Fatal("engineRunning() is false with an engine serving")
	}
	if err := do(context.Background(), gopts, func(cl *client.Client) error {
		return cl.Sync.Unlock(context.Background(), "vault1", "correct horse battery staple", false)
	}); err != nil {
		t.Fatal(err)
	}
	if err := runRemoteTest(t, run, &r, "vault1", "--passphrase-file", bad); err == nil || r.OK || !strings.Contains(r.Vault, "locked") {
		t.Fatalf("remote test against the engine with a wrong passphrase file: %+v %v", r, err)
	}
	if err := runRemoteTest(t, run, &r, "vault1"); err != nil || !r.OK || r.Vault != "unlocked" {
		t.Fatalf("the engine lost its passphrase to a test with a wrong one: %+v %v", r, err)
	}
	if err := runRemoteTest(t, run, &r, "vault1", "--passphrase-file", good); err != nil || !r.OK || r.Vault != "unlocked" {
		t.Fatalf("remote test against the engine with the right passphrase file: %+v %v", r, err)
	}
}

// runRemoteTest runs `atelier --json remote test ARGS` and decodes what it prints.
func runRemoteTest(t *testing.T, run func(...string) (string, error), v any, args ...string) error {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = f
	_, rerr := run(append([]string{"--json", "remote", "test"}, args...)...)
	os.Stdout = old
	b, _ := os.ReadFile(f.Name())
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("remote test %v printed %q (%v); error %v", args, b, err, rerr)
	}
	return rerr
}
