// Package sign makes and checks Atelier's signatures, all cosign-compatible:
// detached blob signatures (ECDSA P-256 over SHA-256, base64 ASN.1 DER, as
// `cosign sign-blob` writes), in-toto Statements with a SLSA provenance v1
// predicate in a DSSE envelope (as `cosign attest-blob` writes), and Sigstore
// bundles (v0.3 JSON) carrying the envelope and a public key hint.
package sign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"sync"

	"atelier/signing/keys"
)

// MaxSignature caps a detached signature file (base64 of ≤ 72 DER bytes, plus slack).
const MaxSignature = 512

var digestBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// ErrBadSignature is wrapped by every signature that does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// Digest hashes r with SHA-256, streaming.
func Digest(r io.Reader) ([32]byte, int64, error) {
	h := sha256.New()
	return DigestInto(h, r)
}

// DigestInto feeds the rest of r into h (a SHA-256 that may already hold a
// prefix) and returns the sum and the bytes read from r.
func DigestInto(h hash.Hash, r io.Reader) ([32]byte, int64, error) {
	bp := digestBufs.Get().(*[]byte)
	defer digestBufs.Put(bp)
	n, err := io.CopyBuffer(h, r, *bp)
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d, n, err
}

// SignDigest signs a SHA-256 digest and returns the base64 ASN.1 DER signature,
// exactly what `cosign sign-blob` prints for the same blob and key.
func SignDigest(priv *ecdsa.PrivateKey, digest [32]byte) ([]byte, error) {
	if err := keys.CheckPublic(&priv.PublicKey); err != nil {
		return nil, err
	}
	der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return []byte(base64.StdEncoding.EncodeToString(der)), nil
}

// ParseSignature decodes a detached signature file: base64 (standard, with
// optional surrounding whitespace) of a canonical DER ECDSA signature.
func ParseSignature(b []byte, what string) ([]byte, error) {
	if len(b) > MaxSignature {
		return nil, fmt.Errorf("%s is %d bytes, too large for an ECDSA P-256 signature", what, len(b))
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("%s is not base64: %v", what, err)
	}
	if err := checkDER(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return raw, nil
}

// checkDER refuses anything but a canonical ASN.1 DER ECDSA P-256 signature
// (no IEEE P1363, no trailing bytes, no non-minimal encodings).
func checkDER(der []byte) error {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 {
		return errors.New("not an ASN.1 DER ECDSA signature (only ECDSA P-256 with SHA-256 is accepted)")
	}
	again, err := asn1.Marshal(sig)
	if err != nil || !bytes.Equal(again, der) {
		return errors.New("signature is not canonical DER")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return errors.New("signature values are out of range for P-256")
	}
	return nil
}

// VerifyDigest checks a DER signature over digest with pub.
func VerifyDigest(pub *ecdsa.PublicKey, digest [32]byte, der []byte) error {
	if err := keys.CheckPublic(pub); err != nil {
		return err
	}
	if err := checkDER(der); err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(pub, digest[:], der) {
		return ErrBadSignature
	}
	return nil
}
