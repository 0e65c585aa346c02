package syncsvc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
	"atelier/sync/remote"
	"atelier/sync/vault"
)

// Remote is a configured sync target. Secrets (the vault passphrase, S3
// keys) live in the OS keyring, never here.
type Remote struct {
	Name          string    `json:"name"`
	URL           string    `json:"url"`  // redacted when shown
	Kind          string    `json:"kind"` // "vault" (private, encrypted) or "mirror" (plain files)
	BandwidthKBps int64     `json:"bandwidthKBps"`
	Default       bool      `json:"default"`
	Added         time.Time `json:"added"`
	// Shown, never stored: where the secrets come from.
	Passphrase string `json:"passphrase,omitempty"` // "keyring", "environment", "session", "missing"
	Keys       string `json:"keys,omitempty"`       // "keyring", "provider chain"
	// Warning, from RemoteAdd only: the remote was added, but something
	// needs the creator's attention (no keyring to keep the passphrase).
	Warning string `json:"warning,omitempty"`
}

// RemoteSpec adds a remote. Passphrase, AccessKey and SecretKey go to the
// OS keyring; where none runs, say so and use ATELIER_VAULT_PASSPHRASE.
type RemoteSpec struct {
	Name          string `json:"name"`
	URL           string `json:"url"`
	Kind          string `json:"kind"`
	Passphrase    string `json:"passphrase,omitempty"`
	AccessKey     string `json:"accessKey,omitempty"`
	SecretKey     string `json:"secretKey,omitempty"`
	BandwidthKBps int64  `json:"bandwidthKBps"`
	Default       bool   `json:"default"`
}

// RemoteTestResult is what RemoteTest found.
type RemoteTestResult struct {
	Name      string  `json:"name"`
	OK        bool    `json:"ok"`
	LatencyMs float64 `json:"latencyMs"`
	Vault     string  `json:"vault"` // "unlocked", "new", "locked: ...", "" for mirrors
	Error     string  `json:"error,omitempty"`
}

func (s *Service) ensureDefaultRemote() error {
	rs, err := s.remotes()
	if err != nil || len(rs) > 0 {
		return err
	}
	u := "file://" + filepath.ToSlash(filepath.Join(s.dataDir, "remote"))
	r := Remote{Name: "local", URL: u, Kind: "vault", Default: true, Added: time.Now().UTC()}
	return s.db.Update(func(tx *localdb.Tx) error { return syncRemotes.Put(tx, r.Name, r) })
}

func (s *Service) remotes() ([]Remote, error) {
	var out []Remote
	err := s.db.View(func(tx *localdb.Tx) error {
		return syncRemotes.Scan(tx, "", func(_ string, r Remote) error { out = append(out, r); return nil })
	})
	return out, err
}

func (s *Service) remote(name string) (Remote, error) {
	rs, err := s.remotes()
	if err != nil {
		return Remote{}, err
	}
	for _, r := range rs {
		if r.Name == name || (name == "" && r.Default) {
			return r, nil
		}
	}
	if name == "" && len(rs) > 0 {
		return rs[0], nil
	}
	return Remote{}, apierr.Errorf(apierr.NotFound, "no remote %q: see `atelier remote list`, add one with `atelier remote add NAME URL`", name)
}

var remoteNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// RemoteAdd configures a remote (and, for a vault, creates or unlocks it).
func (s *Service) RemoteAdd(spec RemoteSpec) (Remote, error) {
	if !remoteNameRe.MatchString(spec.Name) {
		return Remote{}, apierr.Errorf(apierr.InvalidInput, "remote name %q: use letters, digits, '.', '_' or '-' (up to 63)", spec.Name)
	}
	if spec.Kind == "" {
		spec.Kind = "vault"
	}
	if spec.Kind != "vault" && spec.Kind != "mirror" {
		return Remote{}, apierr.Errorf(apierr.InvalidInput, "remote kind %q: use vault (private, encrypted) or mirror (plain files for a website)", spec.Kind)
	}
	if u, err := url.Parse(spec.URL); err != nil || u.User != nil || strings.Contains(remote.Redact(spec.URL), "REDACTED") {
		return Remote{}, apierr.Errorf(apierr.InvalidInput, "put no secrets in the remote URL: give --access-key/--secret-key (kept in the OS keyring) or use the provider's environment variables")
	}
	if _, err := s.remote(spec.Name); err == nil {
		return Remote{}, apierr.Errorf(apierr.Conflict, "a remote named %s exists: remove it first or pick another name", spec.Name)
	}
	r := Remote{Name: spec.Name, URL: spec.URL, Kind: spec.Kind, BandwidthKBps: spec.BandwidthKBps, Default: spec.Default, Added: time.Now().UTC()}
	if spec.AccessKey != "" {
		if err := s.secrets.Set("s3:"+spec.Name, spec.AccessKey+"\n"+spec.SecretKey); err != nil {
			return Remote{}, fmt.Errorf("store the access key of %s: no OS keyring is available (%v); use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead", spec.Name, err)
		}
	}
	if r.Kind == "vault" && spec.Passphrase != "" && s.consent("sync.cloud") {
		// Unlock (or create) the vault before anything is saved: a wrong
		// passphrase or an unreachable remote adds nothing.
		s.mu.Lock()
		s.session[r.Name] = []byte(spec.Passphrase)
		s.mu.Unlock()
		_, err := s.vault(s.host.Context(), r)
		s.mu.Lock()
		delete(s.session, r.Name)
		delete(s.vaults, r.Name)
		s.mu.Unlock()
		if err != nil {
			if spec.AccessKey != "" {
				s.secrets.Delete("s3:" + spec.Name)
			}
			return Remote{}, err
		}
	}
	var warn string
	if spec.Passphrase != "" {
		if err := s.secrets.Set(spec.Name, spec.Passphrase); err != nil {
			warn = fmt.Sprintf("no OS keyring is running (%v): the passphrase is kept for this session only and was not written to disk; set ATELIER_VAULT_PASSPHRASE or use --passphrase-file on later runs", err)
			s.mu.Lock()
			s.session[spec.Name] = []byte(spec.Passphrase)
			s.mu.Unlock()
		}
	}
	if err := s.db.Update(func(tx *localdb.Tx) error {
		if r.Default {
			if err := syncRemotes.Scan(tx, "", func(k string, o Remote) error {
				if o.Default {
					o.Default = false
					return syncRemotes.Put(tx, k, o)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return syncRemotes.Put(tx, r.Name, r)
	}); err != nil {
		return Remote{}, err
	}
	s.log.Info("remote added", "remote", r.Name, "url", remote.Redact(r.URL), "kind", r.Kind)
	s.emitStatus()
	out := s.describe(r)
	out.Warning = warn
	return out, nil
}

func (s *Service) describe(r Remote) Remote {
	r.URL = remote.Redact(r.URL)
	if r.Kind == "vault" {
		_, src := s.passphrase(r.Name)
		r.Passphrase = src
	}
	if strings.HasPrefix(r.URL, "s3:") {
		r.Keys = "provider chain"
		if v, err := s.secrets.Get("s3:" + r.Name); err == nil && v != "" {
			r.Keys = "keyring"
		}
	}
	return r
}

// RemoteList lists the remotes (URLs without secrets).
func (s *Service) RemoteList() ([]Remote, error) {
	rs, err := s.remotes()
	out := make([]Remote, 0, len(rs))
	for _, r := range rs {
		out = append(out, s.describe(r))
	}
	return out, err
}

// RemoteSetLimit changes a remote's bandwidth limit in KiB/s (0: no limit).
// Transfers under way follow the new limit at once.
func (s *Service) RemoteSetLimit(name string, kibps int64) (Remote, error) {
	if kibps < 0 {
		return Remote{}, apierr.Errorf(apierr.InvalidInput, "bandwidth limit %d KiB/s: give 0 (no limit) or a positive number", kibps)
	}
	r, err := s.remote(name)
	if err != nil {
		return Remote{}, err
	}
	r.BandwidthKBps = kibps
	if err := s.db.Update(func(tx *localdb.Tx) error { return syncRemotes.Put(tx, r.Name, r) }); err != nil {
		return Remote{}, err
	}
	s.limiter(r)
	s.log.Info("remote bandwidth limit", "remote", r.Name, "kibps", kibps)
	s.emitStatus()
	return s.describe(r), nil
}

// RemoteRemove forgets a remote, its keyring entries and its local state.
// The data on the remote is not touched.
func (s *Service) RemoteRemove(name string) error {
	r, err := s.remote(name)
	if err != nil {
		return err
	}
	s.secrets.Delete(r.Name)
	s.secrets.Delete("s3:" + r.Name)
	s.mu.Lock()
	delete(s.vaults, r.Name)
	delete(s.session, r.Name)
	s.mu.Unlock()
	if err := s.db.Update(func(tx *localdb.Tx) error { return syncRemotes.Delete(tx, r.Name) }); err != nil {
		return err
	}
	s.emitStatus()
	return s.db.DropPrefix(syncStatePrefix(r.Name))
}

// RemoteTest checks that a remote answers (write, read, delete a probe) and
// that its vault unlocks: with passphrase when one is given (`remote test
// --passphrase-file`; it is only tried, never kept, so a wrong one does not
// replace the passphrase this session syncs with), else with the one this
// device has (session, environment, keyring).
func (s *Service) RemoteTest(name, passphrase string) (RemoteTestResult, error) {
	r, err := s.remote(name)
	if err != nil {
		return RemoteTestResult{}, err
	}
	res := RemoteTestResult{Name: r.Name}
	if err := s.needConsent(); err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(s.host.Context(), 30*time.Second)
	defer cancel()
	st, err := s.storage(ctx, r)
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	start := time.Now()
	key := "atelier-test/" + fmt.Sprint(time.Now().UnixNano())
	if err := st.Put(ctx, key, []byte("atelier remote test"), remote.PutOptions{ContentType: "text/plain"}); err != nil {
		res.Error = err.Error()
		return res, nil
	}
	if b, err := st.Get(ctx, key); err != nil || string(b) != "atelier remote test" {
		res.Error = fmt.Sprintf("read back the probe %s: %v", key, err)
		return res, nil
	}
	st.Delete(ctx, key)
	res.LatencyMs = float64(time.Since(start).Microseconds()) / 3000
	res.OK = true
	if r.Kind == "vault" {
		var err error
		if passphrase != "" {
			_, err = vault.Open(ctx, vault.Options{Storage: st, Passphrase: []byte(passphrase), Log: s.log.With("area", "sync", "remote", r.Name)})
			if errors.Is(err, vault.ErrNoVault) {
				res.Vault = "new: the first sync creates it with this passphrase"
				return res, nil
			}
		} else {
			_, err = s.vault(ctx, r)
		}
		if err != nil {
			res.Vault = "locked: " + err.Error()
			res.OK = false
		} else {
			res.Vault = "unlocked"
		}
	}
	return res, nil
}
