package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"atelier/app/apierr"
	"atelier/app/index"
	"atelier/app/sessionbus"
	"atelier/humanize"
	"atelier/localdb"
	"atelier/progress"
	"atelier/sync/remote"
	"atelier/sync/rules"
	"atelier/sync/target"
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

// SyncRules is a project's selection and target.
type SyncRules struct {
	Project string `json:"project"`
	Enabled bool   `json:"enabled"` // background sync on
	Remote  string `json:"remote"`  // "" = the default remote
	rules.Rules
}

// PreviewNode is a folder in the selection preview.
type PreviewNode struct {
	Name          string         `json:"name"`
	Path          string         `json:"path"`
	Files         int            `json:"files"`
	Bytes         int64          `json:"bytes"`
	SelectedFiles int            `json:"selectedFiles"`
	SelectedBytes int64          `json:"selectedBytes"`
	Children      []*PreviewNode `json:"children,omitempty"`
}

// SyncPreview is how much of a project the rules select.
type SyncPreview struct {
	Project       string       `json:"project"`
	Files         int          `json:"files"`
	Bytes         int64        `json:"bytes"`
	SelectedFiles int          `json:"selectedFiles"`
	SelectedBytes int64        `json:"selectedBytes"`
	Pending       int          `json:"pending"` // outbox entries waiting
	Tree          *PreviewNode `json:"tree"`
}

// SyncRunResult is one Run over one or more projects.
type SyncRunResult struct {
	Projects []ProjectRun `json:"projects"`
}

// ProjectRun is what a run did to one project.
type ProjectRun struct {
	Project    string           `json:"project"`
	Remote     string           `json:"remote"`
	Kind       string           `json:"kind"`
	Snapshot   string           `json:"snapshot,omitempty"`
	Seq        int64            `json:"seq,omitempty"`
	NoChange   bool             `json:"noChange"`
	Uploaded   int              `json:"uploaded"`
	Pulled     int              `json:"pulled"`
	Deleted    int              `json:"deleted"`
	Conflicts  []vault.Conflict `json:"conflicts"`
	Skipped    []vault.Skip     `json:"skipped,omitempty"` // files of the vault not written here, and why
	BytesSent  int64            `json:"bytesSent"`
	BytesNew   int64            `json:"bytesNew"`
	BytesDedup int64            `json:"bytesDeduped"`
	Selected   int              `json:"selected"`
	Started    time.Time        `json:"started"`
	DurationMs int64            `json:"durationMs"`
	Error      string           `json:"error,omitempty"`
	// Repaired are files whose data `sync verify` found lost and this run
	// uploaded again; Damaged are those still lost in the vault, and why.
	Repaired    []string        `json:"repaired,omitempty"`
	Damaged     []vault.Damaged `json:"damaged,omitempty"`
	FinishedRun bool            `json:"-"`
}

// SyncProgress is the "syncProgress" event: the common progress fields plus
// the sync detail.
type SyncProgress struct {
	Project string `json:"project"`
	progress.Progress
	Detail vault.Progress `json:"detail"`
}

// ProjectSyncStatus is one project's sync state.
type ProjectSyncStatus struct {
	Project  string        `json:"project"`
	Enabled  bool          `json:"enabled"`
	Remote   string        `json:"remote"`
	Pending  int           `json:"pending"`
	LastSnap string        `json:"lastSnapshot,omitempty"`
	LastSeq  int64         `json:"lastSeq,omitempty"`
	LastSync time.Time     `json:"lastSync"`
	LastRun  *ProjectRun   `json:"lastRun,omitempty"`
	Progress *SyncProgress `json:"progress,omitempty"`
}

// SyncStatus is the whole sync picture.
type SyncStatus struct {
	Device    string              `json:"device"`
	Consent   bool                `json:"consent"`
	Paused    bool                `json:"paused"`
	Running   bool                `json:"running"`
	Keyring   string              `json:"keyring"` // "available" or why not
	Remotes   []Remote            `json:"remotes"`
	Projects  []ProjectSyncStatus `json:"projects"`
	Conflicts int                 `json:"conflicts"`
	Problems  []string            `json:"problems"`
}

// SnapshotInfo is one version in a project's history.
type SnapshotInfo struct {
	ID      string    `json:"id"`
	Seq     int64     `json:"seq"`
	Device  string    `json:"device"`
	Time    time.Time `json:"time"`
	Files   int       `json:"files"`
	Bytes   int64     `json:"bytes"`
	Pruned  bool      `json:"pruned"`
	Current bool      `json:"current"` // the one this device has
}

type syncSettings struct {
	Device    string          `json:"device"`
	Paused    bool            `json:"paused"`
	Retention vault.Retention `json:"retention"`
}

