package library

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"atelier/app/host"
	"atelier/app/index"
	"atelier/app/library/meta"
	"atelier/app/library/xmp"
	"atelier/app/preview"
	"atelier/app/preview/audio"
	"atelier/app/preview/media"
	"atelier/app/preview/thumb"
	"atelier/localdb"
)

// Events the Library emits.
const (
	PreviewEvent         = "preview"         // []ReadyItem: files whose previews just finished
	PreviewProgressEvent = "previewProgress" // progress.Progress of the render queue
)

// prevMeta holds render results by preview id (prev/m/<id>).
var prevMeta = localdb.NewTable[preview.Meta]("prev/m/")

// Priorities of the render queue.
const (
	prioBackground = 0
	prioListed     = 10
	prioFocus      = 100
)

// LibraryItem is one file of a project with the state of its preview.
type LibraryItem struct {
	Path     string    `json:"path"` // relative to the project root
	Name     string    `json:"name"`
	Kind     string    `json:"kind"` // audio, image, video, document, module, other
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	Hash     string    `json:"hash"`
	Source   string    `json:"source"` // absolute path of the file (for playback)
	Status   string    `json:"status"` // ready, pending, failed, unsupported
	Error    string    `json:"error,omitempty"`
	Thumb    string    `json:"thumb,omitempty"`    // absolute path of the small thumbnail
	Large    string    `json:"large,omitempty"`    // absolute path of the large thumbnail
	Waveform string    `json:"waveform,omitempty"` // absolute path of the PNG waveform
	Peaks    string    `json:"peaks,omitempty"`    // absolute path of the audiowaveform .json peaks
	PeaksDat string    `json:"peaksDat,omitempty"` // absolute path of the audiowaveform .dat peaks
	Duration float64   `json:"duration,omitempty"` // seconds
	Width    int       `json:"width,omitempty"`
	Height   int       `json:"height,omitempty"`
	LUFS     *float64  `json:"lufs,omitempty"` // integrated loudness
	Warnings int       `json:"warnings,omitempty"`
}

// LoudnessTarget compares a measurement with a delivery target.
type LoudnessTarget struct {
	Name    string  `json:"name"`
	LUFS    float64 `json:"lufs"`
	GainDB  float64 `json:"gainDB"`      // gain to reach the target
	PeakDB  float64 `json:"peakAfterDB"` // sample peak after that gain
	Verdict string  `json:"verdict"`     // ok, loud, quiet
	Note    string  `json:"note"`
}

// LoudnessReport is the loudness of a file with the common targets.
type LoudnessReport struct {
	audio.Loudness
	Targets []LoudnessTarget `json:"targets"`
}

// PreviewDetail is everything known about one file's preview.
type PreviewDetail struct {
	LibraryItem
	Project  string           `json:"project"`
	Audio    *audio.Info      `json:"audio,omitempty"`
	Loudness *LoudnessReport  `json:"loudness,omitempty"`
	Image    *thumb.Info      `json:"image,omitempty"`
	Video    *media.VideoInfo `json:"video,omitempty"`
	Messages []string         `json:"messages,omitempty"` // warnings of the render
	Rendered time.Time        `json:"rendered,omitempty"`
	RenderMs int64            `json:"renderMs,omitempty"`
	// What the file says about itself (ID3, Vorbis, RIFF/bext/iXML, AIFF,
	// EXIF) and the creator's marks (find.go).
	Meta  *meta.Meta `json:"meta,omitempty"`
	Marks *xmp.Marks `json:"marks,omitempty"`
}

// QueueStats describes the render queue.
type QueueStats struct {
	preview.QueueStats
	CacheDir string `json:"cacheDir"`
	// PowerPaused: renders wait while the machine runs on battery (the
	// creator asked for it in Settings); the one under way finishes.
	PowerPaused bool `json:"powerPaused"`
}

// FileSource is how the Library reads projects and their indexed files
// (the projects feature's Control).
type FileSource interface {
	// Project resolves a project by id, name or folder.
	Project(ref string) (host.Project, error)
	// Projects lists the registered projects.
	Projects() ([]host.Project, error)
	// Record is one file's record (NotFound when not indexed).
	Record(project index.ProjectID, path string) (index.FileRecord, error)
	// Records lists a project's files, of one kind or all ("").
	Records(project index.ProjectID, kind string) ([]index.FileRecord, error)
}

