package signing_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/registry"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

func TestKeyRotationSignedByOldKey(t *testing.T) {
	old, nw := newKey(t), newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{old: {"@alice/*"}, nw: {"@alice/*"}})
	mods := t.TempDir()
	opt := signing.Options{Policy: pol, Now: now, Approve: true}
	inst, err := signing.Install(context.Background(), material(t, packSigned(t, man("@alice/x", "1.0.0"), nil, old)), opt, mods)
	if err != nil {
		t.Fatal(err)
	}
	pol.Modules["@alice/x"] = trust.Record(trust.Module{}, false, inst.Manifest, inst.KeyID, now)

	arc := packSigned(t, man("@alice/x", "2.0.0"), nil, nw)
	// A rotation signed by the new key itself is not enough.
	forged, err := trust.NewRotation(nw, &nw.PublicKey, []string{"@alice/*"}, now)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(arc+signing.RotationSuffix, forged.Marshal(), 0o644)
	if _, err := signing.Install(context.Background(), material(t, arc), opt, mods); err == nil {
		t.Fatal("self-signed rotation accepted")
	}
	rot, err := trust.NewRotation(old, &nw.PublicKey, []string{"@alice/*"}, now)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(arc+signing.RotationSuffix, rot.Marshal(), 0o644)
	inst, err = signing.Install(context.Background(), material(t, arc), opt, mods)
	if err != nil {
		t.Fatal(err)
	}
	if len(inst.Decision.Rotated) != 1 || inst.KeyID != keyID(nw) || !inst.Decision.Update {
		t.Fatalf("decision = %+v", inst.Decision)
	}
}

func TestEscalationWithApproval(t *testing.T) {
	k := newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	mods := t.TempDir()
	arc := packSigned(t, man("@alice/x", "1.0.0", manifest.PermScriptRun), nil, k)
	_, err := signing.Install(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now}, mods)
	if !errors.Is(err, trust.ErrNeedsApproval) {
		t.Fatalf("first install with permissions: %v, want needs approval", err)
	}
	if _, err := signing.Install(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true}, mods); err != nil {
		t.Fatal(err)
	}
	// Reinstalling the same version with the same permissions needs no approval.
	pol.Modules["@alice/x"] = trust.Record(trust.Module{}, false, man("@alice/x", "1.0.0", manifest.PermScriptRun), keyID(k), now)
	if _, err := signing.Install(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now}, mods); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryPublishOpenDownload(t *testing.T) {
	k := newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	dir := t.TempDir()
	for _, v := range []string{"1.0.0", "1.2.0"} {
		arc := packSigned(t, man("@alice/reverb", v), map[string]string{"a": v}, k)
		for _, s := range []string{"", signing.SigSuffix, signing.EnvelopeSuffix, signing.BundleSuffix} {
			b, _ := os.ReadFile(arc + s)
			os.WriteFile(filepath.Join(dir, filepath.Base(arc)+s), b, 0o644)
		}
	}
	idx, err := registry.Publish(context.Background(), dir, k, 24*time.Hour, now)
	if err != nil || idx.Version != 1 || len(idx.Modules) != 2 {
		t.Fatalf("publish: %+v %v", idx, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, registry.IndexName))
	st, err := registry.Open(raw, dir, pol, registry.State{}, now)
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.Index.Find("@alice/reverb", "")
	if err != nil || e.Version != "1.2.0" {
		t.Fatalf("find: %+v %v", e, err)
	}
	if got := st.Index.Search("reverb"); len(got) != 2 {
		t.Fatalf("search = %v", got)
	}
	arc, err := registry.Download(context.Background(), dir, e, t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true}); err != nil {
		t.Fatal(err)
	}
	// Served over HTTP, the same registry reads the same.
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	rawHTTP, err := registry.Fetch(context.Background(), srv.URL, registry.IndexName, registry.MaxIndex)
	if err != nil {
		t.Fatal(err)
	}
	stHTTP, err := registry.Open(rawHTTP, srv.URL, pol, st, now)
	if err != nil || stHTTP.Version != st.Version {
		t.Fatalf("over http: %v", err)
	}
	if _, err := registry.Download(context.Background(), srv.URL, e, t.TempDir(), 1<<20); err != nil {
		t.Fatal(err)
	}
	bad := e
	bad.SHA256 = strings.Repeat("0", 64)
	if _, err := registry.Download(context.Background(), srv.URL, bad, t.TempDir(), 1<<20); err == nil || !strings.Contains(err.Error(), "does not match the signed index") {
		t.Fatalf("tampered download: %v", err)
	}
	// Same version, different content: refused.
	same := st.Index
	same.Modules = same.Modules[:1]
	payload, _ := json.Marshal(same)
	env, _ := sign.SignEnvelope(k, sign.IndexPayloadType, payload)
	if _, err := registry.Open(env.Marshal(), dir, pol, st, now); !errors.Is(err, registry.ErrRolledBack) {
		t.Fatalf("same version, other content: %v", err)
	}
	registry.Publish(context.Background(), dir, k, 48*time.Hour, now)
	raw2, _ := os.ReadFile(filepath.Join(dir, registry.IndexName))
	st2, err := registry.Open(raw2, dir, pol, st, now)
	if err != nil || st2.Version != 2 {
		t.Fatalf("newer index: %v", err)
	}
	// An index signed by another pinned key than the one the registry was added with.
	other := newKey(t)
	pol2 := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}, other: {"@bob/*"}})
	d2 := t.TempDir()
	registry.Publish(context.Background(), d2, other, time.Hour, now)
	raw3, _ := os.ReadFile(filepath.Join(d2, registry.IndexName))
	if _, err := registry.Open(raw3, dir, pol2, st2, now); !errors.Is(err, trust.ErrUntrusted) {
		t.Fatalf("index by another key: %v", err)
	}
}

