//go:build cosign

// Interoperability with the cosign CLI, offline, both directions. Run with
//
//	COSIGN_BIN=$PWD/.cache/bin/cosign go test -tags cosign ./signing/
//
// (build cosign with `cd tools/cosign && go build -o ../../.cache/bin/cosign
// github.com/sigstore/cosign/v2/cmd/cosign`). The tests fail when cosign is missing.
package signing_test

import (
	"context"
	"crypto/ecdsa"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/sign"
)

const cosignPass = "interop-passphrase-1"

func cosignBin(t *testing.T) string {
	t.Helper()
	p := os.Getenv("COSIGN_BIN")
	if p == "" {
		t.Fatal("COSIGN_BIN is not set: build cosign with `cd tools/cosign && go build -o ../../.cache/bin/cosign github.com/sigstore/cosign/v2/cmd/cosign` and set COSIGN_BIN=$PWD/.cache/bin/cosign")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("COSIGN_BIN=%s: %v (build it with `make test` or the command in tools/cosign/tools.go)", p, err)
	}
	return p
}

// cosign runs the CLI offline in dir with a private HOME.
func cosign(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosignBin(t), args...)
	cmd.Dir = dir
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	cmd.Env = []string{"HOME=" + home, "COSIGN_PASSWORD=" + cosignPass, "TUF_ROOT=" + filepath.Join(home, "tuf"), "PATH=/usr/bin:/bin",
		"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// interopKey is one Atelier key pair for all interop tests: scrypt makes
// every encryption and unlock slow, and very slow under -race.
var interopKey struct {
	once sync.Once
	pair keys.Pair
	priv *ecdsa.PrivateKey
	err  error
}

// atelierKeys writes the Atelier-made key pair into dir.
func atelierKeys(t *testing.T, dir string) (priv, pub string) {
	t.Helper()
	interopKey.once.Do(func() {
		interopKey.pair, interopKey.err = keys.Generate([]byte(cosignPass))
		if interopKey.err == nil {
			interopKey.priv, interopKey.err = keys.LoadPrivate(interopKey.pair.PrivatePEM, []byte(cosignPass), "atelier.key")
		}
	})
	if interopKey.err != nil {
		t.Fatal(interopKey.err)
	}
	priv, pub = filepath.Join(dir, "atelier.key"), filepath.Join(dir, "atelier.pub")
	os.WriteFile(priv, interopKey.pair.PrivatePEM, 0o600)
	os.WriteFile(pub, interopKey.pair.PublicPEM, 0o644)
	return priv, pub
}

// signedModule packs and signs a module with the Atelier key into dir.
func signedModule(t *testing.T, dir, keyFile string) string {
	t.Helper()
	arc := packSigned(t, man("@alice/reverb", "1.0.0", manifest.PermProjectRead), map[string]string{"hall.json": "{}"}, interopKey.priv)
	out := filepath.Join(dir, filepath.Base(arc))
	for _, s := range []string{"", signing.SigSuffix, signing.EnvelopeSuffix, signing.BundleSuffix} {
		b, _ := os.ReadFile(arc + s)
		os.WriteFile(out+s, b, 0o644)
	}
	return out
}

func TestCosignVerifiesAtelierSignature(t *testing.T) {
	dir := t.TempDir()
	priv, pub := atelierKeys(t, dir)
	arc := signedModule(t, dir, priv)
	out := cosign(t, dir, "verify-blob", "--key", pub, "--signature", arc+signing.SigSuffix, "--insecure-ignore-tlog=true", arc)
	if !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob: %s", out)
	}
}

func TestCosignVerifiesAtelierAttestation(t *testing.T) {
	dir := t.TempDir()
	priv, pub := atelierKeys(t, dir)
	arc := signedModule(t, dir, priv)
	out := cosign(t, dir, "verify-blob-attestation", "--key", pub, "--signature", arc+signing.EnvelopeSuffix,
		"--type", "slsaprovenance1", "--insecure-ignore-tlog=true", arc)
	if !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob-attestation: %s", out)
	}
}

func TestCosignVerifiesAtelierBundle(t *testing.T) {
	dir := t.TempDir()
	priv, pub := atelierKeys(t, dir)
	arc := signedModule(t, dir, priv)
	// Offline: an empty trusted root, since the bundle carries a key hint and no tlog entry.
	root := filepath.Join(dir, "trusted_root.json")
	os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644)
	out := cosign(t, dir, "verify-blob-attestation", "--bundle", arc+signing.BundleSuffix, "--new-bundle-format",
		"--trusted-root", root, "--key", pub, "--type", "slsaprovenance1", "--insecure-ignore-tlog=true", arc)
	if !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob-attestation --bundle: %s", out)
	}
}

func TestCosignSignsWithAtelierKey(t *testing.T) {
	dir := t.TempDir()
	priv, pub := atelierKeys(t, dir)
	blob := filepath.Join(dir, "blob")
	os.WriteFile(blob, []byte("made by cosign with an Atelier key"), 0o644)
	cosign(t, dir, "sign-blob", "--key", priv, "--tlog-upload=false", "--output-signature", blob+".sig", "--yes", blob)
	raw, _ := os.ReadFile(blob + ".sig")
	der, err := sign.ParseSignature(raw, "blob.sig")
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := os.ReadFile(pub)
	pk, err := keys.LoadPublic(pb, pub)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(blob)
	defer f.Close()
	d, _, _ := sign.Digest(f)
	if err := sign.VerifyDigest(pk, d, der); err != nil {
		t.Fatal(err)
	}
}