// Host is what the Library needs from the engine.
type Host interface {
	host.Runner
	host.Emitter
}

// Config builds the Library.
type Config struct {
	DB       *localdb.DB
	Log      *slog.Logger
	Host     Host
	Files    FileSource
	Record   host.Recorder
	CacheDir string // previews: deletable, rebuilt on demand
	// Settle: how long a file must stay unchanged (size and modification
	// time) before its preview renders. 0 means one second.
	Settle time.Duration
}

// Service lists files and their previews (waveforms, thumbnails, loudness).
// It is the bound "Library" service: its exported methods are routes.
type Service struct {
	// staleHint counts the changes that may have left previews of content
	// no file holds any more (files deleted or rewritten) since the last
	// collection; the periodic collection scans the index only when it is
	// not zero, the projects changed, or the renderer did.
	staleHint atomic.Int64

	db     *localdb.DB
	log    *slog.Logger
	host   Host
	files  FileSource
	record host.Recorder
	cache  *preview.Cache
	queue  *preview.Queue

	mu      sync.Mutex
	wanted  map[string]preview.Key // tag (project/path) → key it wants
	ready   []ReadyItem            // finished since the last event
	emit    func()
	emitPr  func()
	batch   int64 // jobs added since the queue was last idle
	started bool
	// failed holds, per preview key, a render that failed without a stored
	// result (its metadata could not be written, or the render broke before
	// producing any): metaOf answers it, so the file is not queued again on
	// every listing. A change of the file (consider) or clearing the cache
	// forgets it.
	failed map[string]preview.Meta
	// settle: a changed file renders once it has been unchanged this long;
	// settling holds the timer of each file waiting for that.
	settle   time.Duration
	settling map[string]*time.Timer // tag → timer
	// powerHold, while set, holds renders back (on battery, when the
	// creator asked for it; queue.go): closed when the hold ends.
	powerHold chan struct{}

	// find is the searching side: the in-memory view of every file, the
	// marks (store and sidecars), the metadata cache (find.go).
	find *finder
	// sidecarWatch watches the sidecar folders kept out of projects.
	sidecarWatch sidecarWatches
}

// New opens the Library: the bound service and the engine's Control of it.
func New(c Config) (*Service, *Control, error) {
	if err := c.DB.Migrate("previews", []localdb.Migration{{Version: 1, Name: "preview metadata"}}); err != nil {
		return nil, nil, err
	}
	s := &Service{db: c.DB, log: c.Log, host: c.Host, files: c.Files, record: c.Record,
		cache: preview.NewCache(c.CacheDir), wanted: map[string]preview.Key{}, failed: map[string]preview.Meta{}}
	s.find = newFinder(s)
	s.queue = preview.NewQueue(0, s.render, s.finished)
	s.queue.LimitMemory(preview.DecodeMemory, preview.EstimateMemory)
	s.settle, s.settling = c.Settle, map[string]*time.Timer{}
	if s.settle <= 0 {
		s.settle = time.Second
	}
	s.emit = host.Throttled(c.Host, 250*time.Millisecond, s.flushReady)
	s.emitPr = host.Throttled(c.Host, 300*time.Millisecond, func() { c.Host.Emit(PreviewProgressEvent, s.progress()) })
	return s, &Control{s: s}, nil
}

func (s *Service) start(ctx context.Context) {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	s.checkCache() // a wiped cache invalidates the stored metadata
	s.queue.Start(ctx)
	s.host.Go(func(context.Context) { s.ensureLoaded() }) // the view, before the first query asks
	s.sidecarWatch.mu.Lock()
	s.sidecarWatch.ctx = ctx
	s.sidecarWatch.mu.Unlock()
	s.watchSidecars()
	s.host.Go(func(ctx context.Context) {
		t := time.NewTimer(2 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !s.mayHaveStale() {
					t.Reset(30 * time.Minute)
					continue
				}
				if n, err := s.collect(); err != nil {
					s.log.Warn("collect stale previews", "err", err)
				} else if n > 0 {
					s.log.Info("stale previews collected", "count", n)
				}
				t.Reset(30 * time.Minute)
			}
		}
	})
}

