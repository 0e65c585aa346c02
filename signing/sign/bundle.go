package sign

import (
	"encoding/json"
	"fmt"

	"atelier/signing/internal/strictjson"
)

// Bundle media types accepted for v0.3.
const (
	BundleMediaType    = "application/vnd.dev.sigstore.bundle.v0.3+json"
	BundleMediaTypeAlt = "application/vnd.dev.sigstore.bundle+json;version=0.3"
)

// Bundle is a Sigstore bundle v0.3 (protobuf-specs JSON form) carrying a DSSE
// envelope and a public key hint: offline material, no transparency log entry.
type Bundle struct {
	MediaType            string               `json:"mediaType"`
	VerificationMaterial VerificationMaterial `json:"verificationMaterial"`
	DSSEEnvelope         *Envelope            `json:"dsseEnvelope,omitempty"`
}

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

// ParseBundle strictly decodes a v0.3 bundle holding a DSSE envelope.
func ParseBundle(data []byte, what string) (Bundle, error) {
	var b Bundle
	if err := strictjson.Decode(data, MaxEnvelope, what, &b); err != nil {
		return Bundle{}, err
	}
	if b.MediaType != BundleMediaType && b.MediaType != BundleMediaTypeAlt {
		return Bundle{}, fmt.Errorf("%s: bundle media type %q is not a Sigstore bundle v0.3", what, b.MediaType)
	}
	if b.DSSEEnvelope == nil {
		return Bundle{}, fmt.Errorf("%s: bundle carries no DSSE envelope (stripped signature)", what)
	}
	if err := b.DSSEEnvelope.check(what); err != nil {
		return Bundle{}, err
	}
	return b, nil
}