func TestAtelierVerifiesCosign(t *testing.T) {
	dir := t.TempDir()
	cosign(t, dir, "generate-key-pair")
	privRaw, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	if _, err := keys.ImportPrivate(privRaw, []byte(cosignPass), "cosign.key"); err != nil {
		t.Fatalf("import cosign's private key: %v", err)
	}
	pubRaw, _ := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	pol, keyID := policyWithPEM(t, "cosign", pubRaw, "@alice/*")

	// An archive packed by Atelier, signed and attested by cosign.
	src := writeModule(t, man("@alice/reverb", "1.0.0"), map[string]string{"hall.json": "{}"})
	arc := filepath.Join(dir, "alice-reverb-1.0.0.tgz")
	if _, err := packFile(src, arc); err != nil {
		t.Fatal(err)
	}
	pred := filepath.Join(dir, "pred.json")
	os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/cosign","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/me"}}}`), 0o644)
	cosign(t, dir, "sign-blob", "--key", "cosign.key", "--tlog-upload=false", "--output-signature", arc+signing.SigSuffix, "--yes", arc)
	cosign(t, dir, "attest-blob", "--key", "cosign.key", "--predicate", pred, "--type", "slsaprovenance1",
		"--tlog-upload=false", "--output-signature", arc+signing.EnvelopeSuffix, "--yes", arc)

	res, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.SignatureChecked || res.StatementType != sign.StatementV01 || res.KeyID != keyID {
		t.Fatalf("result = %+v", res)
	}
	// cosign's own Sigstore bundle (v0.3, DSSE, key hint) verifies too.
	cosign(t, dir, "attest-blob", "--key", "cosign.key", "--predicate", pred, "--type", "slsaprovenance1",
		"--tlog-upload=false", "--new-bundle-format", "--bundle", arc+signing.BundleSuffix, "--yes", arc)
	res, err = signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true})
	if err != nil || res.StatementType != sign.StatementV01 {
		t.Fatalf("cosign bundle: %+v %v", res, err)
	}
	os.Remove(arc + signing.BundleSuffix)
	// A bare `cosign sign-blob` signature verifies too (without provenance).
	os.Rename(arc+signing.EnvelopeSuffix, arc+".env")
	res, err = signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true})
	if err != nil || !res.SignatureChecked || res.StatementType != "" {
		t.Fatalf("signature only: %+v %v", res, err)
	}
	os.Rename(arc+".env", arc+signing.EnvelopeSuffix)
	// And the same envelope on another archive is refused.
	other := writeModule(t, man("@alice/reverb", "1.0.1"), map[string]string{"hall.json": "{}"})
	arc2 := filepath.Join(dir, "alice-reverb-1.0.1.tgz")
	packFile(other, arc2)
	b, _ := os.ReadFile(arc + signing.EnvelopeSuffix)
	os.WriteFile(arc2+signing.EnvelopeSuffix, b, 0o644)
	if _, err := signing.Verify(context.Background(), material(t, arc2), signing.Options{Policy: pol, Now: now, Approve: true}); err == nil {
		t.Fatal("cosign envelope for another archive accepted")
	}
}

// cosign's standard blob bundle: `cosign sign-blob --new-bundle-format
// --bundle` writes a Sigstore bundle v0.3 whose content is a message
// signature (not a DSSE envelope). It verifies offline with the pinned key,
// and a flipped byte in the archive fails.
func TestAtelierVerifiesCosignBlobBundle(t *testing.T) {
	dir := t.TempDir()
	priv, pub := atelierKeys(t, dir)
	pubRaw, _ := os.ReadFile(pub)
	pol, keyID := policyWithPEM(t, "atelier", pubRaw, "@alice/*")
	src := writeModule(t, man("@alice/reverb", "1.0.0"), map[string]string{"hall.json": "{}"})
	arc := filepath.Join(dir, "alice-reverb-1.0.0.tgz")
	if _, err := packFile(src, arc); err != nil {
		t.Fatal(err)
	}
	cosign(t, dir, "sign-blob", "--key", priv, "--tlog-upload=false", "--bundle", arc+signing.BundleSuffix, "--new-bundle-format", "--yes", arc)
	raw, _ := os.ReadFile(arc + signing.BundleSuffix)
	if !strings.Contains(string(raw), "messageSignature") {
		t.Fatalf("cosign wrote no message-signature bundle: %s", raw)
	}
	res, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true})
	if err != nil {
		t.Fatalf("cosign sign-blob bundle: %v\n%s", err, raw)
	}
	if res.KeyID != keyID || !res.SignatureChecked || res.StatementType != "" {
		t.Fatalf("result = %+v", res)
	}
	b, _ := os.ReadFile(arc)
	b[len(b)/2] ^= 1
	os.WriteFile(arc, b, 0o644)
	if _, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true}); err == nil {
		t.Fatal("a flipped byte verified against cosign's bundle")
	}
}
