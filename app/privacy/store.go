package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
)

// Config sets up a Store.
type Config struct {
	AppVersion string
	Logger     *slog.Logger
	Now        func() time.Time // nil: time.Now
	// FlushEvery is how often buffered events are written (default 250ms);
	// FlushSize flushes earlier once this many are buffered (default 16384).
	FlushEvery time.Duration
	FlushSize  int
	// KAnonymity is the smallest count sharing reveals (default 10).
	KAnonymity int
	// HeadFile, when set, keeps the ledger's head (sequence and hash) in a
	// file outside the database, fsynced after every decision, so a ledger
	// truncated or lost with its database is detected ("" for in-memory stores).
	HeadFile string
}

// Store is the privacy engine on one database.
type Store struct {
	db  *localdb.DB
	cfg Config
	log *slog.Logger

	// decide serialises consent decisions and erasures (ledger appends).
	decide sync.Mutex
	// granted mirrors the ledger: readable without locks on hot paths.
	granted       [8]atomic.Bool
	epoch         [8]atomic.Uint64
	ledgerOK      atomic.Bool
	ledgerProblem atomic.Value // string

	// mu guards everything the ingester touches: the event buffer and the writes
	// of events and rollups. Consent changes take it too, so no event is written
	// for a purpose after it was withdrawn.
	mu      sync.Mutex
	wmu     sync.Mutex // held while writing events and rollups; consent changes take it first
	buf     []pending
	spare   []pending
	running atomic.Bool
	xpMu    sync.Mutex       // experiment counters and changes
	impMu   sync.Mutex       // one audience import at a time; erase waits for it
	seq     atomic.Uint32    // block keys and import ids
	dropped map[string]int64 // purpose|event -> dropped since last flush
	kick    chan struct{}

	hooksMu sync.Mutex
	hooks   map[string][]func(ctx context.Context) error
}

// Open opens the privacy store on db: it migrates the schema, replays and
// verifies the consent ledger and recovers an interrupted audience import.
func Open(db *localdb.DB, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 250 * time.Millisecond
	}
	if cfg.FlushSize <= 0 {
		cfg.FlushSize = 16384
	}
	if cfg.KAnonymity <= 0 {
		cfg.KAnonymity = 10
	}
	s := &Store{
		db: db, cfg: cfg, log: cfg.Logger.With("area", "privacy"),
		dropped: map[string]int64{},
		kick:    make(chan struct{}, 1),
		hooks:   map[string][]func(ctx context.Context) error{},
	}
	if err := db.Migrate("priv", migrations); err != nil {
		return nil, err
	}
	if err := s.replay(); err != nil {
		return nil, err
	}
	if err := s.recoverImports(); err != nil {
		return nil, err
	}
	return s, nil
}

var migrations = []localdb.Migration{{Version: 1, Name: "consent ledger, events, rollups, audience, experiments"}}

// DB is the database the store writes to.
func (s *Store) DB() *localdb.DB { return s.db }

func (s *Store) now() time.Time { return s.cfg.Now().UTC() }