var (
	syncRemotes   = localdb.NewTable[Remote](syncKeys.remote)
	syncRules     = localdb.NewTable[SyncRules](syncKeys.rules)
	syncConflicts = localdb.NewTable[vault.Conflict](syncKeys.conflict)
	syncSettingsT = localdb.NewTable[syncSettings](syncKeys.settings)
	syncRuns      = localdb.NewTable[ProjectRun](syncKeys.lastRun)
)

// SyncProgressEvent carries SyncProgress.
const SyncProgressEvent = "syncProgress"

// SyncEvent carries SyncStatus after a run, a pause or a change of remotes.
const SyncEvent = "sync"

const keyringService = "atelier-vault"

// secretStore is the OS keyring (tests swap it).
type secretStore interface {
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

// SyncService pushes selected files to cloud remotes and restores them.
type SyncService struct {
	e       *Engine
	secrets secretStore
	gate    *vault.Gate
	consent func(purpose string) bool
	goos    string // file-name rules of files written here ("": this platform; tests)

	notifyMu    sync.Mutex
	lastFailure map[string]string // project -> last background error notified

	mu       sync.Mutex
	session  map[string][]byte // passphrases given this session (Unlock, no keyring)
	vaults   map[string]*vault.Vault
	limiters map[string]*remote.Limiter
	progress map[string]*SyncProgress
	problems []string
	running  bool
	krState  string
	krAt     time.Time

	runMu    sync.Mutex // one run at a time
	kick     chan struct{}
	emitProg func()
}

func newSyncService(e *Engine) (*SyncService, error) {
	if err := e.DB.Migrate("sync", []localdb.Migration{{Version: 1, Name: "remotes, rules, outbox and vault state"}}); err != nil {
		return nil, err
	}
	s := &SyncService{e: e, secrets: osKeyring{}, gate: &vault.Gate{}, session: map[string][]byte{}, vaults: map[string]*vault.Vault{},
		limiters: map[string]*remote.Limiter{}, progress: map[string]*SyncProgress{}, kick: make(chan struct{}, 1)}
	s.consent = func(p string) bool { return e.Privacy.granted(p) }
	s.emitProg = throttled(e, 250*time.Millisecond, func() {
		s.mu.Lock()
		var last *SyncProgress
		for _, p := range s.progress {
			if last == nil || p.Project < last.Project {
				cp := *p
				last = &cp
			}
		}
		s.mu.Unlock()
		if last != nil {
			e.Emit(SyncProgressEvent, last)
		}
	})
	st, _ := s.settings()
	if st.Paused {
		s.gate.Pause()
	}
	if err := s.ensureDefaultRemote(); err != nil {
		return nil, err
	}
	e.Privacy.onErase("sync.cloud", func(ctx context.Context) error {
		for _, p := range syncErasable() {
			if err := e.DB.DropPrefix(p); err != nil {
				return err
			}
		}
		return nil
	})
	return s, nil
}

func (s *SyncService) start(ctx context.Context) {
	s.e.Go(func(ctx context.Context) { s.loop(ctx) })
}

func (s *SyncService) close() error { return nil }

// loop runs the outbox: soon after changes arrive, and every few minutes to
// pick up other devices' changes.
func (s *SyncService) loop(ctx context.Context) {
	const settle = 3 * time.Second
	periodic := time.NewTicker(10 * time.Minute)
	defer periodic.Stop()
	s.pokeIfPending()
	for {
		all := false
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(settle):
			}
		case <-periodic.C:
			all = true
		}
		if !s.consent("sync.cloud") || s.gate.Paused() {
			continue
		}
		projects, err := s.backgroundProjects(all)
		if err != nil {
			s.e.Log.Warn("sync: list projects", "err", err)
			continue
		}
		for _, p := range projects {
			if ctx.Err() != nil {
				return
			}
			// The watcher keeps the index live here: no extra pass.
			if _, err := s.runProject(ctx, p, false); err != nil && ctx.Err() == nil {
				s.e.Log.Warn("background sync failed", "project", p, "err", err)
				s.notifyFailure(p, err)
			}
		}
	}
}

// notifyFailure tells the creator once per distinct error that background
// sync of a project is failing (a remote down, a lost passphrase), instead of
// failing silently on every retry.
func (s *SyncService) notifyFailure(project string, err error) {
	s.notifyMu.Lock()
	if s.lastFailure == nil {
		s.lastFailure = map[string]string{}
	}
	same := s.lastFailure[project] == err.Error()
	s.lastFailure[project] = err.Error()
	s.notifyMu.Unlock()
	if !same {
		s.e.Notify("Sync is failing", fmt.Sprintf("%s: %v", project, err))
	}
}

func (s *SyncService) pokeIfPending() {
	n := 0
	s.e.DB.View(func(tx *localdb.Tx) error {
		return syncOutbox.Keys(tx, "", func(string) error { n++; return localdb.ErrStop })
	})
	if n > 0 {
		s.poke()
	}
}

