// Package watch watches a project folder recursively and reports which paths
// need a look, debounced and coalesced. fsnotify is not recursive on Linux, so
// every directory gets its own watch; a new directory is watched and then
// walked, so files created in it before its watch existed are not missed.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Batch is what the watcher hands on: relative paths to re-examine, or a full
// rescan: first when the watches are in place, then when events were lost.
type Batch struct {
	Paths []string // files or directories, slash-separated, relative to the root
	Full  bool     // events were lost (overflow, watch limit): rescan everything
}

// Options tune a Watcher. Zero values take the defaults.
type Options struct {
	Debounce time.Duration // quiet time per path before it is reported (default 100 ms)
	MaxDelay time.Duration // a busy path is reported at least this often (default 1 s)
	Storm    int           // more pending paths than this collapse to their directories (default 2000)
	// Reconcile is the periodic full rescan, a safety net for events the
	// kernel never sent (default 1 h, as Syncthing rescans with its watcher
	// on; lost events already rescan at once; <0 off). At 100,000 files a
	// rescan is 2-3 s of CPU: every 15 min it was most of an idle engine's.
	Reconcile time.Duration
	Poll      time.Duration // > 0: poll instead of using events (network mounts); default: automatic
	Ignored   func(rel string, isDir bool) bool
	Log       *slog.Logger
}

// Watcher watches one root.
type Watcher struct {
	root string
	opt  Options
	log  *slog.Logger

	mu      sync.Mutex
	pending map[string]*pendingPath
	full    bool
	polling bool
	hint    string
}

type pendingPath struct{ first, last time.Time }

// New prepares a watcher for root.
func New(root string, opt Options) *Watcher {
	if opt.Debounce <= 0 {
		opt.Debounce = 100 * time.Millisecond
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = time.Second
	}
	if opt.Storm <= 0 {
		opt.Storm = 2000
	}
	if opt.Reconcile == 0 {
		opt.Reconcile = time.Hour
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Ignored == nil {
		opt.Ignored = func(string, bool) bool { return false }
	}
	return &Watcher{root: root, opt: opt, log: opt.Log, pending: map[string]*pendingPath{}}
}

// Polling reports whether the watcher polls (no events from this file system).
func (w *Watcher) Polling() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.polling
}

// Hint is the last advice for the user (for example about the inotify limit).
func (w *Watcher) Hint() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hint
}

// Run watches until ctx ends, calling out with each batch (never concurrently).
func (w *Watcher) Run(ctx context.Context, out func(Batch)) error {
	poll := w.opt.Poll
	if poll <= 0 && isNetworkFS(w.root) {
		poll = 30 * time.Second
		w.log.Info("no file events on this file system; polling", "root", w.root, "every", poll)
	}
	if poll > 0 {
		w.mu.Lock()
		w.polling = true
		w.mu.Unlock()
		return w.runPolling(ctx, poll, out)
	}
	fw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return fmt.Errorf("start watching %s: %w", w.root, err)
	}
	defer fw.Close()
	if err := w.addTree(fw, ""); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			w.limitReached(err)
			return w.runPolling(ctx, 30*time.Second, out)
		}
		return err
	}
	out(Batch{Full: true}) // the first scan, now that every directory is watched
	// The debounce ticker runs only while something is pending: a watcher
	// with nothing happening sleeps until the kernel reports an event.
	var tick *time.Ticker
	var tickC <-chan time.Time
	arm := func() {
		if tick == nil {
			tick = time.NewTicker(w.opt.Debounce / 2)
			tickC = tick.C
		}
	}
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	arm() // addTree may have marked paths
	var reconcile <-chan time.Time
	if w.opt.Reconcile > 0 {
		t := time.NewTicker(w.opt.Reconcile)
		defer t.Stop()
		reconcile = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			w.event(fw, ev)
			arm()
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("file events overflowed; rescanning", "root", w.root,
					"hint", "raise fs.inotify.max_queued_events if this repeats")
			} else {
				w.log.Warn("watch error; rescanning", "root", w.root, "err", err)
			}
			w.mu.Lock()
			w.full = true
			w.mu.Unlock()
			arm()
		case <-reconcile:
			w.mu.Lock()
			w.full = true
			w.mu.Unlock()
			arm()
		case <-tickC:
			// Batches go out on the tick only: checking after every event would
			// make a storm quadratic in the number of pending paths.
			if b, ok := w.due(time.Now()); ok {
				out(b)
			}
			if w.quiet() {
				tick.Stop()
				tick, tickC = nil, nil
			}
		}
	}
}