// replay rebuilds the consent state from the ledger.
func (s *Store) replay() error {
	var res VerifyResult
	var recs []LedgerRecord
	var lastBad uint64
	anchor, err := readAnchor(s.cfg.HeadFile)
	if err != nil {
		return err
	}
	err = s.db.View(func(tx *localdb.Tx) error {
		var err error
		res, recs, lastBad, err = verifyLedger(tx, anchor, s.cfg.HeadFile)
		return err
	})
	if err != nil {
		return err
	}
	if res.OK && len(recs) > 0 && (anchor == nil || anchor.Seq != recs[len(recs)-1].Seq) {
		// First start with a head file, or a crash between the ledger's
		// fsync and the file's: the chain is sound, bring the file up to it.
		last := recs[len(recs)-1]
		if err := writeAnchor(s.cfg.HeadFile, ledgerHead{Seq: last.Seq, Hash: last.Hash}); err != nil {
			return fmt.Errorf("write the consent ledger head %s: %w", s.cfg.HeadFile, err)
		}
	}
	s.ledgerOK.Store(res.OK)
	s.ledgerProblem.Store(res.Problem)
	for i := range s.granted {
		s.granted[i].Store(false)
	}
	start := lastBad
	if !res.OK && lastBad == 0 {
		// only earlier damage, already marked by a reset record
		for _, r := range recs {
			if r.Decision == DecisionReset {
				start = r.Seq
			}
		}
	} else if !res.OK {
		// Decisions up to the damage no longer count, and neither do those after
		// it that Atelier did not see being made: a reset record marks the point
		// from which decisions count again.
		marker := uint64(0)
		for _, r := range recs {
			if r.Decision == DecisionReset && r.Seq > lastBad {
				marker = r.Seq
			}
		}
		if marker == 0 {
			s.log.Error("consent ledger failed its check: every purpose is off until you decide again", "problem", res.Problem)
			s.decide.Lock()
			r, err := s.appendLedger(LedgerRecord{Purpose: "*", Decision: DecisionReset, Where: "integrity check", How: res.Problem, PolicyVersion: PolicyVersion})
			s.decide.Unlock()
			if err != nil {
				return err
			}
			marker = r.Seq
		}
		start = marker
	}
	for _, r := range recs {
		if r.Seq <= start {
			continue
		}
		i := purposeIndex(r.Purpose)
		if i < 0 {
			continue
		}
		switch r.Decision {
		case DecisionGrant:
			// a grant counts only for the policy text currently in force
			s.granted[i].Store(r.PolicySHA256 == purposeDefs[i].SHA256)
		case DecisionDeny, DecisionWithdraw:
			s.granted[i].Store(false)
		}
	}
	return nil
}

// Granted reports whether purpose is granted now. Unknown purposes are not.
func (s *Store) Granted(purpose string) bool {
	i := purposeIndex(purpose)
	return i >= 0 && s.granted[i].Load()
}

// Decision is how a consent change is asked for.
type Decision struct {
	Purpose string
	Kind    string // DecisionGrant, DecisionDeny, DecisionWithdraw
	Where   string // "settings", "cli", "onboarding", "test"...
	How     string // "toggle", "command"...
	Erase   bool   // with DecisionWithdraw: also erase what was collected
}

// Decide records d in the ledger, fsyncs it, and only then applies it. A
// withdrawal with Erase erases the purpose's data after the record is durable.
func (s *Store) Decide(ctx context.Context, d Decision) (LedgerRecord, error) {
	p, err := Lookup(d.Purpose)
	if err != nil {
		return LedgerRecord{}, err
	}
	switch d.Kind {
	case DecisionGrant, DecisionDeny, DecisionWithdraw:
	default:
		return LedgerRecord{}, apierr.Errorf(apierr.InvalidInput, "unknown consent decision %q for %s: use grant, deny or withdraw", d.Kind, d.Purpose)
	}
	if d.Where, err = cleanLabel("where", d.Where, "unspecified"); err != nil {
		return LedgerRecord{}, err
	}
	if d.How, err = cleanLabel("how", d.How, "explicit action"); err != nil {
		return LedgerRecord{}, err
	}
	s.decide.Lock()
	defer s.decide.Unlock()
	rec, err := s.appendLedger(LedgerRecord{
		Purpose: p.Name, Decision: d.Kind, PolicyVersion: p.Version, PolicySHA256: p.SHA256,
		Where: d.Where, How: d.How, Erased: d.Kind == DecisionWithdraw && d.Erase,
	})
	if err != nil {
		return rec, err
	}
	i := purposeIndex(p.Name)
	s.xpMu.Lock()
	s.wmu.Lock()
	s.mu.Lock()
	if d.Kind == DecisionGrant {
		s.granted[i].Store(true)
	} else {
		s.granted[i].Store(false)
		// events buffered before the withdrawal but not yet written are dropped:
		// nothing is written for a purpose once it is no longer granted.
		s.dropBufferedLocked(p.Name)
	}
	s.epoch[i].Add(1)
	s.mu.Unlock()
	s.wmu.Unlock()
	s.xpMu.Unlock()
	s.log.Info("consent decision", "purpose", p.Name, "decision", d.Kind, "where", d.Where, "seq", rec.Seq)
	if d.Kind == DecisionWithdraw && d.Erase {
		if _, err := s.erase(ctx, []string{p.Name}, false); err != nil {
			return rec, fmt.Errorf("consent for %s was withdrawn, but erasing its data failed (run `atelier analytics erase %s` again): %w", p.Name, p.Name, err)
		}
	}
	return rec, nil
}

