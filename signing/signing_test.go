package signing_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"testing"

	"atelier/signing"
	"atelier/signing/manifest"
	"atelier/signing/pack"
)

func TestPackIsDeterministic(t *testing.T) {
	m := man("@alice/reverb", "1.0.0", manifest.PermProjectRead)
	files := map[string]string{"presets/hall.json": `{"decay":2.5}`, "README.md": "# Reverb", "b/z.txt": "z", "b/a.txt": "a"}
	a := writeModule(t, m, files)
	b := writeModule(t, m, files)
	os.Chtimes(filepath.Join(b, "README.md"), now, now)
	var x, y bytes.Buffer
	if _, err := pack.Pack(context.Background(), a, &x); err != nil {
		t.Fatal(err)
	}
	if _, err := pack.Pack(context.Background(), b, &y); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatal("same folder packed twice gave different bytes")
	}
	h, err := pack.Check(context.Background(), bytes.NewReader(x.Bytes()), "test", pack.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Files.Files) != 5 || h.Manifest.Name != "@alice/reverb" {
		t.Fatalf("head = %+v", h)
	}
}

func TestSignVerifyInstall(t *testing.T) {
	k := newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	arc := packSigned(t, man("@alice/reverb", "1.0.0", manifest.PermProjectRead), map[string]string{"a/b.txt": "hello"}, k)
	mods := t.TempDir()
	inst, err := signing.Install(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true}, mods)
	if err != nil {
		t.Fatal(err)
	}
	if !inst.SignatureChecked || inst.KeyID != keyID(k) || inst.StatementType == "" {
		t.Fatalf("result = %+v", inst.Result)
	}
	b, err := os.ReadFile(filepath.Join(inst.Dir, "a", "b.txt"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("installed file: %q %v", b, err)
	}
	if got := listDir(mods); len(got) != 5 { // alice, alice/reverb, manifest, a, a/b.txt
		t.Fatalf("modules dir = %v", got)
	}
}

func TestPackIntoTheModuleFolder(t *testing.T) {
	dir := writeModule(t, man("@alice/x", "1.0.0"), map[string]string{"a.txt": "a"})
	out := filepath.Join(dir, "x.tgz")
	res, err := pack.PackFile(context.Background(), dir, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 2 {
		t.Fatalf("packed %d files, want 2 (the archive itself left out)", res.Files)
	}
	again, err := pack.PackFile(context.Background(), dir, out)
	if err != nil || again.SourceDigest != res.SourceDigest {
		t.Fatalf("repacking over the old archive: %v", err)
	}
}
