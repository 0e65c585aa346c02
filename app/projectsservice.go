package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"atelier/app/apierr"
	"atelier/app/index"
	"atelier/app/watch"
	"atelier/localdb"
	"atelier/progress"
)

// Project is a registered project folder.
type Project struct {
	ID    index.ProjectID `json:"id"`
	Name  string          `json:"name"`
	Root  string          `json:"root"`
	Added time.Time       `json:"added"`
}

// ProjectSummary is a project with its live state, as the Projects view shows it.
type ProjectSummary struct {
	Project
	Files      int               `json:"files"`
	Bytes      int64             `json:"bytes"`
	LastChange time.Time         `json:"lastChange"`
	Indexing   bool              `json:"indexing"`
	Progress   progress.Progress `json:"progress"`
	Problems   []index.Problem   `json:"problems"`
	Watching   string            `json:"watching"` // "events", "polling", "off"
	Hint       string            `json:"hint,omitempty"`
}

// Status is the engine's overall state.
type Status struct {
	Version  string           `json:"version"`
	DataDir  string           `json:"dataDir"`
	CacheDir string           `json:"cacheDir"`
	Projects []ProjectSummary `json:"projects"`
	Files    int              `json:"files"`
	Bytes    int64            `json:"bytes"`
	Indexing bool             `json:"indexing"`
	Running  bool             `json:"running"` // background work on (desktop app or daemon)
	DBBytes  int64            `json:"dbBytes"`
}

var projectsTable = localdb.NewTable[Project]("proj/p/")

// ProjectsEvent carries []ProjectSummary when a project's state changes.
const ProjectsEvent = "projects"

// maxProblems bounds the problems kept per project.
const maxProblems = 200

// ProjectsService registers project folders and keeps their index live.
type ProjectsService struct {
	e    *Engine
	mu   sync.Mutex
	runs map[index.ProjectID]*projectRun
	emit func() // throttled ProjectsEvent

	testHookBatch atomic.Pointer[func(watch.Batch)] // tests: runs before each watcher batch
}

// projectRun is the live state of one watched project.
type projectRun struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	state   ProjectSummary
	dirty   bool // counts need a recount
	watcher *watch.Watcher
	ignore  atomic.Pointer[index.Ignorer] // reloaded when .atelierignore changes
}

func newProjectsService(e *Engine) (*ProjectsService, error) {
	if err := e.DB.Migrate("projects", []localdb.Migration{{Version: 1, Name: "projects and file index"}}); err != nil {
		return nil, err
	}
	s := &ProjectsService{e: e, runs: map[index.ProjectID]*projectRun{}}
	s.emit = throttled(e, 300*time.Millisecond, func() { e.Emit(ProjectsEvent, s.summaries()) })
	if !e.opts.Background {
		// A one-shot engine (the CLI without a running app) has nobody to
		// tell, and its projects have no live runs to summarise: each
		// emit recounted the whole index of the project being added.
		s.emit = func() {}
	}
	return s, nil
}

func (s *ProjectsService) start(ctx context.Context) {
	ps, err := s.projects()
	if err != nil {
		s.e.Log.Error("list projects", "err", err)
		return
	}
	for _, p := range ps {
		s.watch(p)
	}
}

func (s *ProjectsService) close() error {
	s.mu.Lock()
	runs := s.runs
	s.runs = map[index.ProjectID]*projectRun{}
	s.mu.Unlock()
	for _, r := range runs {
		r.cancel()
		<-r.done
	}
	return nil
}

