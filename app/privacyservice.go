package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"atelier/app/privacy"
	"atelier/progress"
)

// PrivacyService holds consent, local analytics, audience statistics and
// experiments (package app/privacy). Consent decisions go to a hash-chained
// ledger fsynced before they take effect; nothing is collected for a purpose
// until it is granted.
type PrivacyService struct {
	e      *Engine
	store  *privacy.Store
	warned sync.Map // event name -> struct{}: schema warnings are logged once
}

func newPrivacyService(e *Engine) (*PrivacyService, error) {
	cfg := privacy.Config{AppVersion: Version, Logger: e.Log}
	if e.DB.Dir() != "" {
		// Beside the database, not in it: a wiped or replaced database
		// cannot take the record of how far the ledger went with it.
		cfg.HeadFile = filepath.Join(e.Dirs.Data, "consent-head.json")
	}
	st, err := privacy.Open(e.DB, cfg)
	if err != nil {
		return nil, fmt.Errorf("open privacy data: %w", err)
	}
	return &PrivacyService{e: e, store: st}, nil
}

func (s *PrivacyService) start(ctx context.Context) {
	s.e.Go(s.store.Run)
}

// close writes the events still buffered.
func (s *PrivacyService) close() error { return s.store.Flush() }

// record stores a usage event of Atelier's own features when analytics.local
// is granted (dropped and counted otherwise). fields follow the event's
// allow-listed schema (privacy.Events): enums, booleans, and numbers that are
// bucketed; never names, paths or free text.
func (s *PrivacyService) record(event string, fields map[string]any) {
	if err := s.store.Record(event, fields); err != nil && !errors.Is(err, privacy.ErrNotGranted) {
		if _, seen := s.warned.LoadOrStore(event, struct{}{}); !seen {
			s.e.Log.Warn("usage event rejected (fix the call to match privacy.Events; counted as dropped)", "event", event, "err", err)
		}
	}
}

// granted reports whether purpose is currently granted.
func (s *PrivacyService) granted(purpose string) bool { return s.store.Granted(purpose) }

// onErase registers fn to erase data another area keeps under purpose.
func (s *PrivacyService) onErase(purpose string, fn func(ctx context.Context) error) {
	s.store.OnErase(purpose, fn)
}

// Purposes lists every purpose with its description, policy and consent state.
func (s *PrivacyService) Purposes() ([]privacy.PurposeState, error) { return s.store.States() }

// Grant records consent to purpose, asked at where ("settings", "cli", ...).
func (s *PrivacyService) Grant(purpose, where string) (privacy.LedgerRecord, error) {
	return s.decide(purpose, privacy.DecisionGrant, where, false)
}

// Deny records an explicit refusal of purpose (it stays off).
func (s *PrivacyService) Deny(purpose, where string) (privacy.LedgerRecord, error) {
	return s.decide(purpose, privacy.DecisionDeny, where, false)
}

// WithdrawAt withdraws consent to purpose, asked at where ("settings",
// "cli"); with erase it also deletes everything collected under it.
func (s *PrivacyService) WithdrawAt(purpose, where string, erase bool) (privacy.LedgerRecord, error) {
	return s.decide(purpose, privacy.DecisionWithdraw, where, erase)
}

func (s *PrivacyService) decide(purpose, kind, where string, erase bool) (privacy.LedgerRecord, error) {
	how := "toggle"
	if where == "cli" {
		how = "command"
	}
	r, err := s.store.Decide(s.e.Context(), privacy.Decision{Purpose: purpose, Kind: kind, Where: where, How: how, Erase: erase})
	if err == nil {
		s.e.Emit("privacy", map[string]any{"purpose": purpose, "decision": kind})
	}
	return r, err
}

// History returns the consent ledger, oldest first; purpose "" for all.
func (s *PrivacyService) History(purpose string) ([]privacy.LedgerRecord, error) {
	return s.store.History(purpose)
}

// VerifyLedger checks the consent ledger's hash chain.
func (s *PrivacyService) VerifyLedger() (privacy.VerifyResult, error) { return s.store.Verify() }

// Erase deletes everything collected under purpose, or under every purpose
// with "all". Consent is unchanged.
func (s *PrivacyService) Erase(purpose string) (privacy.EraseResult, error) {
	r, err := s.store.Erase(s.e.Context(), purpose)
	if err == nil {
		s.e.Emit("privacy", map[string]any{"erased": purpose})
	}
	return r, err
}

