package syncsvc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"atelier/app/apierr"
	"atelier/app/host"
	"atelier/app/index"
	"atelier/localdb"
	"atelier/sync/remote"
	"atelier/sync/vault"
)

var (
	syncRemotes   = localdb.NewTable[Remote](syncKeys.remote)
	syncRules     = localdb.NewTable[SyncRules](syncKeys.rules)
	syncConflicts = localdb.NewTable[vault.Conflict](syncKeys.conflict)
	syncSettingsT = localdb.NewTable[syncSettings](syncKeys.settings)
	syncRuns      = localdb.NewTable[ProjectRun](syncKeys.lastRun)
)

// FileSource is how Sync reads projects and their indexed files (the
// projects feature's Control).
type FileSource interface {
	// Project resolves a project by id, name or folder.
	Project(ref string) (host.Project, error)
	// Projects lists the registered projects.
	Projects() ([]host.Project, error)
	// Records lists a project's files, of one kind or all ("").
	Records(project index.ProjectID, kind string) ([]index.FileRecord, error)
	// Reconcile brings a project's index in line with its folder and waits.
	Reconcile(ctx context.Context, project string) error
}

// Host is what Sync needs from the engine.
type Host interface {
	host.Runner
	host.Emitter
	host.Notifier
}

// Config builds Sync.
type Config struct {
	DB      *localdb.DB
	Log     *slog.Logger
	Host    Host
	Files   FileSource
	Consent host.Consent  // "sync.cloud" gates every transfer
	Record  host.Recorder // usage events
	DataDir string        // the default local remote lives in DataDir/remote
	// History, when set, supplies the snapshots a vault remote receives
	// (copied from local history, not chunked again); nil: a sync chunks
	// the files itself.
	History HistorySource
}

// HistorySource is local history as cloud sync needs it: one history, two
// vaults (docs/remote-layout.md).
type HistorySource interface {
	// CloudSnapshot takes a version of project from the changes waiting
	// and returns the vault holding project's history; ok is false when
	// history is off or paused for project.
	CloudSnapshot(ctx context.Context, project string) (v *vault.Vault, ok bool, err error)
}

// Service pushes selected files to cloud remotes and restores them. It is
// the bound "Sync" service: its exported methods are routes.
type Service struct {
	db      *localdb.DB
	log     *slog.Logger
	host    Host
	files   FileSource
	record  host.Recorder
	dataDir string
	secrets SecretStore
	gate    *vault.Gate
	consent host.Consent
	history HistorySource
	goos    string // file-name rules of files written here ("": this platform; tests)

	statusMu sync.Mutex
	status   *statusStored // Status's reads of the database (storedStatus)

	setMu sync.Mutex
	set   syncSettings // as stored (settings), once setOK
	setOK bool

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

	// why transfers are paused: the gate is closed while either holds
	pauseMu     sync.Mutex
	userPaused  bool // the creator's Pause, kept in the settings
	powerPaused bool // on battery, when the creator asked for it

	runMu    sync.Mutex // one run at a time
	kick     chan struct{}
	emitProg func()
}

// New opens Sync: the bound service and the engine's Control of it.
func New(c Config) (*Service, *Control, error) {
	if err := c.DB.Migrate("sync", []localdb.Migration{{Version: 1, Name: "remotes, rules, outbox and vault state"}}); err != nil {
		return nil, nil, err
	}
	s := &Service{db: c.DB, log: c.Log, host: c.Host, files: c.Files, record: c.Record, dataDir: c.DataDir, consent: c.Consent, history: c.History,
		secrets: osKeyring{}, gate: &vault.Gate{}, session: map[string][]byte{}, vaults: map[string]*vault.Vault{},
		limiters: map[string]*remote.Limiter{}, progress: map[string]*SyncProgress{}, kick: make(chan struct{}, 1)}
	s.emitProg = host.Throttled(c.Host, 250*time.Millisecond, func() {
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
			c.Host.Emit(SyncProgressEvent, last)
		}
	})
	st, _ := s.settings()
	if st.Paused {
		s.setPaused(func() { s.userPaused = true })
	}
	if err := s.ensureDefaultRemote(); err != nil {
		return nil, nil, err
	}
	return s, &Control{s: s}, nil
}

func (s *Service) needConsent() error {
	if !s.consent("sync.cloud") {
		return apierr.WithUI(apierr.Errorf(apierr.NeedsConsent, "sync is off: it needs your consent to send files to cloud storage (grant \"sync.cloud\" in the Privacy view or with `atelier consent grant sync.cloud`)"),
			"Sync is off: it needs your consent to send files to cloud storage. Grant “Sync to cloud storage” in the Privacy view.")
	}
	return nil
}
