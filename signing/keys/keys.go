// Package keys makes, encrypts, loads and identifies module signing keys.
//
// Keys are ECDSA P-256, the algorithm cosign uses by default (cosign treats
// Ed25519 as Ed25519ph, so P-256 is the interoperable choice). Private keys are
// stored as cosign's "ENCRYPTED SIGSTORE PRIVATE KEY" PEM (scrypt +
// secretbox, through github.com/sigstore/sigstore), so keys made by
// `cosign generate-key-pair` load here and ours load in cosign.
package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// MaxPEM caps the size of a key file: a P-256 key in PEM is under 1 KiB.
const MaxPEM = 16 << 10

// MinPassphrase is the shortest passphrase accepted for a new key.
const MinPassphrase = 8

// ErrEmptyPassphrase is returned when a key would be written unencrypted.
var ErrEmptyPassphrase = errors.New("an empty passphrase is refused: the private key would be stored unencrypted; choose a passphrase of at least 8 characters")

// Pair is a freshly made or re-encrypted key pair in PEM.
type Pair struct {
	PrivatePEM []byte // ENCRYPTED SIGSTORE PRIVATE KEY
	PublicPEM  []byte // PUBLIC KEY (PKIX)
	ID         string // hex SHA-256 of the PKIX DER public key
}

// Generate makes a P-256 key pair, the private half encrypted with passphrase.
// sigstore's GeneratePEMEncodedECDSAKeyPair silently writes an unencrypted key
// when the password function returns nil; this refuses empty passphrases first.
func Generate(passphrase []byte) (Pair, error) {
	if err := checkPassphrase(passphrase); err != nil {
		return Pair{}, err
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("generate key: %w", err)
	}
	return Encrypt(priv, passphrase)
}

// Encrypt writes priv as an encrypted PEM pair (used by Generate and re-encryption on import).
func Encrypt(priv *ecdsa.PrivateKey, passphrase []byte) (Pair, error) {
	if err := checkPassphrase(passphrase); err != nil {
		return Pair{}, err
	}
	if err := CheckPublic(&priv.PublicKey); err != nil {
		return Pair{}, err
	}
	der, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(priv, cryptoutils.StaticPasswordFunc(passphrase))
	if err != nil {
		return Pair{}, fmt.Errorf("encrypt private key: %w", err)
	}
	privPEM := cryptoutils.PEMEncode(cryptoutils.EncryptedSigstorePrivateKeyPEMType, der)
	if !bytes.Contains(privPEM, []byte("ENCRYPTED SIGSTORE PRIVATE KEY")) {
		return Pair{}, errors.New("refusing to write an unencrypted private key")
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(&priv.PublicKey)
	if err != nil {
		return Pair{}, fmt.Errorf("encode public key: %w", err)
	}
	id, _ := ID(&priv.PublicKey)
	return Pair{PrivatePEM: privPEM, PublicPEM: pubPEM, ID: id}, nil
}

func checkPassphrase(p []byte) error {
	if len(p) == 0 {
		return ErrEmptyPassphrase
	}
	if len(p) < MinPassphrase {
		return fmt.Errorf("passphrase too short (%d characters): use at least %d", len(p), MinPassphrase)
	}
	return nil
}

// singlePEM decodes exactly one PEM block of an allowed type, refusing
// oversized input and trailing data.
func singlePEM(data []byte, what string, types ...string) (*pem.Block, error) {
	if len(data) > MaxPEM {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit for a key file", what, len(data), MaxPEM)
	}
	blk, rest := pem.Decode(data)
	if blk == nil {
		return nil, fmt.Errorf("%s is not a PEM key file", what)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%s has trailing data after the PEM block: export the key again", what)
	}
	if len(blk.Headers) != 0 {
		return nil, fmt.Errorf("%s has PEM headers (legacy encryption is not supported): re-encrypt it with `cosign import-key-pair` or `atelier keys import`", what)
	}
	for _, t := range types {
		if blk.Type == t {
			return blk, nil
		}
	}
	return nil, fmt.Errorf("%s holds a %q PEM block; expected %v", what, blk.Type, types)
}

// LoadPrivate decrypts an encrypted private key PEM (Atelier's or cosign's).
// Unencrypted keys are refused: import them with ImportPrivate, which encrypts them.
func LoadPrivate(data, passphrase []byte, what string) (*ecdsa.PrivateKey, error) {
	if _, err := singlePEM(data, what, string(cryptoutils.EncryptedSigstorePrivateKeyPEMType), "ENCRYPTED COSIGN PRIVATE KEY"); err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyPassphrase)
	}
	k, err := cryptoutils.UnmarshalPEMToPrivateKey(data, cryptoutils.StaticPasswordFunc(passphrase))
	if err != nil {
		return nil, fmt.Errorf("unlock %s: wrong passphrase or damaged key file (%v)", what, err)
	}
	return asP256(k, what)
}

