package syncsvc

import (
	"context"
	"fmt"
	"strings"

	"atelier/app/apierr"
	"atelier/sync/remote"
	"atelier/sync/vault"
)

func (s *Service) limiter(r Remote) *remote.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[r.Name]
	if l == nil {
		l = remote.NewLimiter(0)
		s.limiters[r.Name] = l
	}
	l.SetRate(r.BandwidthKBps * 1024)
	return l
}

func (s *Service) storage(ctx context.Context, r Remote) (remote.Storage, error) {
	o := remote.Options{CreateDir: strings.HasPrefix(r.URL, "file://")}
	if v, err := s.secrets.Get("s3:" + r.Name); err == nil && v != "" {
		k := strings.SplitN(v, "\n", 2)
		if len(k) == 2 {
			o.AccessKey, o.SecretKey = k[0], k[1]
		}
	}
	b, err := remote.Open(ctx, r.URL, o)
	if err != nil {
		return nil, err
	}
	return remote.Stack(b, remote.RetryPolicy{}, s.limiter(r), s.log.With("area", "sync")), nil
}

func (s *Service) vault(ctx context.Context, r Remote) (*vault.Vault, error) {
	s.mu.Lock()
	v := s.vaults[r.Name]
	s.mu.Unlock()
	if v != nil {
		s.limiter(r)
		return v, nil
	}
	st, err := s.storage(ctx, r)
	if err != nil {
		return nil, err
	}
	pass, _ := s.passphrase(r.Name)
	if len(pass) == 0 {
		return nil, apierr.WithUI(apierr.Errorf(apierr.InvalidInput, "the vault %s has no passphrase here: set it in the Sync view, with `atelier sync run --passphrase-file FILE`, or ATELIER_VAULT_PASSPHRASE (keyring: %s)", r.Name, s.keyringState()),
			fmt.Sprintf("The vault %s has no passphrase on this computer: enter it in the Sync view (keyring: %s).", r.Name, s.keyringState()))
	}
	set, _ := s.settings()
	v, err = vault.Init(ctx, vault.Options{
		Storage: st, State: s.syncState(r.Name), Passphrase: pass,
		Device: set.Device, Log: s.log.With("area", "sync", "remote", r.Name), Gate: s.gate, GOOS: s.goos,
		OnCorrupt: func(obj string, err error) {
			s.mu.Lock()
			s.problems = append(s.problems, fmt.Sprintf("%s: corrupt download of %s (fetched again): %v", r.Name, obj, err))
			if len(s.problems) > 50 {
				s.problems = s.problems[len(s.problems)-50:]
			}
			s.mu.Unlock()
		},
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.vaults[r.Name] = v
	s.mu.Unlock()
	return v, nil
}