func (s *SyncService) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// backgroundProjects are enabled projects with pending changes (all enabled
// ones when all).
func (s *SyncService) backgroundProjects(all bool) ([]string, error) {
	pending := map[string]bool{}
	var out []string
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		if err := syncOutbox.Keys(tx, "", func(k string) error {
			pending[strings.SplitN(k, "/", 2)[0]] = true
			return nil
		}); err != nil {
			return err
		}
		return syncRules.Scan(tx, "", func(k string, r SyncRules) error {
			if r.Enabled && (all || pending[k]) {
				out = append(out, k)
			}
			return nil
		})
	})
	return out, err
}

// consider adds a change to the outbox when the project's rules select it.
func (s *SyncService) consider(changes []index.Change) {
	// One rules read and compile per project, and one transaction per
	// outboxBatch entries: an initial index of 100,000 files used to cost a
	// read, a gitignore compile and a commit per file.
	type selection struct {
		m  *rules.Matcher
		ok bool
	}
	sel := map[string]selection{}
	now := time.Now().UTC()
	var puts []outboxItem
	for _, c := range changes {
		project := string(c.Record.Project)
		sl, seen := sel[project]
		if !seen {
			if r, ok := s.rulesOf(project); ok && r.Enabled {
				if m, err := rules.Compile(r.Rules); err == nil {
					sl = selection{m: m, ok: true}
				}
			}
			sel[project] = sl
		}
		if !sl.ok {
			continue
		}
		// A deleted or renamed-away file may have been selected before.
		if !sl.m.Match(c.Record.Path, string(c.Record.Kind), c.Record.Size) && c.Op != index.OpDelete && c.Op != index.OpRename {
			continue
		}
		if c.Op == index.OpRename && c.From != "" {
			puts = append(puts, outboxItem{project, c.From})
		}
		puts = append(puts, outboxItem{project, c.Record.Path})
	}
	if len(puts) == 0 {
		return
	}
	if n, first, err := s.outbox().mark(puts, now); err != nil {
		s.e.Log.Warn("sync outbox", "entries", n, "first", first, "err", err)
		return
	}
	s.poke()
}

func (s *SyncService) settings() (syncSettings, error) {
	var st syncSettings
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		v, ok, err := syncSettingsT.Get(tx, "main")
		if ok {
			st = v
		}
		return err
	})
	if st.Device == "" {
		h, _ := os.Hostname()
		if h == "" {
			h = "this computer"
		}
		st.Device = h
	}
	if st.Retention == (vault.Retention{}) {
		st.Retention = vault.DefaultRetention
	}
	return st, err
}

func (s *SyncService) putSettings(fn func(*syncSettings)) error {
	st, err := s.settings()
	if err != nil {
		return err
	}
	fn(&st)
	return s.e.DB.Update(func(tx *localdb.Tx) error { return syncSettingsT.Put(tx, "main", st) })
}

func (s *SyncService) ensureDefaultRemote() error {
	rs, err := s.remotes()
	if err != nil || len(rs) > 0 {
		return err
	}
	u := "file://" + filepath.ToSlash(filepath.Join(s.e.Dirs.Data, "remote"))
	r := Remote{Name: "local", URL: u, Kind: "vault", Default: true, Added: time.Now().UTC()}
	return s.e.DB.Update(func(tx *localdb.Tx) error { return syncRemotes.Put(tx, r.Name, r) })
}

func (s *SyncService) remotes() ([]Remote, error) {
	var out []Remote
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		return syncRemotes.Scan(tx, "", func(_ string, r Remote) error { out = append(out, r); return nil })
	})
	return out, err
}

func (s *SyncService) remote(name string) (Remote, error) {
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
func (s *SyncService) RemoteAdd(spec RemoteSpec) (Remote, error) {
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
		_, err := s.vault(s.e.Context(), r)
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
	if err := s.e.DB.Update(func(tx *localdb.Tx) error {
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
	s.e.Log.Info("remote added", "remote", r.Name, "url", remote.Redact(r.URL), "kind", r.Kind)
	s.emitStatus()
	out := s.describe(r)
	out.Warning = warn
	return out, nil
}

func (s *SyncService) describe(r Remote) Remote {
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
func (s *SyncService) RemoteList() ([]Remote, error) {
	rs, err := s.remotes()
	out := make([]Remote, 0, len(rs))
	for _, r := range rs {
		out = append(out, s.describe(r))
	}
	return out, err
}

// RemoteSetLimit changes a remote's bandwidth limit in KiB/s (0: no limit).
// Transfers under way follow the new limit at once.
func (s *SyncService) RemoteSetLimit(name string, kibps int64) (Remote, error) {
	if kibps < 0 {
		return Remote{}, apierr.Errorf(apierr.InvalidInput, "bandwidth limit %d KiB/s: give 0 (no limit) or a positive number", kibps)
	}
	r, err := s.remote(name)
	if err != nil {
		return Remote{}, err
	}
	r.BandwidthKBps = kibps
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return syncRemotes.Put(tx, r.Name, r) }); err != nil {
		return Remote{}, err
	}
	s.limiter(r)
	s.e.Log.Info("remote bandwidth limit", "remote", r.Name, "kibps", kibps)
	s.emitStatus()
	return s.describe(r), nil
}

// RemoteRemove forgets a remote, its keyring entries and its local state.
// The data on the remote is not touched.
func (s *SyncService) RemoteRemove(name string) error {
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
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return syncRemotes.Delete(tx, r.Name) }); err != nil {
		return err
	}
	s.emitStatus()
	return s.e.DB.DropPrefix(syncStatePrefix(r.Name))
}

