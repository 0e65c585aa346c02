package projects

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"atelier/app/host"
	"atelier/app/index"
	"atelier/app/watch"
	"atelier/progress"
)

// watch starts the live index of p: a first reconcile, then watcher batches.
func (s *Service) watch(p Project) {
	ctx, cancel := context.WithCancel(s.host.Context())
	r := &projectRun{cancel: cancel, done: make(chan struct{}), state: ProjectSummary{Project: p, Watching: "events"}, dirty: true}
	s.mu.Lock()
	if old := s.runs[p.ID]; old != nil {
		s.mu.Unlock()
		cancel()
		return
	}
	s.runs[p.ID] = r
	s.mu.Unlock()
	r.ignore.Store(index.LoadIgnorer(p.Root))
	ignored := func(rel string, isDir bool) bool { return r.ignore.Load().Ignored(rel, isDir) }
	r.watcher = watch.New(p.Root, watch.Options{Ignored: ignored, Log: s.log.With("project", p.ID)})
	s.host.Go(func(context.Context) {
		defer close(r.done)
		// The watcher adds its watches first and then asks for a full scan, so
		// a change during the first scan is seen by the scan or delivered after it.
		err := r.watcher.Run(ctx, func(b watch.Batch) {
			if h := s.testHookBatch.Load(); h != nil {
				(*h)(b)
			}
			if b.Full {
				s.index(ctx, r, p, "")
				return
			}
			s.update(ctx, r, p, b.Paths)
		})
		if err != nil && ctx.Err() == nil {
			s.log.Error("watching stopped", "project", p.ID, "err", err)
			r.mu.Lock()
			r.state.Watching = "off"
			r.state.Hint = err.Error()
			r.mu.Unlock()
			s.emit()
		}
	})
}

// index reconciles a project (or a subtree) and fans the changes out.
func (s *Service) index(ctx context.Context, r *projectRun, p Project, sub string) {
	r.mu.Lock()
	if r.state.Indexing {
		r.mu.Unlock()
		return
	}
	r.state.Indexing = true
	r.mu.Unlock()
	s.emit()
	r.ignore.Store(index.LoadIgnorer(p.Root))
	ix := s.indexer(r, p)
	var lastMu sync.Mutex
	last := time.Time{}
	changes, problems, err := ix.Reconcile(ctx, sub, func(pr progress.Progress) {
		lastMu.Lock()
		if time.Since(last) < 200*time.Millisecond {
			lastMu.Unlock()
			return
		}
		last = time.Now()
		lastMu.Unlock()
		r.mu.Lock()
		r.state.Progress = pr
		r.mu.Unlock()
		s.emit()
	})
	var totals *index.Totals
	if err == nil && sub == "" && len(problems) == 0 {
		// The index now holds exactly what the walk found: no need to count
		// again (a recount reads every record: 0.5 s on 100,000 files).
		totals = &ix.Totals
	}
	s.finish(r, changes, problems, err, true, totals)
	if sub == "" {
		// A whole-project pass held both listings in maps (tens of MB
		// for 100,000 files) that are garbage now: hand the pages back,
		// or the idle app keeps them as resident memory.
		debug.FreeOSMemory()
	}
}

func (s *Service) update(ctx context.Context, r *projectRun, p Project, paths []string) {
	for _, rel := range paths {
		if rel == index.IgnoreFile {
			// New ignore rules can bring in or leave out anything: look at everything again.
			s.index(ctx, r, p, "")
			return
		}
	}
	changes, problems, err := s.indexer(r, p).Update(ctx, paths)
	s.finish(r, changes, problems, err, false, nil)
}

func (s *Service) indexer(r *projectRun, p Project) *index.Indexer {
	return &index.Indexer{Root: p.Root, Project: p.ID, Store: index.NewStore(s.db, p.ID), Ignore: r.ignore.Load(), Log: s.log}
}

// finish records the outcome of an index pass; totals, when known, are the
// whole project's after a full pass (else a full pass recounts lazily).
func (s *Service) finish(r *projectRun, changes []index.Change, problems []index.Problem, err error, full bool, totals *index.Totals) {
	s.onChange(host.Project{ID: r.state.ID, Name: r.state.Name, Root: r.state.Root}, changes)
	r.mu.Lock()
	if full {
		r.state.Indexing = false
		r.state.Progress = progress.Progress{}
		r.state.Problems = nil
	}
	r.state.Problems = append(r.state.Problems, problems...)
	if len(r.state.Problems) > maxProblems {
		r.state.Problems = r.state.Problems[len(r.state.Problems)-maxProblems:]
	}
	if len(changes) > 0 {
		r.state.LastChange = time.Now().UTC()
	}
	if full && totals != nil {
		// Set under the same lock as the end of the pass, so the emit
		// below never runs a recount it does not need.
		r.state.Files, r.state.Bytes, r.dirty = totals.Files, totals.Bytes, false
	} else if full {
		r.dirty = true // a full pass recounts from the index
	} else {
		for _, c := range changes {
			switch c.Op {
			case index.OpCreate:
				r.state.Files++
				r.state.Bytes += c.Record.Size
			case index.OpDelete:
				r.state.Files--
				r.state.Bytes -= c.Record.Size
			default:
				r.state.Bytes += c.Record.Size - c.PrevSize
			}
		}
	}
	if r.watcher != nil {
		if r.watcher.Polling() {
			r.state.Watching = "polling"
		}
		if h := r.watcher.Hint(); h != "" {
			r.state.Hint = h
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		r.state.Hint = err.Error()
		s.log.Warn("indexing", "project", r.state.ID, "err", err)
	}
	r.mu.Unlock()
	for _, pr := range problems {
		s.log.Warn("file not indexed", "project", r.state.ID, "path", pr.Path, "err", pr.Err)
	}
	if len(changes) > 0 || len(problems) > 0 || full {
		s.emit()
	}
}

// reconcile brings a project's index in line with its folder now (the
// stat-first pass of start-up: a file whose size or time changed is hashed
// again) and waits for it, so what a caller reads next is what is on disk.
// When a pass is already under way (the watcher's), it waits for that one
// and runs its own after: an edit made meanwhile is seen either way.
func (s *Service) reconcile(ctx context.Context, project string) error {
	p, err := s.find(project)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p.Root); err != nil {
		return fmt.Errorf("the folder of %s, %s, is not reachable (moved, or a drive unmounted?): %w", p.ID, p.Root, err)
	}
	s.mu.Lock()
	r := s.runs[p.ID]
	s.mu.Unlock()
	if r == nil {
		r = &projectRun{state: ProjectSummary{Project: p, Watching: "off"}, dirty: true}
		r.ignore.Store(index.LoadIgnorer(p.Root))
	}
	if err := s.waitIndexed(ctx, r); err != nil {
		return err
	}
	s.index(ctx, r, p, "") // returns at once if another pass just began: waited for below
	if err := s.waitIndexed(ctx, r); err != nil {
		return err
	}
	return ctx.Err()
}

// waitIndexed waits until no index pass of r is under way.
func (s *Service) waitIndexed(ctx context.Context, r *projectRun) error {
	for {
		r.mu.Lock()
		busy := r.state.Indexing
		r.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
