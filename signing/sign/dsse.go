package sign

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"

	"atelier/signing/internal/strictjson"
	"atelier/signing/keys"
)

// Payload types.
const (
	InTotoPayloadType   = "application/vnd.in-toto+json"
	RotationPayloadType = "application/vnd.atelier.key-rotation+json"
	IndexPayloadType    = "application/vnd.atelier.registry-index+json"
)

// MaxEnvelope caps a DSSE envelope or bundle file.
const MaxEnvelope = 4 << 20

// Signature is one DSSE signature.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// Envelope is a DSSE envelope.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

// SignEnvelope signs payload as a DSSE envelope with priv (through sigstore's
// DSSE wrapper, the same code cosign uses).
func SignEnvelope(priv *ecdsa.PrivateKey, payloadType string, payload []byte) (Envelope, error) {
	sv, err := keys.Signer(priv)
	if err != nil {
		return Envelope{}, err
	}
	raw, err := sigdsse.WrapSigner(sv, payloadType).SignMessage(bytes.NewReader(payload))
	if err != nil {
		return Envelope{}, fmt.Errorf("sign envelope: %w", err)
	}
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Envelope{}, err
	}
	return env, nil
}

// Marshal encodes the envelope.
func (e Envelope) Marshal() []byte {
	b, _ := json.Marshal(e)
	return b
}

// ParseEnvelope strictly decodes a DSSE envelope (duplicate keys, unknown
// fields, trailing data and oversize input are refused).
func ParseEnvelope(data []byte, what string) (Envelope, error) {
	var e Envelope
	if err := strictjson.Decode(data, MaxEnvelope, what, &e); err != nil {
		return Envelope{}, err
	}
	return e, e.check(what)
}

func (e Envelope) check(what string) error {
	if e.PayloadType == "" {
		return fmt.Errorf("%s: envelope has no payloadType", what)
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(e.Payload); err != nil {
		return fmt.Errorf("%s: payload is not base64: %v", what, err)
	}
	if len(e.Signatures) == 0 {
		return fmt.Errorf("%s: envelope carries no signature (stripped): ask the publisher for the signed files", what)
	}
	if len(e.Signatures) > 8 {
		return fmt.Errorf("%s: envelope carries %d signatures; at most 8 are read", what, len(e.Signatures))
	}
	for _, s := range e.Signatures {
		if _, err := ParseSignature([]byte(s.Sig), what+" signature"); err != nil {
			return err
		}
	}
	return nil
}

// ErrPayloadType means the envelope holds something other than what was asked for.
var ErrPayloadType = errors.New("wrong DSSE payload type")

// VerifyEnvelope checks that one of the envelope's signatures is by pub over
// the expected payload type, and returns the decoded payload.
func VerifyEnvelope(e Envelope, pub *ecdsa.PublicKey, payloadType, what string) ([]byte, error) {
	if e.PayloadType != payloadType {
		return nil, fmt.Errorf("%w: %s has payload type %q, expected %q", ErrPayloadType, what, e.PayloadType, payloadType)
	}
	if err := e.check(what); err != nil {
		return nil, err
	}
	v, err := keys.Verifier(pub)
	if err != nil {
		return nil, err
	}
	var payload []byte
	w := sigdsse.WrapVerifier(v, sigdsse.WithExpectedPayloadType(payloadType), sigdsse.WithDecodedPayload(&payload))
	if err := w.VerifySignature(bytes.NewReader(e.Marshal()), nil); err != nil {
		return nil, fmt.Errorf("%w: %s (%v)", ErrBadSignature, what, err)
	}
	return payload, nil
}

// PAE is DSSE's pre-authentication encoding (exported for tests).
func PAE(payloadType string, payload []byte) []byte { return ssldsse.PAE(payloadType, payload) }