func (w *Watcher) limitReached(err error) {
	w.mu.Lock()
	w.polling = true
	w.full = true
	w.hint = "The system's limit on watched folders was reached, so Atelier checks this project every 30 s instead. " +
		"Raise it with: sudo sysctl fs.inotify.max_user_watches=524288 (and add it to /etc/sysctl.conf)."
	w.mu.Unlock()
	w.log.Warn("inotify watch limit reached; polling", "root", w.root, "err", err, "hint", w.hint)
}

func (w *Watcher) runPolling(ctx context.Context, every time.Duration, out func(Batch)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	out(Batch{Full: true})
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			out(Batch{Full: true})
		}
	}
}

// addTree watches dir and every directory below it, then marks the whole
// subtree for a look: files created before the watches existed are found there.
func (w *Watcher) addTree(fw *fsnotify.Watcher, rel string) error {
	start := filepath.Join(w.root, filepath.FromSlash(rel))
	var limitErr error
	filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		r := w.rel(p)
		if r != "" && w.opt.Ignored(r, true) {
			return fs.SkipDir
		}
		if err := fw.Add(p); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				limitErr = err
				return fs.SkipAll
			}
			// vanished or unreadable: the indexer reports it
		}
		return nil
	})
	if limitErr != nil {
		return limitErr
	}
	if rel != "" {
		w.mark(rel, time.Now())
	}
	return nil
}

func (w *Watcher) event(fw *fsnotify.Watcher, ev fsnotify.Event) {
	rel := w.rel(ev.Name)
	if rel == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.mu.Lock()
			w.full = true // the root itself went away
			w.mu.Unlock()
		}
		return
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if w.opt.Ignored(rel, true) {
				return
			}
			if err := w.addTree(fw, rel); errors.Is(err, syscall.ENOSPC) {
				w.limitReached(err)
			}
			return
		}
	}
	if w.opt.Ignored(rel, false) {
		return
	}
	// Removing a watched directory's watch is fsnotify's job; we only look again.
	w.mark(rel, time.Now())
}

// quiet says whether nothing is pending (the debounce ticker may stop).
func (w *Watcher) quiet() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.full && len(w.pending) == 0
}

func (w *Watcher) mark(rel string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.pending[rel]; ok {
		p.last = now
		return
	}
	w.pending[rel] = &pendingPath{first: now, last: now}
}

// due returns the paths that have been quiet for the debounce time or waited
// for the maximum delay. A storm of pending paths collapses to directories.
func (w *Watcher) due(now time.Time) (Batch, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.full {
		w.full = false
		w.pending = map[string]*pendingPath{}
		return Batch{Full: true}, true
	}
	if len(w.pending) > w.opt.Storm {
		w.collapse()
	}
	var b Batch
	for rel, p := range w.pending {
		if now.Sub(p.last) >= w.opt.Debounce || now.Sub(p.first) >= w.opt.MaxDelay {
			b.Paths = append(b.Paths, rel)
			delete(w.pending, rel)
		}
	}
	if len(b.Paths) == 0 {
		return b, false
	}
	sort.Strings(b.Paths)
	return b, true
}

// collapse replaces pending paths by their parent directories until few remain.
func (w *Watcher) collapse() {
	for len(w.pending) > w.opt.Storm/4 {
		next := map[string]*pendingPath{}
		changed := false
		for rel, p := range w.pending {
			d := path.Dir(rel)
			if d == "." {
				d = ""
			}
			if d != rel {
				changed = true
			}
			if q, ok := next[d]; ok {
				if p.first.Before(q.first) {
					q.first = p.first
				}
				if p.last.After(q.last) {
					q.last = p.last
				}
			} else {
				cp := *p
				next[d] = &cp
			}
		}
		w.pending = next
		if !changed {
			return
		}
	}
}

func (w *Watcher) rel(p string) string {
	r, err := filepath.Rel(w.root, p)
	if err != nil || r == "." || strings.HasPrefix(r, "..") {
		return ""
	}
	return filepath.ToSlash(r)
}

// Network and FUSE file systems deliver no inotify events for changes made
// elsewhere; they are polled.
var networkFS = map[int64]string{
	0x6969:     "nfs",
	0xFF534D42: "cifs",
	0xFE534D42: "smb2",
	0x517B:     "smb",
	0x65735546: "fuse",
	0x564c:     "ncp",
	0x01161970: "gfs2",
	0x47504653: "gpfs",
	0x5346414F: "afs",
}

func isNetworkFS(root string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return false
	}
	_, ok := networkFS[int64(st.Type)]
	return ok
}
