package modules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/atomicfile"
	"atelier/signing/keys"
)

// KeyInfo describes a signing key in Data/keys.
type KeyInfo struct {
	Name      string    `json:"name"`
	ID        string    `json:"id"`
	PublicPEM string    `json:"publicPem"`
	Created   time.Time `json:"created"`
	Trusted   bool      `json:"trusted"` // pinned in the trust policy
}

// KeyExport is what KeysExport hands out.
type KeyExport struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	PublicPEM  string `json:"publicPem"`
	PrivatePEM string `json:"privatePem,omitempty"` // still encrypted with the passphrase
}

var modKeyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (s *Service) keyPaths(name string) (priv, pub string, err error) {
	if !modKeyNameRE.MatchString(name) {
		return "", "", apierr.Errorf(apierr.InvalidInput, "key name %q: use letters, digits, '.', '_' or '-' (up to 64)", name)
	}
	return filepath.Join(s.keysDir, name+".key"), filepath.Join(s.keysDir, name+".pub"), nil
}

// KeysList lists the signing keys in the data dir.
func (s *Service) KeysList() ([]KeyInfo, error) {
	ents, err := os.ReadDir(s.keysDir)
	if errors.Is(err, os.ErrNotExist) {
		return []KeyInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	pol, err := s.policy()
	if err != nil {
		return nil, err
	}
	out := []KeyInfo{}
	for _, d := range ents {
		name, ok := strings.CutSuffix(d.Name(), ".pub")
		if !ok {
			continue
		}
		p := filepath.Join(s.keysDir, d.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		pub, err := keys.LoadPublic(b, p)
		if err != nil {
			s.log.Warn("unreadable public key", "file", p, "err", err)
			continue
		}
		id, _ := keys.ID(pub)
		info, _ := d.Info()
		ki := KeyInfo{Name: name, ID: id, PublicPEM: string(b), Trusted: pol.Keys[id].ID != ""}
		if info != nil {
			ki.Created = info.ModTime()
		}
		out = append(out, ki)
	}
	return out, nil
}

// KeysGenerate makes a P-256 key pair named name, the private key encrypted
// with passphrase (an empty one is refused). The passphrase is never stored.
func (s *Service) KeysGenerate(name, passphrase string) (KeyInfo, error) {
	pair, err := keys.Generate([]byte(passphrase))
	if err != nil {
		return KeyInfo{}, err
	}
	return s.storeKey(name, pair, "generated")
}

// KeysImport stores a private key given in PEM (an Atelier or cosign key, or
// an unencrypted PKCS#8/SEC 1 P-256 key), encrypted with passphrase.
func (s *Service) KeysImport(name, privatePEM, passphrase string) (KeyInfo, error) {
	priv, err := keys.ImportPrivate([]byte(privatePEM), []byte(passphrase), "imported key "+name)
	if err != nil {
		return KeyInfo{}, err
	}
	pair, err := keys.Encrypt(priv, []byte(passphrase))
	if err != nil {
		return KeyInfo{}, err
	}
	return s.storeKey(name, pair, "imported")
}

func (s *Service) storeKey(name string, pair keys.Pair, how string) (KeyInfo, error) {
	privPath, pubPath, err := s.keyPaths(name)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := os.MkdirAll(s.keysDir, 0o700); err != nil {
		return KeyInfo{}, err
	}
	if _, err := os.Stat(privPath); err == nil {
		return KeyInfo{}, apierr.Errorf(apierr.Conflict, "a key named %q already exists in %s: choose another name", name, s.keysDir)
	}
	if err := atomicfile.WriteFile(privPath, pair.PrivatePEM, 0o600); err != nil {
		return KeyInfo{}, err
	}
	if err := atomicfile.WriteFile(pubPath, pair.PublicPEM, 0o600); err != nil {
		os.Remove(privPath)
		return KeyInfo{}, err
	}
	s.audit(AuditEntry{Action: "key", Subject: name, KeyID: pair.ID, Outcome: "ok", Detail: how})
	return KeyInfo{Name: name, ID: pair.ID, PublicPEM: string(pair.PublicPEM), Created: time.Now()}, nil
}

// KeysExport returns a key's public half, and with private its still-encrypted private PEM.
func (s *Service) KeysExport(name string, private bool) (KeyExport, error) {
	privPath, pubPath, err := s.keyPaths(name)
	if err != nil {
		return KeyExport{}, err
	}
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		return KeyExport{}, fmt.Errorf("no key named %q in %s (see `atelier keys list`): %w", name, s.keysDir, err)
	}
	pk, err := keys.LoadPublic(pub, pubPath)
	if err != nil {
		return KeyExport{}, err
	}
	id, _ := keys.ID(pk)
	out := KeyExport{Name: name, ID: id, PublicPEM: string(pub)}
	if private {
		b, err := os.ReadFile(privPath)
		if err != nil {
			return KeyExport{}, err
		}
		out.PrivatePEM = string(b)
	}
	return out, nil
}

// KeyPath is where the signing key name is kept under dataDir (the CLI's
// `--key NAME` resolves through it).
func KeyPath(dataDir, name string) string { return filepath.Join(dataDir, "keys", name+".key") }
