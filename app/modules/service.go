package modules

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"atelier/app/host"

	"atelier/localdb"
	"atelier/signing/pack"
	"atelier/signing/registry"
	"atelier/signing/trust"
)

// Host is what the modules feature needs from the engine.
type Host interface {
	host.Runner
	host.Emitter
	host.Notifier
}

// Config builds the modules feature.
type Config struct {
	DB     *localdb.DB
	Log    *slog.Logger
	Host   Host
	Record host.Recorder
	// DataDir holds keys/ and modules/; CacheDir the downloads under way.
	DataDir, CacheDir string
	// Rollups writes the analytics rollups a panel module may read
	// (analytics:rollups) into a folder, as JSON files. Nil: none.
	Rollups func(ctx context.Context, dir string) error
}

// Service verifies and installs signed modules offline against a local
// trust policy, keeps the creator's signing keys, the registries they follow
// and an audit log of every verification, install, removal and trust change.
// The signing work itself is in atelier/signing; this is its wiring. It is
// the bound "Modules" service: its exported methods are routes.
type Service struct {
	db       *localdb.DB
	log      *slog.Logger
	host     Host
	record   host.Recorder
	cacheDir string
	mu       sync.Mutex // serialises policy read-modify-write (install, trust, remove)

	keysDir    string
	modulesDir string
	runsDir    string // each run's output folder: runs/PUBLISHER-NAME/TIME
	auditSeq   atomic.Uint64
	run        runnerOnce
	runs       runs
	rollups    func(ctx context.Context, dir string) error
}

// Tables under mod/.
var (
	modKeys      = localdb.NewTable[trust.Key]("mod/trust/key/")
	modPolicy    = localdb.NewTable[trust.Module]("mod/trust/module/")
	modInstalled = localdb.NewTable[InstalledModule]("mod/installed/")
	modRegs      = localdb.NewTable[registry.State]("mod/registry/")
	modAudit     = localdb.NewTable[AuditEntry]("mod/audit/")
	modFiles     = localdb.NewTable[pack.FileList]("mod/files/") // what was installed, for Check
)

// New opens the modules feature: the bound service and the engine's Control of it.
func New(c Config) (*Service, *Control, error) {
	s := &Service{db: c.DB, log: c.Log, host: c.Host, record: c.Record, cacheDir: c.CacheDir, rollups: c.Rollups,
		keysDir: filepath.Join(c.DataDir, "keys"), modulesDir: filepath.Join(c.DataDir, "modules"), runsDir: filepath.Join(c.DataDir, "runs")}
	if err := c.DB.Migrate("mod", []localdb.Migration{{Version: 1, Name: "trust policy, installed modules, registries, audit"}}); err != nil {
		return nil, nil, err
	}
	return s, &Control{s: s}, nil
}

func (s *Service) start(ctx context.Context) {
	// Staging dirs left by a crash mid-install are garbage.
	ents, _ := os.ReadDir(s.modulesDir)
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), ".staging-") {
			os.RemoveAll(filepath.Join(s.modulesDir, d.Name()))
		}
	}
}

func (s *Service) close() error {
	if s.run.r != nil {
		return s.run.r.Close(context.Background())
	}
	return nil
}
