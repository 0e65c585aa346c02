package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/hkdf"
)

// ErrWrongPassphrase means the passphrase does not unlock the vault.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ErrCorrupt means an object failed authentication or its content hash.
var ErrCorrupt = errors.New("object is corrupt")

// KDFParams are the argon2id parameters stored in the vault config.
type KDFParams struct {
	Alg     string `json:"alg"` // "argon2id"
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memoryKiB"`
	Threads uint8  `json:"threads"`
	Salt    []byte `json:"salt"`
}

// DefaultKDF is argon2id with the RFC 9106 second recommended profile
// (3 passes, 64 MiB).
func DefaultKDF() KDFParams {
	salt := make([]byte, 16)
	rand.Read(salt)
	return KDFParams{Alg: "argon2id", Time: 3, Memory: 64 << 10, Threads: 4, Salt: salt}
}

func (p KDFParams) derive(passphrase []byte) ([]byte, error) {
	if p.Alg != "argon2id" {
		return nil, fmt.Errorf("vault uses key derivation %q, which this Atelier does not know: update Atelier", p.Alg)
	}
	if p.Memory > 4<<20 || p.Time > 100 || len(p.Salt) < 8 {
		return nil, fmt.Errorf("vault config asks for implausible key derivation parameters (time %d, memory %d KiB): the config object is damaged or hostile", p.Time, p.Memory)
	}
	return argon2.IDKey(passphrase, p.Salt, p.Time, p.Memory, p.Threads, 32), nil
}

// keys are the vault's secrets, derived from one random master key.
type keys struct {
	enc cipher.AEAD // AES-256-GCM for every object
	id  []byte      // HMAC-SHA256 key for chunk IDs and key names
	hp  sync.Pool   // of hash.Hash
}

func newKeys(master []byte) (*keys, error) {
	sub := func(info string) []byte {
		k := make([]byte, 32)
		io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(info)), k)
		return k
	}
	blk, err := aes.NewCipher(sub("atelier vault encryption v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	k := &keys{enc: aead, id: sub("atelier vault chunk id v1")}
	k.hp.New = func() any { return hmac.New(sha256.New, k.id) }
	return k, nil
}

// ID is a chunk ID: HMAC-SHA256 of the plaintext under the vault's ID key,
// so equal content dedups but the ID reveals nothing without the key.
type ID [32]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

func (id *ID) UnmarshalText(b []byte) error {
	if len(b) != 64 {
		return fmt.Errorf("chunk id %q: want 64 hex digits", b)
	}
	_, err := hex.Decode(id[:], b)
	return err
}

func (k *keys) chunkID(data []byte) ID {
	h := k.hp.Get().(hash.Hash)
	h.Reset()
	h.Write(data)
	var id ID
	h.Sum(id[:0])
	k.hp.Put(h)
	return id
}

// name derives an opaque object-name component from s (project names).
func (k *keys) name(s string) string {
	m := hmac.New(sha256.New, k.id)
	m.Write([]byte("name:" + s))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

const overhead = 12 + 16 // nonce + GCM tag

// seal encrypts plain, bound to aad, as nonce || ciphertext || tag,
// appending to dst.
func (k *keys) seal(dst, plain, aad []byte) []byte {
	var nonce [12]byte
	rand.Read(nonce[:])
	dst = append(dst, nonce[:]...)
	return k.enc.Seal(dst, nonce[:], plain, aad)
}

func (k *keys) open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < overhead {
		return nil, ErrCorrupt
	}
	out, err := k.enc.Open(nil, sealed[:12], sealed[12:], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

// keyFile is the object keys/main: the master key sealed with the key
// derived from the passphrase.
type keyFile struct {
	Version int    `json:"version"`
	Sealed  []byte `json:"sealed"`
}

func sealMaster(master, passphrase []byte, p KDFParams) ([]byte, error) {
	kek, err := p.derive(passphrase)
	if err != nil {
		return nil, err
	}
	blk, _ := aes.NewCipher(kek)
	aead, _ := cipher.NewGCM(blk)
	var nonce [12]byte
	rand.Read(nonce[:])
	sealed := aead.Seal(append([]byte(nil), nonce[:]...), nonce[:], master, []byte("atelier vault master key v1"))
	return json.Marshal(keyFile{Version: 1, Sealed: sealed})
}

func openMaster(b, passphrase []byte, p KDFParams) ([]byte, error) {
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil || len(kf.Sealed) < overhead {
		return nil, fmt.Errorf("the key object keys/main is damaged: %w", ErrCorrupt)
	}
	kek, err := p.derive(passphrase)
	if err != nil {
		return nil, err
	}
	blk, _ := aes.NewCipher(kek)
	aead, _ := cipher.NewGCM(blk)
	master, err := aead.Open(nil, kf.Sealed[:12], kf.Sealed[12:], []byte("atelier vault master key v1"))
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return master, nil
}
