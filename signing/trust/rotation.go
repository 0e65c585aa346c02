package trust

import (
	"crypto/ecdsa"
	"fmt"
	"path"
	"time"

	"atelier/signing/internal/strictjson"
	"atelier/signing/keys"
	"atelier/signing/sign"
)

// RotationType is the _type of a rotation statement.
const RotationType = "https://atelier.app/KeyRotation/v1"

// Rotation moves a publisher's modules from one key to another. It is signed
// (DSSE) by the old key, so only the holder of the old key can hand over.
type Rotation struct {
	Type         string    `json:"_type"`
	OldKeyID     string    `json:"oldKeyId"`
	NewKeyID     string    `json:"newKeyId"`
	NewPublicKey string    `json:"newPublicKey"`
	Scopes       []string  `json:"scopes"`
	Issued       time.Time `json:"issued"`
	Verified     bool      `json:"-"`
}

func (r Rotation) covers(name string) bool {
	for _, s := range r.Scopes {
		if ok, _ := path.Match(s, name); ok || s == name {
			return true
		}
	}
	return false
}

// NewRotation signs a rotation from oldPriv to newPub for scopes.
func NewRotation(oldPriv *ecdsa.PrivateKey, newPub *ecdsa.PublicKey, scopes []string, now time.Time) (sign.Envelope, error) {
	for _, s := range scopes {
		if err := CheckScope(s); err != nil {
			return sign.Envelope{}, err
		}
	}
	oldID, err := keys.ID(&oldPriv.PublicKey)
	if err != nil {
		return sign.Envelope{}, err
	}
	newID, err := keys.ID(newPub)
	if err != nil {
		return sign.Envelope{}, err
	}
	pemb, err := keys.PublicPEM(newPub)
	if err != nil {
		return sign.Envelope{}, err
	}
	r := Rotation{Type: RotationType, OldKeyID: oldID, NewKeyID: newID, NewPublicKey: string(pemb), Scopes: scopes, Issued: now.UTC()}
	payload, err := jsonMarshal(r)
	if err != nil {
		return sign.Envelope{}, err
	}
	return sign.SignEnvelope(oldPriv, sign.RotationPayloadType, payload)
}

// VerifyRotation checks a rotation envelope against the policy: the old key
// must be pinned, and the envelope signed by it.
func (p Policy) VerifyRotation(env sign.Envelope, what string) (Rotation, error) {
	payload, err := env.DecodePayload()
	if err != nil {
		return Rotation{}, fmt.Errorf("%s: %v", what, err)
	}
	var r Rotation
	if err := strictjson.Decode(payload, 64<<10, what, &r); err != nil {
		return Rotation{}, err
	}
	if r.Type != RotationType {
		return Rotation{}, fmt.Errorf("%s: not a key rotation statement (type %q)", what, r.Type)
	}
	old, ok := p.Keys[r.OldKeyID]
	if !ok {
		return Rotation{}, fmt.Errorf("%w: %s rotates away from key %s, which is not in your trust policy", ErrUntrusted, what, short(r.OldKeyID))
	}
	oldPub, err := old.Public()
	if err != nil {
		return Rotation{}, err
	}
	if _, err := sign.VerifyEnvelope(env, oldPub, sign.RotationPayloadType, what); err != nil {
		return Rotation{}, err
	}
	newPub, err := keys.LoadPublic([]byte(r.NewPublicKey), what+" new key")
	if err != nil {
		return Rotation{}, err
	}
	if id, _ := keys.ID(newPub); id != r.NewKeyID {
		return Rotation{}, fmt.Errorf("%s: newKeyId does not match the new public key", what)
	}
	r.Verified = true
	return r, nil
}