func TestKeysGenerateLoadImport(t *testing.T) {
	t.Parallel() // scrypt is slow, very slow under -race: overlap it with the rest
	pass := []byte("a long passphrase")
	pair, err := keys.Generate(pass)
	if err != nil {
		t.Fatal(err)
	}
	wrong := make(chan error, 1)
	go func() {
		_, err := keys.LoadPrivate(pair.PrivatePEM, []byte("wrong passphrase"), "k")
		wrong <- err
	}()
	k, err := keys.LoadPrivate(pair.PrivatePEM, pass, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := <-wrong; err == nil {
		t.Fatal("wrong passphrase accepted")
	}
	if id, _ := keys.ID(&k.PublicKey); id != pair.ID {
		t.Fatal("key ID changed")
	}
	if keys.IDFromHint(keys.Hint(pair.ID)) != pair.ID {
		t.Fatal("hint round trip")
	}
	if _, err := keys.Generate([]byte("short")); err == nil {
		t.Fatal("short passphrase accepted")
	}
}

// A Statement v0.1 (what cosign attest-blob writes) with a foreign predicate is accepted.
func TestStatementV01Accepted(t *testing.T) {
	k := newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	arc := packSigned(t, man("@alice/x", "1.0.0"), nil, k)
	raw, _ := os.ReadFile(arc)
	d := sha256.Sum256(raw)
	st := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"x","digest":{"sha256":"` +
		hex.EncodeToString(d[:]) + `"}}],"predicate":{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{"builder":{"id":"y"},"metadata":{}}}}`
	env, err := sign.SignEnvelope(k, sign.InTotoPayloadType, []byte(st))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(arc + signing.BundleSuffix)
	os.WriteFile(arc+signing.EnvelopeSuffix, env.Marshal(), 0o644)
	res, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true})
	if err != nil || res.StatementType != sign.StatementV01 {
		t.Fatalf("v0.1: %+v %v", res, err)
	}
	// An unknown Statement type is refused.
	env, _ = sign.SignEnvelope(k, sign.InTotoPayloadType, []byte(strings.Replace(st, "v0.1", "v9", 1)))
	os.WriteFile(arc+signing.EnvelopeSuffix, env.Marshal(), 0o644)
	if _, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true}); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("unknown Statement type: %v", err)
	}
}
