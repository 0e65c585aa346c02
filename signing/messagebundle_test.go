package signing_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

// cosignMessageBundle writes, beside arc, the Sigstore bundle v0.3 that
// `cosign sign-blob --key K --tlog-upload=false --new-bundle-format --bundle`
// writes: a key hint and a message signature over the blob's SHA-256 (the
// JSON is spelled out, not made by Atelier's own encoder).
func cosignMessageBundle(t *testing.T, arc string, signed []byte, k *ecdsa.PrivateKey) {
	t.Helper()
	d := sha256.Sum256(signed)
	sig, err := sign.SignDigest(k, d)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := keys.ID(&k.PublicKey)
	b := fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":%q},"tlogEntries":[]},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":%q},"signature":%q}}`,
		keys.Hint(id), base64.StdEncoding.EncodeToString(d[:]), sig)
	os.Remove(arc + signing.SigSuffix)
	os.Remove(arc + signing.EnvelopeSuffix)
	if err := os.WriteFile(arc+signing.BundleSuffix, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A bundle whose content is a message signature (cosign's standard blob
// bundle) verifies offline with the pinned key; a flipped byte, another
// archive's digest or an unpinned key fails.
func TestMessageSignatureBundle(t *testing.T) {
	k, stranger := newKey(t), newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	opt := signing.Options{Policy: pol, Now: now, Approve: true}
	files := map[string]string{"presets/hall.json": `{"decay":2.5}`}
	fresh := func(version string) (string, []byte) {
		arc := packSigned(t, man("@alice/reverb", version, manifest.PermProjectRead), files, k)
		data, err := os.ReadFile(arc)
		if err != nil {
			t.Fatal(err)
		}
		return arc, data
	}

	arc, data := fresh("1.0.0")
	cosignMessageBundle(t, arc, data, k)
	res, err := signing.Verify(context.Background(), material(t, arc), opt)
	if err != nil {
		t.Fatalf("cosign message-signature bundle refused: %v", err)
	}
	if res.KeyID != keyID(k) || !res.SignatureChecked || res.StatementType != "" || res.Manifest.Name != "@alice/reverb" {
		t.Fatalf("result = %+v", res)
	}
	if _, err := signing.Install(context.Background(), material(t, arc), opt, t.TempDir()); err != nil {
		t.Fatalf("install with a message-signature bundle: %v", err)
	}

	// A flipped byte in the signature.
	raw, _ := os.ReadFile(arc + signing.BundleSuffix)
	var flipped string
	{
		s := string(raw)
		i := strings.Index(s, `"signature":"`) + len(`"signature":"`)
		der, _ := base64.StdEncoding.DecodeString(s[i : i+strings.IndexByte(s[i:], '"')])
		der[len(der)-3] ^= 1
		flipped = s[:i] + base64.StdEncoding.EncodeToString(der) + s[i+strings.IndexByte(s[i:], '"'):]
	}
	os.WriteFile(arc+signing.BundleSuffix, []byte(flipped), 0o644)
	if _, err := signing.Verify(context.Background(), material(t, arc), opt); err == nil {
		t.Fatal("a flipped byte in the message signature verified")
	}

	// A flipped byte in the signed digest (the signature then covers other bytes).
	cosignMessageBundle(t, arc, data, k)
	raw, _ = os.ReadFile(arc + signing.BundleSuffix)
	sum := sha256.Sum256(data)
	right := base64.StdEncoding.EncodeToString(sum[:])
	sum[0] ^= 1
	s := strings.Replace(string(raw), right, base64.StdEncoding.EncodeToString(sum[:]), 1)
	os.WriteFile(arc+signing.BundleSuffix, []byte(s), 0o644)
	if _, err := signing.Verify(context.Background(), material(t, arc), opt); !errors.Is(err, signing.ErrDigest) {
		t.Fatalf("a bundle naming another digest: %v (want %v)", err, signing.ErrDigest)
	}

	// The bundle of another archive, beside this one.
	_, other := fresh("1.0.1")
	cosignMessageBundle(t, arc, other, k)
	if _, err := signing.Verify(context.Background(), material(t, arc), opt); !errors.Is(err, signing.ErrDigest) {
		t.Fatalf("another archive's bundle: %v (want %v)", err, signing.ErrDigest)
	}

	// Signed by a key outside the trust policy.
	cosignMessageBundle(t, arc, data, stranger)
	if _, err := signing.Verify(context.Background(), material(t, arc), opt); !errors.Is(err, trust.ErrUntrusted) {
		t.Fatalf("unpinned key: %v (want %v)", err, trust.ErrUntrusted)
	}

	// A flipped byte in the archive itself.
	cosignMessageBundle(t, arc, data, k)
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 1
	os.WriteFile(arc, bad, 0o644)
	if _, err := signing.Verify(context.Background(), material(t, arc), opt); err == nil {
		t.Fatal("a flipped byte in the archive verified")
	}
}