func (s *Service) close() error {
	s.mu.Lock()
	for tag, t := range s.settling {
		t.Stop()
		delete(s.settling, tag)
	}
	s.mu.Unlock()
	s.queue.Close()
	return nil
}

// List returns the files of a project (kind "" for all, or audio, image,
// video, document, module, other) with the state of their previews, sorted by
// path. Missing previews are queued (when the engine runs in the background).
func (s *Service) List(project, kind string) ([]LibraryItem, error) {
	if project == "" {
		return []LibraryItem{}, nil
	}
	p, err := s.files.Project(project)
	if err != nil {
		return nil, err
	}
	root := p.Root
	files, err := s.files.Records(p.ID, kind)
	if err != nil {
		return nil, err
	}
	s.checkCache()
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	out := make([]LibraryItem, 0, len(files))
	for _, r := range files {
		out = append(out, s.item(root, r, nil, s.running()))
	}
	return out, nil
}

// checkCache forgets the stored metadata when the cache directory was
// deleted under us (Settings → clear previews, or by hand): every preview is
// rendered again as it is listed.
func (s *Service) checkCache() {
	if _, err := os.Stat(s.cache.Root); err == nil || !os.IsNotExist(err) {
		return
	}
	if err := s.cacheCleared(); err != nil {
		s.log.Warn("forget preview metadata", "err", err)
	}
}

// cacheCleared forgets every stored preview: call it after emptying the cache dir.
func (s *Service) cacheCleared() error {
	s.mu.Lock()
	clear(s.failed)
	s.mu.Unlock()
	if err := os.MkdirAll(s.cache.Root, 0o700); err != nil {
		return err
	}
	return s.dropMeta(func(preview.Meta) bool { return true })
}

func (s *Service) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Detail returns a file's metadata and loudness report, with the common
// delivery targets (−14 LUFS streaming, −16 LUFS podcasts).
func (s *Service) Detail(project, p string) (PreviewDetail, error) {
	pr, err := s.files.Project(project)
	if err != nil {
		return PreviewDetail{}, err
	}
	root := pr.Root
	r, err := s.files.Record(pr.ID, p)
	if err != nil {
		return PreviewDetail{}, err
	}
	s.checkCache()
	d := PreviewDetail{Project: project, LibraryItem: s.item(root, r, nil, s.running())}
	s.findDetail(&d, r)
	key, ok := keyOf(r)
	if !ok {
		return d, nil
	}
	m, ok := s.metaOf(key)
	if !ok {
		return d, nil
	}
	// The cache may have been deleted under us: render again.
	for _, f := range m.Files {
		if _, err := os.Stat(f); err != nil {
			_ = s.db.Update(func(tx *localdb.Tx) error { return prevMeta.Delete(tx, m.ID) })
			d.Status = "pending"
			d.Thumb, d.Large, d.Waveform, d.Peaks, d.PeaksDat = "", "", "", "", ""
			if s.running() {
				s.enqueue(tagOf(r.Project, r.Path), key, d.Source, r.Size, prioFocus)
			}
			return d, nil
		}
	}
	d.Audio, d.Image, d.Video, d.Messages = m.Audio, m.Image, m.Video, m.Warnings
	d.Rendered, d.RenderMs = m.RenderedAt, m.RenderMs
	if m.Loudness != nil {
		d.Loudness = Report(*m.Loudness)
	}
	return d, nil
}

// Focus moves the previews of the given files (the ones on screen) to the
// front of the render queue.
func (s *Service) Focus(project string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	p, err := s.files.Project(project)
	if err != nil {
		return err
	}
	tags := make([]string, 0, len(paths))
	for _, rel := range paths {
		tags = append(tags, tagOf(p.ID, rel))
	}
	s.queue.Bump(tags, prioFocus)
	return nil
}

