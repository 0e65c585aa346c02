package sign

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"atelier/signing/internal/strictjson"
)

// Bundle media types accepted for v0.3.
const (
	BundleMediaType    = "application/vnd.dev.sigstore.bundle.v0.3+json"
	BundleMediaTypeAlt = "application/vnd.dev.sigstore.bundle+json;version=0.3"
)

// Bundle is a Sigstore bundle v0.3 (protobuf-specs JSON form) and a public
// key hint: offline material, no transparency log entry. Its content is one
// of the two the spec allows: a DSSE envelope (`cosign attest-blob`, what
// Atelier writes) or a message signature over the artifact's digest
// (`cosign sign-blob --new-bundle-format`).
type Bundle struct {
	MediaType            string               `json:"mediaType"`
	VerificationMaterial VerificationMaterial `json:"verificationMaterial"`
	DSSEEnvelope         *Envelope            `json:"dsseEnvelope,omitempty"`
	MessageSignature     *MessageSignature    `json:"messageSignature,omitempty"`
}

// MessageSignature is a signature over an artifact's digest.
type MessageSignature struct {
	MessageDigest MessageDigest `json:"messageDigest"`
	Signature     string        `json:"signature"` // base64 ASN.1 DER
}

// MessageDigest is the digest a message signature covers.
type MessageDigest struct {
	Algorithm string `json:"algorithm"` // "SHA2_256"
	Digest    string `json:"digest"`    // base64
}

// DigestSHA256 is the only message digest algorithm accepted.
const DigestSHA256 = "SHA2_256"

// NewMessageBundle is a bundle with a message signature (base64 DER sig, as
// SignDigest returns it) over digest, as `cosign sign-blob --new-bundle-format` writes it.
func NewMessageBundle(digest [32]byte, sig []byte, hint string) Bundle {
	return Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: VerificationMaterial{PublicKey: &PublicKeyID{Hint: hint}},
		MessageSignature: &MessageSignature{
			MessageDigest: MessageDigest{Algorithm: DigestSHA256, Digest: base64.StdEncoding.EncodeToString(digest[:])},
			Signature:     string(sig),
		},
	}
}

// check decodes and checks the message signature: the digest it names and
// the DER signature.
func (m MessageSignature) check(what string) (digest [32]byte, der []byte, err error) {
	if m.MessageDigest.Algorithm != DigestSHA256 {
		return digest, nil, fmt.Errorf("%s: message digest algorithm %q is not supported (only %s)", what, m.MessageDigest.Algorithm, DigestSHA256)
	}
	d, err := base64.StdEncoding.Strict().DecodeString(m.MessageDigest.Digest)
	if err != nil || len(d) != len(digest) {
		return digest, nil, fmt.Errorf("%s: message digest is not a base64 SHA-256", what)
	}
	copy(digest[:], d)
	if m.Signature == "" {
		return digest, nil, fmt.Errorf("%s: bundle carries no signature (stripped): ask the publisher for the signed files", what)
	}
	der, err = ParseSignature([]byte(m.Signature), what+" message signature")
	return digest, der, err
}

// Decode returns the digest the message signature names and its DER signature.
func (m MessageSignature) Decode(what string) ([32]byte, []byte, error) { return m.check(what) }

// VerificationMaterial names the key; tlog entries are kept for compatibility and ignored offline.
type VerificationMaterial struct {
	PublicKey                 *PublicKeyID      `json:"publicKey,omitempty"`
	TlogEntries               []json.RawMessage `json:"tlogEntries,omitempty"`
	TimestampVerificationData json.RawMessage   `json:"timestampVerificationData,omitempty"`
}

// PublicKeyID is the bundle's key hint.
type PublicKeyID struct {
	Hint string `json:"hint"`
}

// NewBundle wraps env with the hint of the signing key.
func NewBundle(env Envelope, hint string) Bundle {
	return Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: VerificationMaterial{PublicKey: &PublicKeyID{Hint: hint}},
		DSSEEnvelope:         &env,
	}
}

// Marshal encodes the bundle.
func (b Bundle) Marshal() []byte {
	out, _ := json.MarshalIndent(b, "", "  ")
	return append(out, '\n')
}

// ParseBundle strictly decodes a v0.3 bundle holding either a DSSE envelope
// or a message signature.
func ParseBundle(data []byte, what string) (Bundle, error) {
	var b Bundle
	if err := strictjson.Decode(data, MaxEnvelope, what, &b); err != nil {
		return Bundle{}, err
	}
	if b.MediaType != BundleMediaType && b.MediaType != BundleMediaTypeAlt {
		return Bundle{}, fmt.Errorf("%s: bundle media type %q is not a Sigstore bundle v0.3", what, b.MediaType)
	}
	switch {
	case b.DSSEEnvelope != nil && b.MessageSignature != nil:
		return Bundle{}, fmt.Errorf("%s: bundle carries both a DSSE envelope and a message signature; a Sigstore bundle holds one", what)
	case b.DSSEEnvelope != nil:
		if err := b.DSSEEnvelope.check(what); err != nil {
			return Bundle{}, err
		}
	case b.MessageSignature != nil:
		if _, _, err := b.MessageSignature.check(what); err != nil {
			return Bundle{}, err
		}
	default:
		return Bundle{}, fmt.Errorf("%s: bundle carries no DSSE envelope or message signature (stripped signature)", what)
	}
	return b, nil
}
