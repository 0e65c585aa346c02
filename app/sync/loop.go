package syncsvc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"atelier/app/index"
	"atelier/localdb"
	"atelier/sync/rules"
)

func (s *Service) start(ctx context.Context) {
	s.host.Go(func(ctx context.Context) { s.loop(ctx) })
}

func (s *Service) close() error { return nil }

// loop runs the outbox: soon after changes arrive, and every few minutes to
// pick up other devices' changes.
func (s *Service) loop(ctx context.Context) {
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
			s.log.Warn("sync: list projects", "err", err)
			continue
		}
		for _, p := range projects {
			if ctx.Err() != nil {
				return
			}
			// The watcher keeps the index live here: no extra pass.
			if _, err := s.runProject(ctx, p, false); err != nil && ctx.Err() == nil {
				s.log.Warn("background sync failed", "project", p, "err", err)
				s.notifyFailure(p, err)
			}
		}
	}
}

// notifyFailure tells the creator once per distinct error that background
// sync of a project is failing (a remote down, a lost passphrase), instead of
// failing silently on every retry.
func (s *Service) notifyFailure(project string, err error) {
	s.notifyMu.Lock()
	if s.lastFailure == nil {
		s.lastFailure = map[string]string{}
	}
	same := s.lastFailure[project] == err.Error()
	s.lastFailure[project] = err.Error()
	s.notifyMu.Unlock()
	if !same {
		s.host.Notify("Sync is failing", fmt.Sprintf("%s: %v", project, err))
	}
}

func (s *Service) pokeIfPending() {
	n := 0
	s.db.View(func(tx *localdb.Tx) error {
		return syncOutbox.Keys(tx, "", func(string) error { n++; return localdb.ErrStop })
	})
	if n > 0 {
		s.poke()
	}
}

func (s *Service) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// backgroundProjects are enabled projects with pending changes (all enabled
// ones when all).
func (s *Service) backgroundProjects(all bool) ([]string, error) {
	pending := map[string]bool{}
	var out []string
	err := s.db.View(func(tx *localdb.Tx) error {
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
func (s *Service) consider(changes []index.Change) {
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
		s.log.Warn("sync outbox", "entries", n, "first", first, "err", err)
		return
	}
	s.poke()
}