// Stats describes the render queue.
func (s *Service) Stats() QueueStats {
	s.mu.Lock()
	held := s.powerHold != nil
	s.mu.Unlock()
	return QueueStats{QueueStats: s.queue.Stats(), CacheDir: s.cache.Root, PowerPaused: held}
}

// Collect removes previews of content no project holds any more and of older
// renderer versions, from the cache and the database. It returns how many.
func (s *Service) Collect() (int, error) { return s.collect() }

// lastCollect is what the last collection saw (lib/collected/last): a
// collection can be skipped while nothing of it changed.
type lastCollect struct {
	Renderer int      `json:"renderer"`
	Projects []string `json:"projects"`
}

var collectedTable = localdb.NewTable[lastCollect]("lib/collected/")

// mayHaveStale says whether a collection could find anything: a file was
// deleted or rewritten since the last one (changes made while Atelier was
// closed come in as such by the index's reconcile at start), a project
// came or went, or the renderer changed.
func (s *Service) mayHaveStale() bool {
	if s.staleHint.Load() > 0 {
		return true
	}
	var last lastCollect
	var ok bool
	if err := s.db.View(func(tx *localdb.Tx) (err error) { last, ok, err = collectedTable.Get(tx, "last"); return }); err != nil || !ok {
		return true
	}
	ids, err := s.projectIDs()
	return err != nil || last.Renderer != preview.RendererVersion || !slices.Equal(ids, last.Projects)
}

func (s *Service) projectIDs() ([]string, error) {
	ps, err := s.files.Projects()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, string(p.ID))
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Service) collect() (int, error) {
	hint := s.staleHint.Load()
	live := map[index.Digest]bool{}
	ids, err := s.projectIDs()
	if err != nil {
		return 0, err
	}
	// Nothing rendered (a new library, or files without previews): nothing
	// to collect, and no reason to read the whole index (100,000 records
	// are most of a quiet engine's CPU in its first minutes).
	if s.cache.Empty() {
		if has, err := s.anyMeta(); err != nil || !has {
			return 0, s.collected(ids, hint, err)
		}
	}
	for _, id := range ids {
		recs, err := s.files.Records(index.ProjectID(id), "")
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			if previewable(r.Path) != "" {
				live[r.SHA256] = true
			}
		}
	}
	// Keyed by the digest itself: 100,000 hex strings were a good part of
	// a collection's garbage.
	isLive := func(h string) bool {
		var d index.Digest
		return len(h) == 2*len(d) && d.UnmarshalText([]byte(h)) == nil && live[d]
	}
	n, err := s.cache.Collect(isLive)
	if err != nil {
		return n, err
	}
	if err := s.dropMeta(func(m preview.Meta) bool { return !isLive(m.Hash) || m.Version != preview.RendererVersion }); err != nil {
		return n, err
	}
	return n, s.collected(ids, hint, nil)
}

// collected records a collection of the projects ids that saw hint changes
// (unless err: the next one tries again).
func (s *Service) collected(ids []string, hint int64, err error) error {
	if err != nil {
		return err
	}
	if err := s.db.Update(func(tx *localdb.Tx) error {
		return collectedTable.Put(tx, "last", lastCollect{Renderer: preview.RendererVersion, Projects: ids})
	}); err != nil {
		return err
	}
	s.staleHint.Add(-hint)
	return nil
}

// anyMeta reports whether any render result is stored.
func (s *Service) anyMeta() (bool, error) {
	found := false
	err := s.db.View(func(tx *localdb.Tx) error {
		return prevMeta.Keys(tx, "", func(string) error { found = true; return localdb.ErrStop })
	})
	return found, err
}

func (s *Service) dropMeta(drop func(preview.Meta) bool) error {
	var ids []string
	err := s.db.View(func(tx *localdb.Tx) error {
		return prevMeta.Scan(tx, "", func(id string, m preview.Meta) error {
			if drop(m) {
				ids = append(ids, id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		part := ids[:n]
		ids = ids[n:]
		if err := s.db.Update(func(tx *localdb.Tx) error {
			for _, id := range part {
				if err := prevMeta.Delete(tx, id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}