// appendLedger appends r after the current head and fsyncs. Callers hold s.decide.
func (s *Store) appendLedger(r LedgerRecord) (LedgerRecord, error) {
	err := s.db.Update(func(tx *localdb.Tx) error {
		h, _, err := headTable.Get(tx, headKey)
		if err != nil {
			return err
		}
		r.Seq = h.Seq + 1
		r.Prev = h.Hash
		r.Time = s.now()
		r.AppVersion = s.cfg.AppVersion
		r.Hash = computeHash(r)
		if err := ledgerTable.Put(tx, ledgerKey(r.Seq), r); err != nil {
			return err
		}
		return headTable.Put(tx, headKey, ledgerHead{Seq: r.Seq, Hash: r.Hash})
	})
	if err != nil {
		return r, fmt.Errorf("write the consent ledger (decision %s %s not applied): %w", r.Decision, r.Purpose, err)
	}
	if err := s.db.Sync(); err != nil {
		return r, fmt.Errorf("flush the consent ledger to disk (decision %s %s not applied; check free disk space): %w", r.Decision, r.Purpose, err)
	}
	if err := writeAnchor(s.cfg.HeadFile, ledgerHead{Seq: r.Seq, Hash: r.Hash}); err != nil {
		return r, fmt.Errorf("write the consent ledger head %s (decision %s %s is recorded but not applied; check free disk space): %w", s.cfg.HeadFile, r.Decision, r.Purpose, err)
	}
	return r, nil
}

// History returns the ledger records, oldest first; purpose "" means all.
func (s *Store) History(purpose string) ([]LedgerRecord, error) {
	var out []LedgerRecord
	err := s.db.View(func(tx *localdb.Tx) error {
		return ledgerTable.Scan(tx, "", func(_ string, r LedgerRecord) error {
			if purpose == "" || r.Purpose == purpose {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the consent ledger: %w", err)
	}
	return out, nil
}

// Verify checks the ledger's hash chain.
func (s *Store) Verify() (VerifyResult, error) {
	var res VerifyResult
	anchor, err := readAnchor(s.cfg.HeadFile)
	if err != nil {
		return res, err
	}
	err = s.db.View(func(tx *localdb.Tx) error {
		var err error
		res, _, _, err = verifyLedger(tx, anchor, s.cfg.HeadFile)
		return err
	})
	return res, err
}

// PurposeState is a purpose with its current consent.
type PurposeState struct {
	PurposeDef
	Granted  bool       `json:"granted"`
	Decision string     `json:"decision"` // last decision: "", grant, deny, withdraw
	Since    *time.Time `json:"since,omitempty"`
	// Stale means the last grant was for an older policy text: ask again.
	Stale   bool  `json:"stale"`
	Dropped int64 `json:"dropped"` // events dropped because the purpose was not granted
}

// States lists every purpose with its consent state.
func (s *Store) States() ([]PurposeState, error) {
	hist, err := s.History("")
	if err != nil {
		return nil, err
	}
	dropped, err := s.Dropped()
	if err != nil {
		return nil, err
	}
	out := make([]PurposeState, len(purposeDefs))
	for i, p := range purposeDefs {
		out[i] = PurposeState{PurposeDef: p, Granted: s.granted[i].Load(), Dropped: dropped[p.Name]}
	}
	for _, r := range hist {
		if r.Decision == DecisionReset {
			for i := range out {
				out[i].Decision, out[i].Since, out[i].Stale = "", nil, false
			}
			continue
		}
		i := purposeIndex(r.Purpose)
		if i < 0 || r.Decision == DecisionErase {
			continue
		}
		t := r.Time
		out[i].Decision = r.Decision
		out[i].Since = &t
		out[i].Stale = r.Decision == DecisionGrant && r.PolicySHA256 != purposeDefs[i].SHA256
	}
	return out, nil
}

// LedgerProblem is "" when the ledger passed its check at open, else what failed.
func (s *Store) LedgerProblem() string {
	v, _ := s.ledgerProblem.Load().(string)
	return v
}

// OnErase registers fn to run when purpose's data is erased (other areas keep
// data under a purpose outside "priv/", for example sync state under sync.cloud).
func (s *Store) OnErase(purpose string, fn func(ctx context.Context) error) {
	s.hooksMu.Lock()
	s.hooks[purpose] = append(s.hooks[purpose], fn)
	s.hooksMu.Unlock()
}