func (s *ProjectsService) projects() ([]Project, error) {
	var out []Project
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		return projectsTable.Scan(tx, "", func(_ string, p Project) error {
			out = append(out, p)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, err
}

// find resolves a project by id, name or folder path.
func (s *ProjectsService) find(ref string) (Project, error) {
	ps, err := s.projects()
	if err != nil {
		return Project{}, err
	}
	abs, _ := filepath.Abs(ref)
	for _, p := range ps {
		if string(p.ID) == ref || p.Root == abs {
			return p, nil
		}
	}
	for _, p := range ps {
		if strings.EqualFold(p.Name, ref) {
			return p, nil
		}
	}
	return Project{}, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list` for the registered ones", ref)
}

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

// Add registers the folder at path and indexes it. In the desktop app or
// daemon the index then stays live; from the CLI without an engine the first
// index is built before Add returns.
func (s *ProjectsService) Add(path string) (ProjectSummary, error) {
	if strings.HasPrefix(path, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(h, path[2:])
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ProjectSummary{}, err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return ProjectSummary{}, fmt.Errorf("cannot add %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return ProjectSummary{}, apierr.Errorf(apierr.InvalidInput, "cannot add %s: it is a file; choose the folder that holds your project", abs)
	}
	ps, err := s.projects()
	if err != nil {
		return ProjectSummary{}, err
	}
	taken := map[string]bool{}
	for _, p := range ps {
		if p.Root == abs {
			return ProjectSummary{}, apierr.Errorf(apierr.Conflict, "%s is already a project (%s)", abs, p.ID)
		}
		if within(abs, p.Root) || within(p.Root, abs) {
			return ProjectSummary{}, apierr.Errorf(apierr.Conflict, "%s overlaps the project %s at %s: projects cannot contain each other; remove one first", abs, p.ID, p.Root)
		}
		taken[string(p.ID)] = true
	}
	name := filepath.Base(abs)
	base := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if base == "" {
		base = "project"
	}
	id := base
	for i := 2; taken[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	p := Project{ID: index.ProjectID(id), Name: name, Root: abs, Added: time.Now().UTC()}
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return projectsTable.Put(tx, id, p) }); err != nil {
		return ProjectSummary{}, err
	}
	s.e.Log.Info("project added", "project", id, "root", abs)
	s.e.Privacy.record("project.added", nil)
	if s.e.opts.Background {
		s.watch(p)
		s.emit()
		return s.summary(p), nil
	}
	run := &projectRun{state: ProjectSummary{Project: p, Watching: "off"}, dirty: true}
	s.index(s.e.Context(), run, p, "")
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.dirty {
		s.recount(run)
	}
	return run.state, nil
}

func within(child, parent string) bool {
	rel, err := filepath.Rel(parent, child)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}

// PickFolder asks for a folder with the desktop's native dialog ("" when cancelled).
func (s *ProjectsService) PickFolder() (string, error) {
	sh := s.e.desktop()
	if sh == nil {
		return "", fmt.Errorf("no folder picker here: type the folder's path instead")
	}
	return sh.PickFolder("Choose a project folder")
}

// Remove forgets a project: its index and watch. The folder itself is not touched.
func (s *ProjectsService) Remove(ref string) error {
	p, err := s.find(ref)
	if err != nil {
		return err
	}
	s.mu.Lock()
	r := s.runs[p.ID]
	delete(s.runs, p.ID)
	s.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return projectsTable.Delete(tx, string(p.ID)) }); err != nil {
		return err
	}
	if err := index.DropProject(s.e.DB, p.ID); err != nil {
		return fmt.Errorf("forget the index of %s: %w", p.ID, err)
	}
	s.e.Log.Info("project removed", "project", p.ID)
	s.emit()
	return nil
}

// List returns every project with its live state.
func (s *ProjectsService) List() ([]ProjectSummary, error) {
	ps, err := s.projects()
	if err != nil {
		return nil, err
	}
	out := make([]ProjectSummary, 0, len(ps))
	for _, p := range ps {
		out = append(out, s.summary(p))
	}
	return out, nil
}

func (s *ProjectsService) summaries() []ProjectSummary {
	l, err := s.List()
	if err != nil {
		s.e.Log.Warn("list projects", "err", err)
	}
	return l
}

func (s *ProjectsService) summary(p Project) ProjectSummary {
	s.mu.Lock()
	r := s.runs[p.ID]
	s.mu.Unlock()
	if r == nil {
		r = &projectRun{state: ProjectSummary{Project: p, Watching: "off"}, dirty: true}
	}
	return s.snapshot(r)
}

// snapshot copies a run's state, recounting first if changes made it stale.
func (s *ProjectsService) snapshot(r *projectRun) ProjectSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dirty {
		s.recount(r)
	}
	st := r.state
	st.Problems = append([]index.Problem(nil), st.Problems...)
	if st.Problems == nil {
		st.Problems = []index.Problem{}
	}
	return st
}

// recount refreshes a run's file count and size from the index (r.mu held).
func (s *ProjectsService) recount(r *projectRun) {
	n, b := 0, int64(0)
	var last time.Time
	index.NewStore(s.e.DB, r.state.ID).All(func(fr index.FileRecord) error {
		n++
		b += fr.Size
		if fr.ModTime.After(last) {
			last = fr.ModTime
		}
		return nil
	})
	r.state.Files, r.state.Bytes = n, b
	if last.After(r.state.LastChange) {
		r.state.LastChange = last
	}
	r.dirty = false
}

// Files lists a project's indexed files, optionally of one kind.
func (s *ProjectsService) Files(project, kind string) ([]index.FileRecord, error) {
	p, err := s.find(project)
	if err != nil {
		return nil, err
	}
	out := []index.FileRecord{}
	err = index.NewStore(s.e.DB, p.ID).All(func(r index.FileRecord) error {
		if kind == "" || string(r.Kind) == kind {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// FileHit is a file found by Search.
type FileHit struct {
	Project index.ProjectID `json:"project"`
	Path    string          `json:"path"`
	Kind    index.Kind      `json:"kind"`
	Size    int64           `json:"size"`
}

// Search finds files across every project whose path contains each word of
// query (case-insensitive), best matches (name hits, shorter paths) first.
func (s *ProjectsService) Search(query string, limit int) ([]FileHit, error) {
	words := strings.Fields(strings.ToLower(query))
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	hits := []FileHit{}
	if len(words) == 0 {
		return hits, nil
	}
	ps, err := s.projects()
	if err != nil {
		return nil, err
	}
	type scored struct {
		FileHit
		score int
	}
	var found []scored
	for _, p := range ps {
		err := index.NewStore(s.e.DB, p.ID).All(func(r index.FileRecord) error {
			lp := strings.ToLower(r.Path)
			score := 0
			for _, w := range words {
				i := strings.Index(lp, w)
				if i < 0 {
					return nil
				}
				if i >= strings.LastIndex(lp, "/") {
					score += 10 // in the file name, not a folder
				}
			}
			found = append(found, scored{FileHit{Project: p.ID, Path: r.Path, Kind: r.Kind, Size: r.Size}, score*1000 - len(r.Path)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score > found[j].score })
	for i := 0; i < len(found) && i < limit; i++ {
		hits = append(hits, found[i].FileHit)
	}
	return hits, nil
}

// file returns one file's record (for Library; not a bound route).
func (s *ProjectsService) file(project, path string) (index.FileRecord, error) {
	p, err := s.find(project)
	if err != nil {
		return index.FileRecord{}, err
	}
	r, ok, err := index.NewStore(s.e.DB, p.ID).Get(path)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, apierr.Errorf(apierr.NotFound, "%s is not in the index of %s (ignored, or not there any more)", path, p.ID)
	}
	return r, nil
}

// root returns a project's folder (for Library and Sync; not a bound route).
func (s *ProjectsService) root(project string) (string, error) {
	p, err := s.find(project)
	if err != nil {
		return "", err
	}
	return p.Root, nil
}

// Rescan re-examines a whole project now.
func (s *ProjectsService) Rescan(project string) (ProjectSummary, error) {
	p, err := s.find(project)
	if err != nil {
		return ProjectSummary{}, err
	}
	s.mu.Lock()
	r := s.runs[p.ID]
	s.mu.Unlock()
	if r == nil {
		r = &projectRun{state: ProjectSummary{Project: p, Watching: "off"}, dirty: true}
	}
	s.index(s.e.Context(), r, p, "")
	return s.snapshot(r), nil
}

// reconcile brings a project's index in line with its folder now (the
// stat-first pass of start-up: a file whose size or time changed is hashed
// again) and waits for it, so what a caller reads next is what is on disk.
// When a pass is already under way (the watcher's), it waits for that one
// and runs its own after: an edit made meanwhile is seen either way.
func (s *ProjectsService) reconcile(ctx context.Context, project string) error {
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
func (s *ProjectsService) waitIndexed(ctx context.Context, r *projectRun) error {
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

// Status reports the engine and every project.
func (s *ProjectsService) Status() (Status, error) {
	ps, err := s.List()
	if err != nil {
		return Status{}, err
	}
	st := Status{Version: Version, DataDir: s.e.Dirs.Data, CacheDir: s.e.Dirs.Cache, Projects: ps, Running: s.e.opts.Background}
	for _, p := range ps {
		st.Files += p.Files
		st.Bytes += p.Bytes
		st.Indexing = st.Indexing || p.Indexing
	}
	lsm, vlog := s.e.DB.Size()
	st.DBBytes = lsm + vlog
	return st, nil
}

// watch starts the live index of p: a first reconcile, then watcher batches.
func (s *ProjectsService) watch(p Project) {
	ctx, cancel := context.WithCancel(s.e.Context())
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
	r.watcher = watch.New(p.Root, watch.Options{Ignored: ignored, Log: s.e.Log.With("project", p.ID)})
	s.e.Go(func(context.Context) {
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
			s.e.Log.Error("watching stopped", "project", p.ID, "err", err)
			r.mu.Lock()
			r.state.Watching = "off"
			r.state.Hint = err.Error()
			r.mu.Unlock()
			s.emit()
		}
	})
}

// index reconciles a project (or a subtree) and fans the changes out.
func (s *ProjectsService) index(ctx context.Context, r *projectRun, p Project, sub string) {
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

func (s *ProjectsService) update(ctx context.Context, r *projectRun, p Project, paths []string) {
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

func (s *ProjectsService) indexer(r *projectRun, p Project) *index.Indexer {
	return &index.Indexer{Root: p.Root, Project: p.ID, Store: index.NewStore(s.e.DB, p.ID), Ignore: r.ignore.Load(), Log: s.e.Log}
}

// finish records the outcome of an index pass; totals, when known, are the
// whole project's after a full pass (else a full pass recounts lazily).
func (s *ProjectsService) finish(r *projectRun, changes []index.Change, problems []index.Problem, err error, full bool, totals *index.Totals) {
	s.e.apply(changes)
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
		s.e.Log.Warn("indexing", "project", r.state.ID, "err", err)
	}
	r.mu.Unlock()
	for _, pr := range problems {
		s.e.Log.Warn("file not indexed", "project", r.state.ID, "path", pr.Path, "err", pr.Err)
	}
	if len(changes) > 0 || len(problems) > 0 || full {
		s.emit()
	}
}

// throttled returns a func that runs fn at most once per interval: the first
// call runs at once, calls during the interval coalesce into one run after it.
// fn runs on an engine goroutine, so it never outlives Close.
func throttled(e *Engine, interval time.Duration, fn func()) func() {
	kick := make(chan struct{}, 1)
	var once sync.Once
	return func() {
		once.Do(func() {
			e.Go(func(ctx context.Context) {
				for {
					select {
					case <-ctx.Done():
						return
					case <-kick:
					}
					fn()
					select {
					case <-ctx.Done():
						return
					case <-time.After(interval):
					}
				}
			})
		})
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}