// ImportPrivate reads a private key in any PEM form sigstore understands
// (encrypted cosign/sigstore keys, PKCS#8, SEC 1) and checks it is P-256.
// An unencrypted input needs no passphrase; encrypted input uses passphrase.
func ImportPrivate(data, passphrase []byte, what string) (*ecdsa.PrivateKey, error) {
	blk, err := singlePEM(data, what, string(cryptoutils.EncryptedSigstorePrivateKeyPEMType), "ENCRYPTED COSIGN PRIVATE KEY",
		"PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	if blk.Type != "PRIVATE KEY" && blk.Type != "EC PRIVATE KEY" {
		return LoadPrivate(data, passphrase, what)
	}
	k, err := cryptoutils.UnmarshalPEMToPrivateKey(data, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", what, err)
	}
	return asP256(k, what)
}

func asP256(k crypto.PrivateKey, what string) (*ecdsa.PrivateKey, error) {
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is a %T key; Atelier signs with ECDSA P-256 only (make one with `atelier keys generate` or `cosign generate-key-pair`)", what, k)
	}
	if err := CheckPublic(&ek.PublicKey); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ek, nil
}

// LoadPublic reads a PKIX PUBLIC KEY PEM and checks it is P-256.
func LoadPublic(data []byte, what string) (*ecdsa.PublicKey, error) {
	if _, err := singlePEM(data, what, "PUBLIC KEY"); err != nil {
		return nil, err
	}
	k, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %v", what, err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s is a %T key; only ECDSA P-256 public keys are accepted", what, k)
	}
	if err := CheckPublic(ek); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ek, nil
}

// CheckPublic refuses anything but a valid P-256 key (weak or unexpected algorithms).
func CheckPublic(k *ecdsa.PublicKey) error {
	if k == nil || k.Curve != elliptic.P256() {
		name := "unknown"
		if k != nil && k.Curve != nil {
			name = k.Curve.Params().Name
		}
		return fmt.Errorf("key uses curve %s; only ECDSA P-256 (SHA-256) is accepted", name)
	}
	return cryptoutils.ValidatePubKey(k)
}

// PublicPEM encodes k as PKIX PEM.
func PublicPEM(k *ecdsa.PublicKey) ([]byte, error) { return cryptoutils.MarshalPublicKeyToPEM(k) }

// ID is the hex SHA-256 of the PKIX DER encoding of k: the key's name in the
// trust policy and the audit log.
func ID(k crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(k)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:]), nil
}

// Hint is the Sigstore bundle's public key hint for a key ID: base64 of the
// same SHA-256, as cosign writes it.
func Hint(id string) string {
	b, err := hex.DecodeString(id)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// IDFromHint turns a bundle hint back into a key ID ("" when it is not one).
func IDFromHint(h string) string {
	b, err := base64.StdEncoding.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(b)
}

// Signer returns a sigstore ECDSA SHA-256 signer-verifier for priv.
func Signer(priv *ecdsa.PrivateKey) (*signature.ECDSASignerVerifier, error) {
	return signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
}

// Verifier returns a sigstore ECDSA SHA-256 verifier for pub.
func Verifier(pub *ecdsa.PublicKey) (*signature.ECDSAVerifier, error) {
	if err := CheckPublic(pub); err != nil {
		return nil, err
	}
	return signature.LoadECDSAVerifier(pub, crypto.SHA256)
}
