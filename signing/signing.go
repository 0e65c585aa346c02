// Package signing signs and verifies Atelier modules offline.
//
// Subpackages do one thing each: keys (P-256 keys in cosign's encrypted PEM),
// manifest (atelier-module.json), pack (deterministic archives and the
// hostile-archive reader), sign (cosign-compatible blob signatures, DSSE
// envelopes, in-toto/SLSA statements, Sigstore bundles), trust (the local
// trust policy) and registry (a static signed index). This package ties them
// together: SignArchive writes the signature files beside an archive, Verify
// checks an archive and its signature files against a trust policy.
//
// It knows nothing of the app: callers pass plain values and store the policy.
package signing

import (
	"atelier/atomicfile"
	"atelier/signing/internal/capped"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"atelier/progress"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

// Sidecar file suffixes written beside an archive.
const (
	SigSuffix      = ".sig"           // cosign sign-blob signature (base64 DER)
	EnvelopeSuffix = ".intoto.json"   // DSSE envelope (cosign attest-blob --output-signature)
	BundleSuffix   = ".sigstore.json" // Sigstore bundle v0.3
	RotationSuffix = ".rotation.json" // optional key rotation statement (DSSE)
)

// ErrNoSignature means an archive came without any signature material.
var ErrNoSignature = errors.New("no signature")

// ErrDigest means an attestation or signature is for other bytes than the archive.
var ErrDigest = errors.New("attestation does not cover this archive")

// Signed lists what SignArchive wrote.
type Signed struct {
	Archive       string `json:"archive"`
	ArchiveDigest string `json:"archiveDigest"`
	Signature     string `json:"signature"`
	Envelope      string `json:"envelope"`
	Bundle        string `json:"bundle"`
	KeyID         string `json:"keyId"`
	Module        string `json:"module"`
	Version       string `json:"version"`
}

// SignArchive signs the archive at path with priv: a detached signature, a
// provenance attestation in a DSSE envelope and a bundle carrying it, each
// written atomically beside the archive.
func SignArchive(ctx context.Context, path string, priv *ecdsa.PrivateKey, builderVersion string, started time.Time) (Signed, error) {
	f, err := os.Open(path)
	if err != nil {
		return Signed{}, err
	}
	defer f.Close()
	// The whole archive passes the checks install makes before it is
	// signed: a signature on an archive no one can install helps no one.
	head, d, err := checkArchive(ctx, f, path, pack.DefaultLimits(), nil)
	if err != nil {
		return Signed{}, err
	}
	sig, err := sign.SignDigest(priv, d)
	if err != nil {
		return Signed{}, err
	}
	env, err := sign.Attest(priv, sign.ProvenanceInput{
		ArchiveName: filepath.Base(path), ArchiveDigest: d,
		Module: head.Manifest.Name, Version: head.Manifest.Version, SourceDigest: head.Files.Digest(),
		BuilderVersion: builderVersion, Started: started, Finished: time.Now(),
	})
	if err != nil {
		return Signed{}, err
	}
	id, _ := keys.ID(&priv.PublicKey)
	out := Signed{Archive: path, ArchiveDigest: hex.EncodeToString(d[:]), KeyID: id,
		Signature: path + SigSuffix, Envelope: path + EnvelopeSuffix, Bundle: path + BundleSuffix,
		Module: head.Manifest.Name, Version: head.Manifest.Version}
	for p, b := range map[string][]byte{
		out.Signature: sig,
		out.Envelope:  env.Marshal(),
		out.Bundle:    sign.NewBundle(env, keys.Hint(id)).Marshal(),
	} {
		if err := atomicfile.WriteFile(p, b, 0o644); err != nil {
			return Signed{}, err
		}
	}
	return out, nil
}

// Material is an archive and the signature files that came with it.
type Material struct {
	Archive   string   // path to the archive
	Signature []byte   // detached signature (optional)
	Bundle    []byte   // Sigstore bundle (preferred)
	Envelope  []byte   // DSSE envelope (when there is no bundle)
	Rotations [][]byte // rotation statements (optional)
}

// LoadMaterial reads the signature files beside archive (missing ones stay empty).
func LoadMaterial(archive string) (Material, error) {
	m := Material{Archive: archive}
	read := func(suffix string, max int64) ([]byte, error) {
		b, err := capped.ReadFile(archive+suffix, max)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	var err error
	if m.Signature, err = read(SigSuffix, sign.MaxSignature); err != nil {
		return m, err
	}
	if m.Bundle, err = read(BundleSuffix, sign.MaxEnvelope); err != nil {
		return m, err
	}
	if m.Envelope, err = read(EnvelopeSuffix, sign.MaxEnvelope); err != nil {
		return m, err
	}
	rot, err := read(RotationSuffix, sign.MaxEnvelope)
	if err != nil {
		return m, err
	}
	if rot != nil {
		m.Rotations = [][]byte{rot}
	}
	return m, nil
}

// Options tune Verify.
type Options struct {
	Policy  trust.Policy
	Now     time.Time
	Approve bool
	Limits  pack.Limits
	// Progress, when set, hears how many archive bytes have been read
	// (Note "verify" or "install"), every few MiB.
	Progress progress.Func
}

// Result is a successful verification.
type Result struct {
	Manifest         manifest.Manifest `json:"manifest"`
	Files            int               `json:"files"`
	ArchiveDigest    string            `json:"archiveDigest"`
	KeyID            string            `json:"keyId"`
	KeyName          string            `json:"keyName"`
	StatementType    string            `json:"statementType"` // "" when only a detached signature was given (no provenance)
	SourceDigest     string            `json:"sourceDigest,omitempty"`
	SignatureChecked bool              `json:"signatureChecked"` // a signature over the archive bytes (the detached .sig, or the bundle's message signature) was verified
	Decision         trust.Decision    `json:"decision"`
	head             pack.Head
}

// Head returns the archive's manifest and file list.
func (r Result) Head() pack.Head { return r.head }

// Verify checks an archive offline: every entry with the checks an install
// makes (the same pack.Walk), its digest, the attestation or message
// signature, the detached signature if present, and the trust policy. It
// reads the archive once.
func Verify(ctx context.Context, m Material, opt Options) (Result, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	f, err := os.Open(m.Archive)
	if err != nil {
		return Result{}, fmt.Errorf("open module archive: %w", err)
	}
	defer f.Close()
	head, digest, err := checkArchive(ctx, f, m.Archive, opt.Limits, opt.Progress)
	if err != nil {
		return Result{}, err
	}
	name := head.Manifest.Name
	res := Result{Manifest: head.Manifest, Files: len(head.Files.Files), ArchiveDigest: hex.EncodeToString(digest[:]), head: head}

	var env sign.Envelope
	hint := ""
	switch {
	case len(m.Bundle) > 0:
		b, err := sign.ParseBundle(m.Bundle, m.Archive+BundleSuffix)
		if err != nil {
			return Result{}, err
		}
		if b.VerificationMaterial.PublicKey != nil {
			hint = keys.IDFromHint(b.VerificationMaterial.PublicKey.Hint)
		}
		if b.MessageSignature != nil {
			return verifyMessageSignature(m, opt, head, digest, res, *b.MessageSignature, hint)
		}
		env = *b.DSSEEnvelope
	case len(m.Envelope) > 0:
		if env, err = sign.ParseEnvelope(m.Envelope, m.Archive+EnvelopeSuffix); err != nil {
			return Result{}, err
		}
	case len(m.Signature) > 0:
		der, err := sign.ParseSignature(m.Signature, m.Archive+SigSuffix)
		if err != nil {
			return Result{}, err
		}
		return verifySignatureOnly(m, opt, head, digest, res, der, "", m.Archive+SigSuffix)
	default:
		return Result{}, fmt.Errorf("%w: %s has no %s, %s or %s beside it; ask the publisher for the signed files (`atelier module sign`)", ErrNoSignature, m.Archive, BundleSuffix, EnvelopeSuffix, SigSuffix)
	}
	what := m.Archive + " attestation"
	if env.PayloadType != sign.InTotoPayloadType {
		return Result{}, fmt.Errorf("%w: %s has payload type %q, expected %q", sign.ErrPayloadType, what, env.PayloadType, sign.InTotoPayloadType)
	}

	// Find the key: the hint first, then every pinned key.
	candidates := []string{}
	if hint != "" {
		candidates = append(candidates, hint)
	}
	for _, s := range env.Signatures {
		if s.KeyID != "" {
			candidates = append(candidates, s.KeyID)
		}
	}
	for id := range opt.Policy.Keys {
		candidates = append(candidates, id)
	}
	var payload []byte
	var key trust.Key
	tried := map[string]bool{}
	for _, id := range candidates {
		k, ok := opt.Policy.Keys[id]
		if !ok || tried[id] {
			continue
		}
		tried[id] = true
		pub, err := k.Public()
		if err != nil {
			continue
		}
		if p, err := sign.VerifyEnvelope(env, pub, sign.InTotoPayloadType, what); err == nil {
			payload, key = p, k
			break
		}
	}
	if payload == nil {
		if hint != "" && !tried[hint] {
			return Result{}, fmt.Errorf("%w: %s is signed by key %s, which is not in your trust policy; if you trust the publisher, add their public key with `atelier trust add PUB.pem --scope %s/*`", trust.ErrUntrusted, name, hint[:12], manifest.Publisher(name))
		}
		return Result{}, fmt.Errorf("%w: %s: the attestation is not signed by any key in your trust policy, or was altered (%w)", trust.ErrUntrusted, name, sign.ErrBadSignature)
	}
	st, params, err := sign.ParseStatement(payload, what)
	if err != nil {
		return Result{}, err
	}
	if !st.CoversDigest(digest) {
		return Result{}, fmt.Errorf("%w: %s names other bytes than %s (sha256 %s): the archive was changed or the signature belongs to another module", ErrDigest, what, filepath.Base(m.Archive), res.ArchiveDigest[:12])
	}
	if params.Module != "" && (params.Module != name || params.Version != head.Manifest.Version) {
		return Result{}, fmt.Errorf("%w: %s is provenance for %s@%s, but the archive holds %s@%s", ErrDigest, what, params.Module, params.Version, name, head.Manifest.Version)
	}
	if params.SourceDigest != "" && params.SourceDigest != head.Files.Digest() {
		return Result{}, fmt.Errorf("%w: %s records source digest %s, but the archive's file list differs (files mixed from another version)", ErrDigest, what, params.SourceDigest)
	}
	res.StatementType, res.SourceDigest = st.Type, params.SourceDigest
	res.KeyID, res.KeyName = key.ID, key.Name

	if len(m.Signature) > 0 {
		der, err := sign.ParseSignature(m.Signature, m.Archive+SigSuffix)
		if err != nil {
			return Result{}, err
		}
		pub, _ := key.Public()
		if err := sign.VerifyDigest(pub, digest, der); err != nil {
			return Result{}, fmt.Errorf("%s%s: %w by key %s: the archive or the signature file was changed", m.Archive, SigSuffix, err, key.ID[:12])
		}
		res.SignatureChecked = true
	}

	var rots []trust.Rotation
	for i, raw := range m.Rotations {
		w := fmt.Sprintf("%s rotation statement %d", m.Archive, i+1)
		env, err := sign.ParseEnvelope(raw, w)
		if err != nil {
			return Result{}, err
		}
		r, err := opt.Policy.VerifyRotation(env, w)
		if err != nil {
			return Result{}, err
		}
		rots = append(rots, r)
	}
	d, err := opt.Policy.Evaluate(trust.Request{Manifest: head.Manifest, KeyID: key.ID, Now: opt.Now, Rotations: rots, Approve: opt.Approve})
	res.Decision = d
	if err != nil {
		return res, err
	}
	return res, nil
}

// verifyMessageSignature accepts a bundle whose content is a message
// signature (`cosign sign-blob --new-bundle-format`): the digest it names
// must be the archive's SHA-256 and the signature must be by a pinned key.
// A detached .sig beside it must verify too.
func verifyMessageSignature(m Material, opt Options, head pack.Head, digest [32]byte, res Result, ms sign.MessageSignature, hint string) (Result, error) {
	what := m.Archive + BundleSuffix
	named, der, err := ms.Decode(what)
	if err != nil {
		return Result{}, err
	}
	if named != digest {
		return Result{}, fmt.Errorf("%w: %s signs other bytes (sha256 %x) than %s (sha256 %s): the archive was changed or the signature belongs to another file", ErrDigest, what, named[:6], filepath.Base(m.Archive), res.ArchiveDigest[:12])
	}
	res, err = verifySignatureOnly(m, opt, head, digest, res, der, hint, what)
	if err != nil || len(m.Signature) == 0 {
		return res, err
	}
	sig, err := sign.ParseSignature(m.Signature, m.Archive+SigSuffix)
	if err != nil {
		return Result{}, err
	}
	k := opt.Policy.Keys[res.KeyID]
	pub, _ := k.Public()
	if err := sign.VerifyDigest(pub, digest, sig); err != nil {
		return Result{}, fmt.Errorf("%s%s: %w by key %s: the archive or the signature file was changed", m.Archive, SigSuffix, err, k.ID[:12])
	}
	return res, nil
}

// verifySignatureOnly accepts a bare signature over the archive's digest (a
// detached `cosign sign-blob` signature, or a bundle's message signature) by
// a pinned key (the hinted one first): the bytes are authentic, but there is
// no provenance, which the result shows (StatementType is empty).
func verifySignatureOnly(m Material, opt Options, head pack.Head, digest [32]byte, res Result, der []byte, hint, what string) (Result, error) {
	ids := make([]string, 0, len(opt.Policy.Keys)+1)
	if _, ok := opt.Policy.Keys[hint]; ok {
		ids = append(ids, hint)
	}
	for id := range opt.Policy.Keys {
		if id != hint {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		k := opt.Policy.Keys[id]
		pub, err := k.Public()
		if err != nil || sign.VerifyDigest(pub, digest, der) != nil {
			continue
		}
		res.KeyID, res.KeyName, res.SignatureChecked = k.ID, k.Name, true
		d, err := opt.Policy.Evaluate(trust.Request{Manifest: head.Manifest, KeyID: k.ID, Now: opt.Now, Approve: opt.Approve})
		res.Decision = d
		return res, err
	}
	if hint != "" {
		if _, ok := opt.Policy.Keys[hint]; !ok {
			return Result{}, fmt.Errorf("%w: %s is signed by key %s, which is not in your trust policy; if you trust the publisher, add their public key with `atelier trust add PUB.pem --scope %s/*`", trust.ErrUntrusted, head.Manifest.Name, hint[:12], manifest.Publisher(head.Manifest.Name))
		}
	}
	return Result{}, fmt.Errorf("%w: %s is not a signature of this archive by any key in your trust policy (%w)", trust.ErrUntrusted, what, sign.ErrBadSignature)
}

// checkArchive reads the archive f once: every entry goes through the same
// checks as an install (pack.Walk: path traversal, links, devices, modes,
// duplicate and colliding names, caps on sizes, entries and ratio, each
// file's digest against the file list), and the bytes through SHA-256, so
// the manifest a decision rests on is part of the bytes the digest covers
// (no window for swapping the file between hashing and reading).
func checkArchive(ctx context.Context, f *os.File, what string, lim pack.Limits, fn progress.Func) (pack.Head, [32]byte, error) {
	var total int64
	if fi, err := f.Stat(); err == nil {
		total = fi.Size()
	}
	h := sha256.New()
	pr := &progressReader{r: ctxReader{ctx, f}, fn: fn, total: total, note: "verify"}
	head, err := pack.Check(ctx, io.TeeReader(pr, h), what, lim)
	if err != nil {
		return pack.Head{}, [32]byte{}, err
	}
	digest, _, err := sign.DigestInto(h, pr) // whatever the reader did not need
	if err != nil {
		return pack.Head{}, [32]byte{}, fmt.Errorf("read %s: %w", what, err)
	}
	return head, digest, nil
}

// progressReader reports bytes read every 4 MiB and at the end.
type progressReader struct {
	r           io.Reader
	fn          progress.Func
	total, done int64
	last        int64
	note        string
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.fn != nil && (p.done-p.last >= 4<<20 || err == io.EOF) {
		p.last = p.done
		p.fn(progress.Progress{Done: p.done, Total: p.total, Unit: "bytes", Note: p.note})
	}
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