// RemoteTest checks that a remote answers (write, read, delete a probe) and
// that its vault unlocks: with passphrase when one is given (`remote test
// --passphrase-file`; it is only tried, never kept, so a wrong one does not
// replace the passphrase this session syncs with), else with the one this
// device has (session, environment, keyring).
func (s *SyncService) RemoteTest(name, passphrase string) (RemoteTestResult, error) {
	r, err := s.remote(name)
	if err != nil {
		return RemoteTestResult{}, err
	}
	res := RemoteTestResult{Name: r.Name}
	if err := s.needConsent(); err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(s.e.Context(), 30*time.Second)
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
			_, err = vault.Open(ctx, vault.Options{Storage: st, Passphrase: []byte(passphrase), Log: s.e.Log.With("area", "sync", "remote", r.Name)})
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

// Unlock gives a vault's passphrase for this session (scripts, no keyring).
// With remember, it is also stored in the OS keyring.
func (s *SyncService) Unlock(name, passphrase string, remember bool) error {
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

// SetDevice names this computer in conflict copies and history.
func (s *SyncService) SetDevice(name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/\\\x00") {
		return apierr.Errorf(apierr.InvalidInput, "device name %q: use up to 64 characters without slashes", name)
	}
	return s.putSettings(func(st *syncSettings) { st.Device = name })
}

// passphrase finds a vault's passphrase: session, environment, keyring.
func (s *SyncService) passphrase(name string) ([]byte, string) {
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
func (s *SyncService) keyringState() string {
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

func (s *SyncService) needConsent() error {
	if !s.consent("sync.cloud") {
		return apierr.WithUI(apierr.Errorf(apierr.NeedsConsent, "sync is off: it needs your consent to send files to cloud storage (grant \"sync.cloud\" in the Privacy view or with `atelier consent grant sync.cloud`)"),
			"Sync is off: it needs your consent to send files to cloud storage. Grant “Sync to cloud storage” in the Privacy view.")
	}
	return nil
}

func (s *SyncService) limiter(r Remote) *remote.Limiter {
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

func (s *SyncService) storage(ctx context.Context, r Remote) (remote.Storage, error) {
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
	return remote.Stack(b, remote.RetryPolicy{}, s.limiter(r), s.e.Log.With("area", "sync")), nil
}

func (s *SyncService) vault(ctx context.Context, r Remote) (*vault.Vault, error) {
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
		Device: set.Device, Log: s.e.Log.With("area", "sync", "remote", r.Name), Gate: s.gate, GOOS: s.goos,
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

func (s *SyncService) rulesOf(project string) (SyncRules, bool) {
	var r SyncRules
	var ok bool
	s.e.DB.View(func(tx *localdb.Tx) error {
		var err error
		r, ok, err = syncRules.Get(tx, project)
		return err
	})
	r.Project = project
	return r, ok
}

// projectID resolves a project reference; an unknown one is taken as the
// vault's project name (restoring onto a new machine).
func (s *SyncService) projectID(ref string) (string, string, bool) {
	root, err := s.e.Projects.root(ref)
	if err != nil {
		return ref, "", false
	}
	ps, _ := s.e.Projects.List()
	for _, p := range ps {
		if p.Root == root {
			return string(p.ID), root, true
		}
	}
	return ref, root, true
}

// Rules returns a project's selection (everything, not enabled, when unset).
func (s *SyncService) Rules(project string) (SyncRules, error) {
	id, _, ok := s.projectID(project)
	if !ok {
		return SyncRules{}, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	r, _ := s.rulesOf(id)
	return r, nil
}

// SetRules sets a project's selection and target.
func (s *SyncService) SetRules(project string, r SyncRules) error {
	id, _, ok := s.projectID(project)
	if !ok {
		return apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	if _, err := rules.Compile(r.Rules); err != nil {
		return err
	}
	if r.Remote != "" {
		if _, err := s.remote(r.Remote); err != nil {
			return err
		}
	}
	r.Project = id
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return syncRules.Put(tx, id, r) }); err != nil {
		return err
	}
	if r.Enabled {
		// Queue everything the new rules select; the run compares with the
		// last snapshot, so unchanged files cost nothing.
		s.outbox().mark([]outboxItem{{id, ""}}, time.Now().UTC())
		s.poke()
	}
	s.emitStatus()
	return nil
}

// Preview shows how much of a project the rules select, as a folder tree.
func (s *SyncService) Preview(project string) (SyncPreview, error) {
	id, _, ok := s.projectID(project)
	if !ok {
		return SyncPreview{}, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	r, _ := s.rulesOf(id)
	m, err := rules.Compile(r.Rules)
	if err != nil {
		return SyncPreview{}, err
	}
	files, err := s.e.Projects.Files(id, "")
	if err != nil {
		return SyncPreview{}, err
	}
	pv := SyncPreview{Project: id, Tree: &PreviewNode{Name: id, Path: ""}}
	dirs := map[string]*PreviewNode{"": pv.Tree}
	var node func(p string) *PreviewNode
	node = func(p string) *PreviewNode {
		if n := dirs[p]; n != nil {
			return n
		}
		parent := node(parentDir(p))
		n := &PreviewNode{Name: path.Base(p), Path: p}
		parent.Children = append(parent.Children, n)
		dirs[p] = n
		return n
	}
	for _, f := range files {
		sel := m.Match(f.Path, string(f.Kind), f.Size)
		pv.Files++
		pv.Bytes += f.Size
		if sel {
			pv.SelectedFiles++
			pv.SelectedBytes += f.Size
		}
		for d := parentDir(f.Path); ; d = parentDir(d) {
			n := node(d)
			n.Files++
			n.Bytes += f.Size
			if sel {
				n.SelectedFiles++
				n.SelectedBytes += f.Size
			}
			if d == "" {
				break
			}
		}
	}
	for _, n := range dirs {
		sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Name < n.Children[j].Name })
	}
	pv.Pending = s.pending(id)
	return pv, nil
}

func parentDir(p string) string {
	d := path.Dir(p)
	if d == "." || d == "/" {
		return ""
	}
	return d
}

func (s *SyncService) pending(project string) int { return s.outbox().pending(project) }

// Run syncs project now ("" = every enabled project): reconciles the
// project with its folder first (an edit made while no engine watched is
// pushed), pushes what changed, pulls other devices' changes, keeps
// conflict copies. It stops when ctx ends (the CLI's Ctrl-C, an API caller
// that went away) or the engine closes, with context.Canceled and nothing
// committed that the run had not finished.
func (s *SyncService) Run(ctx context.Context, project string) (SyncRunResult, error) {
	ctx, done := s.e.callContext(ctx)
	defer done()
	res := SyncRunResult{Projects: []ProjectRun{}}
	if err := s.needConsent(); err != nil {
		return res, err
	}
	var projects []string
	if project != "" {
		id, _, ok := s.projectID(project)
		if !ok {
			return res, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
		}
		projects = []string{id}
	} else {
		var err error
		if projects, err = s.backgroundProjects(true); err != nil {
			return res, err
		}
		if len(projects) == 0 {
			return res, apierr.Errorf(apierr.InvalidInput, "no project has sync enabled: choose what to sync with `atelier sync rules PROJECT --enable` or in the Sync view, or run `atelier sync run PROJECT`")
		}
	}
	var firstErr error
	for _, p := range projects {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		pr, err := s.runProject(ctx, p, true)
		res.Projects = append(res.Projects, pr)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return res, firstErr
}

// runProject runs one project; fresh reconciles its index with the disk first.
func (s *SyncService) runProject(ctx context.Context, project string, fresh bool) (ProjectRun, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		delete(s.progress, project)
		s.mu.Unlock()
		s.emitStatus()
	}()
	started := time.Now().UTC()
	pr := ProjectRun{Project: project, Started: started, Conflicts: []vault.Conflict{}}
	err := s.doRun(ctx, project, &pr, fresh)
	pr.DurationMs = time.Since(started).Milliseconds()
	if err != nil {
		pr.Error = err.Error()
	}
	s.e.DB.Update(func(tx *localdb.Tx) error { return syncRuns.Put(tx, project, pr) })
	result := "ok"
	switch {
	case errors.Is(err, context.Canceled):
		result = "cancelled"
	case err != nil:
		result = "error"
	case len(pr.Conflicts) > 0:
		result = "conflict"
	}
	scheme := "other"
	if rm, rerr := s.remote(pr.Remote); rerr == nil {
		if u, perr := url.Parse(rm.URL); perr == nil {
			switch u.Scheme {
			case "s3", "gs", "azblob", "file":
				scheme = u.Scheme
			}
		}
	}
	s.e.Privacy.record("sync.run", map[string]any{"remote": scheme, "direction": "push", "files": pr.Uploaded + pr.Pulled,
		"bytes": pr.BytesSent, "ms": pr.DurationMs, "result": result, "ok": err == nil})
	for range pr.Conflicts {
		s.e.Privacy.record("sync.conflict", nil)
	}
	if err == nil {
		if _, ok := s.rulesOf(project); !ok {
			// Run by hand: list the project in the status from now on.
			s.e.DB.Update(func(tx *localdb.Tx) error { return syncRules.Put(tx, project, SyncRules{Project: project}) })
		}
	}
	return pr, err
}

// job is what a run of project works from: its remote and the files the
// rules select, from an index reconciled with the disk first when fresh.
func (s *SyncService) job(ctx context.Context, project string, fresh bool) (Remote, vault.Job, error) {
	r, _ := s.rulesOf(project)
	rm, err := s.remote(r.Remote)
	if err != nil {
		return rm, vault.Job{}, err
	}
	m, err := rules.Compile(r.Rules)
	if err != nil {
		return rm, vault.Job{}, err
	}
	root, err := s.e.Projects.root(project)
	if err != nil {
		return rm, vault.Job{}, err
	}
	if fresh {
		if err := s.e.Projects.reconcile(ctx, project); err != nil {
			return rm, vault.Job{}, err
		}
	}
	recs, err := s.e.Projects.Files(project, "")
	if err != nil {
		return rm, vault.Job{}, err
	}
	files := make([]vault.LocalFile, 0, len(recs))
	for _, f := range recs {
		if m.Match(f.Path, string(f.Kind), f.Size) {
			files = append(files, vault.LocalFile{Path: f.Path, Size: f.Size, ModTime: f.ModTime, Mode: f.Mode, SHA256: f.SHA256})
		}
	}
	return rm, vault.Job{
		Project: project, Root: root, Files: files,
		Selected: func(p string, size int64) bool { return m.Match(p, string(index.KindOf(p)), size) },
		Progress: func(p vault.Progress) { s.setProgress(project, p) },
	}, nil
}

func (s *SyncService) doRun(ctx context.Context, project string, pr *ProjectRun, fresh bool) error {
	rm, job, err := s.job(ctx, project, fresh)
	pr.Remote, pr.Kind = rm.Name, rm.Kind
	if err != nil {
		return err
	}
	// After the index was read (and reconciled): what was queued until now
	// is in this run.
	cutoff := time.Now().UTC()
	pr.Selected = len(job.Files)
	if err := s.target(rm).sync(ctx, job, pr); err != nil {
		return err
	}
	for _, sk := range pr.Skipped {
		s.e.Log.Warn("sync: file not written on this device", "project", project, "path", sk.Path, "reason", sk.Reason)
	}
	if len(pr.Conflicts) > 0 {
		s.e.DB.Update(func(tx *localdb.Tx) error {
			for _, c := range pr.Conflicts {
				if err := syncConflicts.Put(tx, c.Project+"/"+c.Copy, c); err != nil {
					return err
				}
			}
			return nil
		})
		s.e.Notify("Sync conflict", fmt.Sprintf("%d file(s) in %s changed on two devices; both versions were kept", len(pr.Conflicts), project))
	}
	// The snapshot referencing everything queued before the run is committed:
	// only now do those outbox entries go.
	return s.outbox().clear(project, cutoff)
}

func (s *SyncService) setProgress(project string, p vault.Progress) {
	sp := &SyncProgress{Project: project, Detail: p}
	sp.Done, sp.Total, sp.Unit = p.BytesDone, p.BytesTotal, "bytes"
	switch p.Phase {
	case "upload":
		eta := ""
		if p.ETASeconds >= 0 {
			eta = fmt.Sprintf(", about %s left", (time.Duration(p.ETASeconds+0.999) * time.Second).String())
		}
		sp.Note = fmt.Sprintf("%s: %d of %d files, %s new and %s already in the vault%s", project, p.FilesDone, p.FilesTotal, humanize.Bytes(p.BytesNew), humanize.Bytes(p.BytesDeduped), eta)
	case "download":
		sp.Note = fmt.Sprintf("%s: fetching %d files from other devices", project, p.FilesTotal)
	default:
		sp.Note = project + ": " + p.Phase
	}
	if p.Paused {
		sp.Note += " (paused)"
	}
	s.mu.Lock()
	s.progress[project] = sp
	s.mu.Unlock()
	s.emitProg()
}

// Status reports remotes, projects, progress, conflicts and problems.
func (s *SyncService) Status() (SyncStatus, error) {
	set, _ := s.settings()
	st := SyncStatus{Device: set.Device, Consent: s.consent("sync.cloud"), Paused: s.gate.Paused(), Keyring: s.keyringState(), Projects: []ProjectSyncStatus{}, Problems: []string{}}
	var err error
	if st.Remotes, err = s.RemoteList(); err != nil {
		return st, err
	}
	s.mu.Lock()
	st.Running = s.running
	st.Problems = append(st.Problems, s.problems...)
	prog := map[string]SyncProgress{}
	for k, v := range s.progress {
		prog[k] = *v
	}
	s.mu.Unlock()
	err = s.e.DB.View(func(tx *localdb.Tx) error {
		if err := syncConflicts.Keys(tx, "", func(string) error { st.Conflicts++; return nil }); err != nil {
			return err
		}
		return syncRules.Scan(tx, "", func(k string, r SyncRules) error {
			ps := ProjectSyncStatus{Project: k, Enabled: r.Enabled, Remote: r.Remote}
			if lr, ok, _ := syncRuns.Get(tx, k); ok {
				ps.LastRun = &lr
				if lr.Error == "" {
					ps.LastSync = lr.Started
				}
			}
			if p, ok := prog[k]; ok {
				ps.Progress = &p
			}
			st.Projects = append(st.Projects, ps)
			return nil
		})
	})
	for i := range st.Projects {
		p := &st.Projects[i]
		p.Pending = s.pending(p.Project)
		if rm, err := s.remote(p.Remote); err == nil {
			p.Remote = rm.Name
			if h, ok, _ := vault.LocalHead(s.syncState(rm.Name), p.Project); ok {
				p.LastSnap, p.LastSeq = h.Snapshot, h.Seq
			}
		}
	}
	return st, err
}

// Pause stops transfers (the one under way finishes its current pack) and
// background runs until Resume; it survives restarts.
func (s *SyncService) Pause() error {
	s.gate.Pause()
	err := s.putSettings(func(st *syncSettings) { st.Paused = true })
	s.emitStatus()
	return err
}

// Resume lets sync continue.
func (s *SyncService) Resume() error {
	s.gate.Resume()
	err := s.putSettings(func(st *syncSettings) { st.Paused = false })
	s.poke()
	s.emitStatus()
	return err
}

func (s *SyncService) projectRemote(project string) (string, Remote, error) {
	id, _, _ := s.projectID(project)
	r, _ := s.rulesOf(id)
	rm, err := s.remote(r.Remote)
	return id, rm, err
}

// RestoreOptions say how a restore treats a folder that is not empty.
type RestoreOptions struct {
	// Overwrite allows a non-empty folder, the project's own included:
	// every file replaced whose content differs is first kept beside it as
	// "name (before restore DATE).ext"; identical files are left alone.
	// Without it a non-empty folder is refused and nothing is written.
	Overwrite bool `json:"overwrite"`
}

// Restore writes a project's snapshot ("" = latest) into toDir, every file
// verified, every write inside toDir without following links. The result
// lists files kept before being replaced (Kept), written under a safe name
// (Renamed) and not written (Refused).
func (s *SyncService) Restore(project, toDir, snapshotID string, o RestoreOptions) (vault.RestoreResult, error) {
	if err := s.needConsent(); err != nil {
		return vault.RestoreResult{}, err
	}
	if toDir == "" {
		return vault.RestoreResult{}, apierr.WithUI(apierr.Errorf(apierr.InvalidInput, "restore needs a target folder (--to DIR): an empty or new folder, or a non-empty one with --overwrite (replaced files are kept beside the restored ones)"),
			"Choose a folder to restore into (an empty or new one).")
	}
	abs, err := filepath.Abs(toDir)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	if !o.Overwrite {
		if p, ok := s.liveProjectAt(abs); ok {
			return vault.RestoreResult{}, apierr.WithUI(apierr.Errorf(apierr.Conflict, "restore into %s refused, nothing was written: it is the folder of project %s, and restoring there replaces its current files. Restore into an empty or new folder, or ask to overwrite (`--overwrite`, or \"Overwrite\" in the Sync view): every file whose content differs is then kept beside it as \"NAME (before restore DATE).EXT\"", abs, p),
				fmt.Sprintf("Restore into %s refused, nothing was written: it is the folder of project %s, and restoring there replaces its current files. Choose an empty or new folder, or Overwrite: every file whose content differs is then kept beside it as “NAME (before restore DATE).EXT”.", abs, p))
		}
	}
	id, rm, err := s.projectRemote(project)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	ctx := s.e.Context()
	ro := vault.RestoreOptions{Overwrite: o.Overwrite, Progress: func(p vault.Progress) { s.setProgress(id, p) }}
	res, err := s.target(rm).restore(ctx, id, snapshotID, abs, ro)
	if err != nil {
		return res, restoreErr(abs, err)
	}
	for _, r := range res.Renamed {
		s.e.Log.Warn("restore: file written under a safe name", "path", r.Path, "as", r.As, "reason", r.Reason)
	}
	for _, r := range res.Refused {
		s.e.Log.Warn("restore: file not written", "path", r.Path, "reason", r.Reason)
	}
	return res, nil
}

// restoreErr gives a restore's refusals their kind: a non-empty folder is a
// Conflict (with the app's wording, which offers its Overwrite choice rather
// than the CLI's flag), an unknown snapshot NotFound. Messages are unchanged.
func restoreErr(dir string, err error) error {
	switch {
	case errors.Is(err, target.ErrNotEmpty):
		return apierr.WithUI(apierr.Wrap(apierr.Conflict, err),
			fmt.Sprintf("Restore into %s refused, nothing was written: the folder is not empty. Choose an empty or new folder, or Overwrite: every file whose content differs is then kept beside it as “NAME (before restore DATE).EXT”, and identical files are left alone.", dir))
	case errors.Is(err, vault.ErrNoSnapshot):
		return apierr.Wrap(apierr.NotFound, err)
	}
	return err
}

// liveProjectAt reports the project whose folder dir is, is inside, or
// holds.
func (s *SyncService) liveProjectAt(dir string) (string, bool) {
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	within := func(a, b string) bool { // a is b or inside it
		rel, err := filepath.Rel(b, a)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	d := real(dir)
	ps, _ := s.e.Projects.List()
	for _, p := range ps {
		r := real(p.Root)
		if within(d, r) || within(r, d) {
			name := p.Name
			if name == "" {
				name = string(p.ID)
			}
			return name, true
		}
	}
	return "", false
}

// Snapshots lists a project's history on its remote, newest first.
func (s *SyncService) Snapshots(project string) ([]SnapshotInfo, error) {
	if err := s.needConsent(); err != nil {
		return nil, err
	}
	id, rm, err := s.projectRemote(project)
	if err != nil {
		return nil, err
	}
	hs, cur, err := s.target(rm).snapshots(s.e.Context(), id)
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotInfo, 0, len(hs))
	for i := len(hs) - 1; i >= 0; i-- {
		h := hs[i]
		out = append(out, SnapshotInfo{ID: h.Snapshot, Seq: h.Seq, Device: h.Device, Time: h.Time, Files: h.Files, Bytes: h.Bytes, Pruned: h.Pruned, Current: h.Snapshot == cur.Snapshot})
	}
	return out, nil
}

// Prune applies the retention policy to a remote's vault ("" = default)
// and deletes data no kept snapshot needs.
func (s *SyncService) Prune(remoteName string) (vault.PruneResult, error) {
	if err := s.needConsent(); err != nil {
		return vault.PruneResult{}, err
	}
	rm, err := s.remote(remoteName)
	if err != nil {
		return vault.PruneResult{}, err
	}
	if rm.Kind != "vault" {
		return vault.PruneResult{}, apierr.Errorf(apierr.InvalidInput, "%s is a mirror: it keeps no history to prune", rm.Name)
	}
	v, err := s.vault(s.e.Context(), rm)
	if err != nil {
		return vault.PruneResult{}, err
	}
	set, _ := s.settings()
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return v.Prune(s.e.Context(), set.Retention, time.Hour, false)
}

// Verify downloads and checks everything the newest snapshot of project
// ("" = every project on the default remote) references.
func (s *SyncService) Verify(project string) (vault.VerifyResult, error) {
	if err := s.needConsent(); err != nil {
		return vault.VerifyResult{}, err
	}
	id, rm, err := s.projectRemote(project)
	if err != nil {
		return vault.VerifyResult{}, err
	}
	return s.target(rm).verify(s.e.Context(), id, project == "", func(p vault.Progress) { s.setProgress(id, p) })
}

// Repair verifies what the newest snapshot of project references and
// uploads again, from the files here, everything missing or damaged on the
// remote whose file still has the snapshot's content; then it commits a
// snapshot that restores. What cannot be repaired from this device is
// named file by file (vault.Repair).
func (s *SyncService) Repair(project string) (vault.RepairResult, error) {
	res := vault.RepairResult{Repaired: []string{}, Unrepaired: []vault.Damaged{}}
	if err := s.needConsent(); err != nil {
		return res, err
	}
	if project == "" {
		return res, apierr.Errorf(apierr.InvalidInput, "name the project to repair: `atelier sync verify PROJECT --repair`")
	}
	id, _, ok := s.projectID(project)
	if !ok {
		return res, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	ctx := s.e.Context()
	s.runMu.Lock()
	defer s.runMu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.progress, id)
		s.mu.Unlock()
		s.emitStatus()
	}()
	rm, job, err := s.job(ctx, id, true)
	if err != nil {
		return res, err
	}
	return s.target(rm).repair(ctx, job)
}

// Conflicts lists the conflict copies sync made that are still open.
func (s *SyncService) Conflicts() ([]vault.Conflict, error) {
	out := []vault.Conflict{}
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		return syncConflicts.Scan(tx, "", func(_ string, c vault.Conflict) error { out = append(out, c); return nil })
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, err
}

// DismissConflict marks a conflict as handled (the copy stays on disk).
func (s *SyncService) DismissConflict(project, copyPath string) error {
	return s.e.DB.Update(func(tx *localdb.Tx) error { return syncConflicts.Delete(tx, project+"/"+copyPath) })
}

func (s *SyncService) emitStatus() {
	if s.e.Context().Err() != nil {
		return
	}
	st, err := s.Status()
	if err == nil {
		s.e.Emit(SyncEvent, st)
	}
}
