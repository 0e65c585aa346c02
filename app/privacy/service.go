package privacy

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"atelier/app/host"
	"atelier/localdb"
	"atelier/progress"
)

// Host is what the privacy feature needs from the engine.
type Host interface {
	host.Runner
	host.Emitter
}

// ServiceConfig builds the bound Privacy service.
type ServiceConfig struct {
	DB         *localdb.DB
	Log        *slog.Logger
	Host       Host
	AppVersion string
	// DataDir holds the consent ledger's head file (beside the database,
	// not in it) and DataDir/exports, the fallback of Export.
	DataDir string
}

// Service holds consent, local analytics, audience statistics and
// experiments (the Store). Consent decisions go to a hash-chained ledger
// fsynced before they take effect; nothing is collected for a purpose until
// it is granted. It is the bound "Privacy" service: its exported methods
// are routes.
type Service struct {
	log     *slog.Logger
	host    Host
	dataDir string
	store   *Store
	warned  sync.Map // event name -> struct{}: schema warnings are logged once
}

// NewService opens the privacy data: the bound service and the engine's
// Control of it (usage events, consent checks, erase hooks).
func NewService(c ServiceConfig) (*Service, *Control, error) {
	cfg := Config{AppVersion: c.AppVersion, Logger: c.Log}
	if c.DB.Dir() != "" {
		// Beside the database, not in it: a wiped or replaced database
		// cannot take the record of how far the ledger went with it.
		cfg.HeadFile = filepath.Join(c.DataDir, "consent-head.json")
	}
	st, err := Open(c.DB, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("open privacy data: %w", err)
	}
	s := &Service{log: c.Log, host: c.Host, dataDir: c.DataDir, store: st}
	return s, &Control{s: s}, nil
}

// Purposes lists every purpose with its description, policy and consent state.
func (s *Service) Purposes() ([]PurposeState, error) { return s.store.States() }

// Grant records consent to purpose, asked at where ("settings", "cli", ...).
func (s *Service) Grant(purpose, where string) (LedgerRecord, error) {
	return s.decide(purpose, DecisionGrant, where, false)
}

// Deny records an explicit refusal of purpose (it stays off).
func (s *Service) Deny(purpose, where string) (LedgerRecord, error) {
	return s.decide(purpose, DecisionDeny, where, false)
}

// WithdrawAt withdraws consent to purpose, asked at where ("settings",
// "cli"); with erase it also deletes everything collected under it.
func (s *Service) WithdrawAt(purpose, where string, erase bool) (LedgerRecord, error) {
	return s.decide(purpose, DecisionWithdraw, where, erase)
}

func (s *Service) decide(purpose, kind, where string, erase bool) (LedgerRecord, error) {
	how := "toggle"
	if where == "cli" {
		how = "command"
	}
	r, err := s.store.Decide(s.host.Context(), Decision{Purpose: purpose, Kind: kind, Where: where, How: how, Erase: erase})
	if err == nil {
		s.host.Emit("privacy", map[string]any{"purpose": purpose, "decision": kind})
	}
	return r, err
}

// History returns the consent ledger, oldest first; purpose "" for all.
func (s *Service) History(purpose string) ([]LedgerRecord, error) {
	return s.store.History(purpose)
}

// VerifyLedger checks the consent ledger's hash chain.
func (s *Service) VerifyLedger() (VerifyResult, error) { return s.store.Verify() }

// Erase deletes everything collected under purpose, or under every purpose
// with "all". Consent is unchanged.
func (s *Service) Erase(purpose string) (EraseResult, error) {
	r, err := s.store.Erase(s.host.Context(), purpose)
	if err == nil {
		s.host.Emit("privacy", map[string]any{"erased": purpose})
	}
	return r, err
}

// Events lists the allow-listed usage events and their fields.
func (s *Service) Events() []EventDef { return Events() }

// Track records a usage event from the frontend (same allow-list as record).
func (s *Service) Track(event string, fields map[string]any) error {
	err := s.store.Record(event, fields)
	if errors.Is(err, ErrNotGranted) {
		return nil
	}
	return err
}

// Dropped lists how many events were dropped per purpose and why.
func (s *Service) Dropped() ([]DroppedCount, error) { return s.store.DroppedDetail() }

// Dashboard returns the charts of the privacy dashboard for a date range,
// drawn from rollups only.
func (s *Service) Dashboard(q DashboardQuery) (Dashboard, error) {
	if err := s.store.Flush(); err != nil {
		return Dashboard{}, err
	}
	return s.store.Dashboard(q)
}

// AudiencePlatforms lists the platform exports ImportAudience recognises.
func (s *Service) AudiencePlatforms() []string { return AudiencePlatforms() }

// ImportAudience imports a platform CSV export (plays, streams, sales per day)
// under audience.import: all rows or none, with errors per row.
func (s *Service) ImportAudience(path string, mapping AudienceMapping) (ImportResult, error) {
	res, err := s.store.ImportAudience(s.host.Context(), path, mapping, func(p progress.Progress) {
		s.host.Emit("progress", p)
	})
	if err == nil && res.OK && !res.Duplicate {
		s.record("audience.imported", map[string]any{"rows": res.Rows, "platform": res.Platform})
		s.host.Emit("privacy", map[string]any{"imported": res.ID})
	}
	return res, err
}

// Export writes all privacy data (one JSON file plus a CSV per table) into a
// new folder under dir; "" means the Downloads folder (or DATA/exports).
func (s *Service) Export(dir string) (ExportResult, error) {
	if dir == "" {
		dir = filepath.Join(s.dataDir, "exports")
		if home, err := os.UserHomeDir(); err == nil {
			if fi, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && fi.IsDir() {
				dir = filepath.Join(home, "Downloads")
			}
		}
	}
	res, err := s.store.Export(s.host.Context(), dir, func(p progress.Progress) { s.host.Emit("progress", p) })
	if err == nil {
		s.record("data.exported", nil)
	}
	return res, err
}

// ExperimentCreate defines and starts an A/B experiment (needs experiments granted).
func (s *Service) ExperimentCreate(n NewExperiment) (Experiment, error) {
	x, err := s.store.CreateExperiment(n)
	if err == nil {
		s.host.Emit("privacy", map[string]any{"experiment": x.ID})
	}
	return x, err
}

// ExperimentList lists experiments with their results.
func (s *Service) ExperimentList() ([]ExperimentResult, error) {
	return s.store.ListExperiments()
}

// ExperimentShow returns an experiment's results and full change history.
func (s *Service) ExperimentShow(id string) (ExperimentResult, error) {
	return s.store.ShowExperiment(id)
}

// ExperimentExpose returns the variant unit (a visitor or session id, hashed
// and never stored) sees, and counts an exposure.
func (s *Service) ExperimentExpose(id, unit string) (Assignment, error) {
	return s.store.Expose(id, unit)
}

// ExperimentConvert counts a conversion for unit's variant.
func (s *Service) ExperimentConvert(id, unit string) (Assignment, error) {
	return s.store.Convert(id, unit)
}

// ExperimentStop ends an experiment keeping variant keep for everyone; ""
// rolls back to the original.
func (s *Service) ExperimentStop(id, keep, reason string) (Experiment, error) {
	x, err := s.store.StopExperiment(id, keep, reason)
	if err == nil {
		s.host.Emit("privacy", map[string]any{"experiment": x.ID})
	}
	return x, err
}