// Events lists the allow-listed usage events and their fields.
func (s *PrivacyService) Events() []privacy.EventDef { return privacy.Events() }

// Track records a usage event from the frontend (same allow-list as record).
func (s *PrivacyService) Track(event string, fields map[string]any) error {
	err := s.store.Record(event, fields)
	if errors.Is(err, privacy.ErrNotGranted) {
		return nil
	}
	return err
}

// Dropped lists how many events were dropped per purpose and why.
func (s *PrivacyService) Dropped() ([]privacy.DroppedCount, error) { return s.store.DroppedDetail() }

// Dashboard returns the charts of the privacy dashboard for a date range,
// drawn from rollups only.
func (s *PrivacyService) Dashboard(q privacy.DashboardQuery) (privacy.Dashboard, error) {
	if err := s.store.Flush(); err != nil {
		return privacy.Dashboard{}, err
	}
	return s.store.Dashboard(q)
}

// AudiencePlatforms lists the platform exports ImportAudience recognises.
func (s *PrivacyService) AudiencePlatforms() []string { return privacy.AudiencePlatforms() }

// ImportAudience imports a platform CSV export (plays, streams, sales per day)
// under audience.import: all rows or none, with errors per row.
func (s *PrivacyService) ImportAudience(path string, mapping privacy.AudienceMapping) (privacy.ImportResult, error) {
	res, err := s.store.ImportAudience(s.e.Context(), path, mapping, func(p progress.Progress) {
		s.e.Emit("privacy.progress", p)
	})
	if err == nil && res.OK && !res.Duplicate {
		s.record("audience.imported", map[string]any{"rows": res.Rows, "platform": res.Platform})
		s.e.Emit("privacy", map[string]any{"imported": res.ID})
	}
	return res, err
}

// Export writes all privacy data (one JSON file plus a CSV per table) into a
// new folder under dir; "" means the Downloads folder (or DATA/exports).
func (s *PrivacyService) Export(dir string) (privacy.ExportResult, error) {
	if dir == "" {
		dir = filepath.Join(s.e.Dirs.Data, "exports")
		if home, err := os.UserHomeDir(); err == nil {
			if fi, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && fi.IsDir() {
				dir = filepath.Join(home, "Downloads")
			}
		}
	}
	res, err := s.store.Export(s.e.Context(), dir, func(p progress.Progress) { s.e.Emit("privacy.progress", p) })
	if err == nil {
		s.record("data.exported", nil)
	}
	return res, err
}

// shareable returns the daily rollups that may leave the machine (only
// while analytics.share is granted; small counts suppressed), for sync.
func (s *PrivacyService) shareable(from, to string) (privacy.ShareSet, error) {
	return s.store.Shareable(from, to)
}

// ExperimentCreate defines and starts an A/B experiment (needs experiments granted).
func (s *PrivacyService) ExperimentCreate(n privacy.NewExperiment) (privacy.Experiment, error) {
	x, err := s.store.CreateExperiment(n)
	if err == nil {
		s.e.Emit("privacy", map[string]any{"experiment": x.ID})
	}
	return x, err
}

// ExperimentList lists experiments with their results.
func (s *PrivacyService) ExperimentList() ([]privacy.ExperimentResult, error) {
	return s.store.ListExperiments()
}

// ExperimentShow returns an experiment's results and full change history.
func (s *PrivacyService) ExperimentShow(id string) (privacy.ExperimentResult, error) {
	return s.store.ShowExperiment(id)
}

// ExperimentExpose returns the variant unit (a visitor or session id, hashed
// and never stored) sees, and counts an exposure.
func (s *PrivacyService) ExperimentExpose(id, unit string) (privacy.Assignment, error) {
	return s.store.Expose(id, unit)
}

// ExperimentConvert counts a conversion for unit's variant.
func (s *PrivacyService) ExperimentConvert(id, unit string) (privacy.Assignment, error) {
	return s.store.Convert(id, unit)
}

// ExperimentStop ends an experiment keeping variant keep for everyone; ""
// rolls back to the original.
func (s *PrivacyService) ExperimentStop(id, keep, reason string) (privacy.Experiment, error) {
	x, err := s.store.StopExperiment(id, keep, reason)
	if err == nil {
		s.e.Emit("privacy", map[string]any{"experiment": x.ID})
	}
	return x, err
}
