package syncsvc

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zalando/go-keyring"

	"atelier/app/sessionbus"
)

const keyringService = "atelier-vault"

// SecretStore is the OS keyring (tests swap it).
type SecretStore interface {
	Get(name string) (string, error)
	Set(name, secret string) error
	Delete(name string) error
}

// osKeyring is the Secret Service over the D-Bus session bus (Linux), the
// Keychain (macOS) or the Credential Manager (Windows). On Linux it is only
// asked when a session bus is there: without one, the D-Bus library falls
// back to `dbus-launch`, which starts a dbus-daemon that nobody ever stops
// (one per CLI command on a headless machine, in cron, in CI).
type osKeyring struct{}

func (osKeyring) Get(n string) (string, error) {
	if err := sessionbus.Reachable(); err != nil {
		return "", err
	}
	return keyring.Get(keyringService, n)
}

func (osKeyring) Set(n, s string) error {
	if err := sessionbus.Reachable(); err != nil {
		return err
	}
	return keyring.Set(keyringService, n, s)
}

func (osKeyring) Delete(n string) error {
	if err := sessionbus.Reachable(); err != nil {
		return err
	}
	return keyring.Delete(keyringService, n)
}

// Unlock gives a vault's passphrase for this session (scripts, no keyring).
// With remember, it is also stored in the OS keyring.
func (s *Service) Unlock(name, passphrase string, remember bool) error {
	r, err := s.remote(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.session[r.Name] = []byte(passphrase)
	delete(s.vaults, r.Name)
	s.mu.Unlock()
	if remember {
		if err := s.secrets.Set(r.Name, passphrase); err != nil {
			return fmt.Errorf("no OS keyring is running (%v): the passphrase is kept for this session only and was not written to disk", err)
		}
	}
	return nil
}

// passphrase finds a vault's passphrase: session, environment, keyring.
func (s *Service) passphrase(name string) ([]byte, string) {
	s.mu.Lock()
	p := s.session[name]
	s.mu.Unlock()
	if len(p) > 0 {
		return p, "session"
	}
	if env := os.Getenv("ATELIER_VAULT_PASSPHRASE"); env != "" {
		return []byte(env), "environment"
	}
	if v, err := s.secrets.Get(name); err == nil && v != "" {
		return []byte(v), "keyring"
	}
	return nil, "missing"
}

// keyringState says whether an OS keyring answers (checked once a minute).
func (s *Service) keyringState() string {
	s.mu.Lock()
	if time.Since(s.krAt) < time.Minute && s.krState != "" {
		defer s.mu.Unlock()
		return s.krState
	}
	s.mu.Unlock()
	st := "available"
	if _, err := s.secrets.Get("atelier-probe"); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		st = "unavailable: " + err.Error() + " (use ATELIER_VAULT_PASSPHRASE or --passphrase-file; Atelier does not write the secret to disk)"
	}
	s.mu.Lock()
	s.krState, s.krAt = st, time.Now()
	s.mu.Unlock()
	return st
}
