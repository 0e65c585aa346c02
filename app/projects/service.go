package projects

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"atelier/app/apierr"
	"atelier/app/host"
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

// Host is what the projects feature needs from the engine.
type Host interface {
	host.Runner
	host.Emitter
	// PickFolder asks for a folder with the desktop's native dialog; it
	// fails where there is no desktop window.
	PickFolder(title string) (string, error)
}

// Config builds the projects feature.
type Config struct {
	DB   *localdb.DB
	Log  *slog.Logger
	Host Host
	// Record stores usage events (privacy.Usage).
	Record host.Recorder
	// OnChange receives every index change of a project with the project
	// (its root included): the engine fans it out from there.
	OnChange func(p host.Project, changes []index.Change)
	// Background: the engine watches and indexes continuously (the desktop
	// app, the daemon); without it Add indexes before it returns.
	Background bool
	// Version, DataDir and CacheDir are reported by Status.
	Version, DataDir, CacheDir string
}

// Service registers project folders and keeps their index live. It is the
// bound "Projects" service: its exported methods are routes.
type Service struct {
	db         *localdb.DB
	log        *slog.Logger
	host       Host
	record     host.Recorder
	onChange   func(p host.Project, changes []index.Change)
	background bool
	version    string
	dataDir    string
	cacheDir   string

	mu   sync.Mutex
	runs map[index.ProjectID]*projectRun
	emit func() // throttled ProjectsEvent

	testHookBatch atomic.Pointer[func(watch.Batch)] // tests: runs before each watcher batch

	// The projects as last read: status polls (the tray's, every minute)
	// and queries must not reopen a database closed while idle. Only this
	// service writes projectsTable; each write bumps listGen.
	listMu  sync.Mutex
	list    []Project
	listOK  bool
	listGen uint64
}

// forgetList drops the cached projects (before and after a write of one).
func (s *Service) forgetList() {
	s.listMu.Lock()
	s.list, s.listOK = nil, false
	s.listGen++
	s.listMu.Unlock()
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

// New opens the projects feature: the bound service, and the engine's
// Control of it (through which the other features read projects and the
// index).
func New(c Config) (*Service, *Control, error) {
	if err := c.DB.Migrate("projects", []localdb.Migration{{Version: 1, Name: "projects and file index"}}); err != nil {
		return nil, nil, err
	}
	s := &Service{db: c.DB, log: c.Log, host: c.Host, record: c.Record, onChange: c.OnChange, background: c.Background,
		version: c.Version, dataDir: c.DataDir, cacheDir: c.CacheDir, runs: map[index.ProjectID]*projectRun{}}
	s.emit = host.Throttled(c.Host, 300*time.Millisecond, func() { c.Host.Emit(ProjectsEvent, s.summaries()) })
	if !c.Background {
		// A one-shot engine (the CLI without a running app) has nobody to
		// tell, and its projects have no live runs to summarise: each
		// emit recounted the whole index of the project being added.
		s.emit = func() {}
	}
	return s, &Control{s: s}, nil
}

func (s *Service) start(ctx context.Context) {
	ps, err := s.projects()
	if err != nil {
		s.log.Error("list projects", "err", err)
		return
	}
	for _, p := range ps {
		s.watch(p)
	}
}

func (s *Service) close() error {
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

func (s *Service) projects() ([]Project, error) {
	s.listMu.Lock()
	if s.listOK {
		out := slices.Clone(s.list)
		s.listMu.Unlock()
		return out, nil
	}
	gen := s.listGen
	s.listMu.Unlock()
	var out []Project
	err := s.db.View(func(tx *localdb.Tx) error {
		return projectsTable.Scan(tx, "", func(_ string, p Project) error {
			out = append(out, p)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	if err == nil {
		s.listMu.Lock()
		if gen == s.listGen {
			s.list, s.listOK = slices.Clone(out), true
		}
		s.listMu.Unlock()
	}
	return out, err
}

// find resolves a project by id, name or folder path.
func (s *Service) find(ref string) (Project, error) {
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
func (s *Service) Add(path string) (ProjectSummary, error) {
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
	s.forgetList()
	err = s.db.Update(func(tx *localdb.Tx) error { return projectsTable.Put(tx, id, p) })
	s.forgetList()
	if err != nil {
		return ProjectSummary{}, err
	}
	s.log.Info("project added", "project", id, "root", abs)
	s.record("project.added", nil)
	if s.background {
		s.watch(p)
		s.emit()
		return s.summary(p), nil
	}
	run := &projectRun{state: ProjectSummary{Project: p, Watching: "off"}, dirty: true}
	s.index(s.host.Context(), run, p, "")
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
func (s *Service) PickFolder() (string, error) {
	return s.host.PickFolder("Choose a project folder")
}

// Remove forgets a project: its index and watch. The folder itself is not touched.
func (s *Service) Remove(ref string) error {
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
	s.forgetList()
	err = s.db.Update(func(tx *localdb.Tx) error { return projectsTable.Delete(tx, string(p.ID)) })
	s.forgetList()
	if err != nil {
		return err
	}
	if err := index.DropProject(s.db, p.ID); err != nil {
		return fmt.Errorf("forget the index of %s: %w", p.ID, err)
	}
	s.log.Info("project removed", "project", p.ID)
	s.emit()
	return nil
}

// Files lists a project's indexed files, optionally of one kind.
func (s *Service) Files(project, kind string) ([]index.FileRecord, error) {
	p, err := s.find(project)
	if err != nil {
		return nil, err
	}
	return s.records(p.ID, kind)
}

func (s *Service) records(id index.ProjectID, kind string) ([]index.FileRecord, error) {
	// Sized from the project's count when all its files are asked for:
	// growing the slice record by record was most of listing 100,000.
	n := 0
	if kind == "" {
		s.mu.Lock()
		r := s.runs[id]
		s.mu.Unlock()
		if r != nil {
			r.mu.Lock()
			n = r.state.Files // a hint: a few off is fine
			r.mu.Unlock()
		}
	}
	out := make([]index.FileRecord, 0, max(n, 0))
	err := index.NewStore(s.db, id).All(func(r index.FileRecord) error {
		if kind == "" || string(r.Kind) == kind {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// file returns one file's record (for Library, through Control; not a route).
func (s *Service) file(project index.ProjectID, path string) (index.FileRecord, error) {
	r, ok, err := index.NewStore(s.db, project).Get(path)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, apierr.Errorf(apierr.NotFound, "%s is not in the index of %s (ignored, or not there any more)", path, project)
	}
	return r, nil
}

// Rescan re-examines a whole project now.
func (s *Service) Rescan(project string) (ProjectSummary, error) {
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
	s.index(s.host.Context(), r, p, "")
	return s.snapshot(r), nil
}
