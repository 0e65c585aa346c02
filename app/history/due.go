package history

import (
	"context"
	"errors"
	"time"

	"atelier/localdb"
)

// The pending changes' due times are kept in memory, one entry per project
// (rebuilt from the pending table when history opens), so Run sleeps until
// the next project settles instead of ticking, and a pass reads the pending
// changes of the projects that are due only. After a first version of
// 100,000 files the pending table holds 100,000 deleted keys until Badger
// compacts them: scanning it every second was most of an idle engine's CPU.

// due is what is known of a project's pending changes.
type due struct {
	oldest, newest time.Time // when the oldest and newest pending change arrived
	gen            uint64    // changes when a change is considered
	retry          time.Time // after a failed version: not before this
}

// at is when the project's changes are taken: once the newest settled, or
// under constant edits at least every 20 settles (and not before a retry).
func (d *due) at(settle time.Duration) time.Time {
	t := d.newest.Add(settle)
	if o := d.oldest.Add(20 * settle); o.Before(t) {
		t = o
	}
	if d.retry.After(t) {
		t = d.retry
	}
	return t
}

// loadDue rebuilds the due times from the pending table (at open).
func (h *History) loadDue() error {
	h.due = map[string]*due{}
	return h.o.DB.View(func(tx *localdb.Tx) error {
		return pendingT.Scan(tx, "", func(k string, p pending) error {
			parts := splitKey(k)
			if len(parts) != 2 {
				return nil
			}
			h.noteLocked(parts[0], p.At)
			return nil
		})
	})
}

// noteLocked records a change of project considered at t (h.dmu held).
func (h *History) noteLocked(project string, t time.Time) {
	h.gen++
	d := h.due[project]
	if d == nil {
		h.due[project] = &due{oldest: t, newest: t, gen: h.gen}
		return
	}
	if t.After(d.newest) {
		d.newest = t
	}
	if t.Before(d.oldest) {
		d.oldest = t
	}
	d.gen = h.gen
}

// noted records a change of project considered at t and wakes Run.
func (h *History) noted(project string, t time.Time) {
	h.dmu.Lock()
	h.noteLocked(project, t)
	h.dmu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// dueGen is project's generation now (0: nothing pending) and the time.
func (h *History) dueGen(project string) (uint64, time.Time) {
	h.dmu.Lock()
	defer h.dmu.Unlock()
	if d := h.due[project]; d != nil {
		return d.gen, h.o.Now()
	}
	return 0, h.o.Now()
}

// settled records that project's pending changes up to generation gen
// (read at since) were taken: project is forgotten unless a change arrived
// meanwhile; then what is left arrived after since.
func (h *History) settled(project string, gen uint64, since time.Time) {
	h.dmu.Lock()
	defer h.dmu.Unlock()
	d := h.due[project]
	switch {
	case d == nil:
	case d.gen == gen:
		delete(h.due, project)
	default:
		if since.After(d.oldest) {
			d.oldest = since
		}
		if d.newest.Before(d.oldest) {
			d.newest = d.oldest
		}
		d.retry = time.Time{}
	}
}

// failed delays project's next try by a settle.
func (h *History) failed(project string) {
	h.dmu.Lock()
	defer h.dmu.Unlock()
	if d := h.due[project]; d != nil {
		d.retry = h.o.Now().Add(h.o.Settle)
	}
}

// forget drops project's due time (history turned off: its pending changes
// are gone).
func (h *History) forget(project string) {
	h.dmu.Lock()
	delete(h.due, project)
	h.dmu.Unlock()
}

// dueProjects lists the projects due at now (all when force), and how many
// have changes pending.
func (h *History) dueProjects(now time.Time, force bool) (ready []string, pending int) {
	h.dmu.Lock()
	defer h.dmu.Unlock()
	for p, d := range h.due {
		if force || !now.Before(d.at(h.o.Settle)) {
			ready = append(ready, p)
		}
	}
	return ready, len(h.due)
}

// next is when the next project is due (ok false: nothing pending).
func (h *History) next() (t time.Time, ok bool) {
	h.dmu.Lock()
	defer h.dmu.Unlock()
	for _, d := range h.due {
		if a := d.at(h.o.Settle); !ok || a.Before(t) {
			t, ok = a, true
		}
	}
	return t, ok
}

// DropCachesAfter is how long after taking versions, with nothing pending,
// Run drops the vault's cached snapshots and trees (~25 MB after a first
// version of 100,000 files): an idle engine holds none of it, and the
// database's idle close (localdb.CloseAfter, later) returns the memory.
var DropCachesAfter = time.Minute

// Run takes versions as files settle, until ctx ends. With nothing pending
// it sleeps until a change is considered.
func (h *History) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	defer idle.Stop()
	for {
		if !armed {
			if at, ok := h.next(); ok {
				// Never longer than a settle: a clock that jumped does
				// not hold a version back.
				timer.Reset(min(max(at.Sub(h.o.Now()), 0), h.o.Settle))
				armed = true
			}
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-h.wake:
			// A change: the armed timer fires no later than before
			// (changes only move a project's time later), or one is armed.
		case <-timer.C:
			armed = false
			if _, err := h.flush(ctx, false); err != nil && !errors.Is(err, ErrPaused) && ctx.Err() == nil {
				h.log.Warn("local history: taking versions failed; will try again", "err", err)
			}
			idle.Reset(DropCachesAfter)
		case <-idle.C:
			if _, pending := h.next(); !pending && h.Taking() == "" {
				h.v.DropCaches()
				h.log.Debug("local history: idle, cached snapshots and trees dropped")
			}
		}
	}
}
