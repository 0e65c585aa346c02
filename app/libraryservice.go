package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"atelier/app/apierr"
	"atelier/app/index"
	"atelier/app/preview"
	"atelier/app/preview/audio"
	"atelier/app/preview/mp3"
	"atelier/app/preview/thumb"
	"atelier/localdb"
	"atelier/progress"
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
	Project  string          `json:"project"`
	Audio    *audio.Info     `json:"audio,omitempty"`
	Loudness *LoudnessReport `json:"loudness,omitempty"`
	Image    *thumb.Info     `json:"image,omitempty"`
	Messages []string        `json:"messages,omitempty"` // warnings of the render
	Rendered time.Time       `json:"rendered,omitempty"`
	RenderMs int64           `json:"renderMs,omitempty"`
}

// QueueStats describes the render queue.
type QueueStats struct {
	preview.QueueStats
	CacheDir string `json:"cacheDir"`
}

// LibraryService lists files and their previews (waveforms, thumbnails, loudness).
type LibraryService struct {
	e     *Engine
	cache *preview.Cache
	queue *preview.Queue

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
}

func newLibraryService(e *Engine) (*LibraryService, error) {
	if err := e.DB.Migrate("previews", []localdb.Migration{{Version: 1, Name: "preview metadata"}}); err != nil {
		return nil, err
	}
	s := &LibraryService{e: e, cache: preview.NewCache(e.Dirs.Cache), wanted: map[string]preview.Key{}, failed: map[string]preview.Meta{}}
	s.queue = preview.NewQueue(0, s.render, s.finished)
	s.queue.LimitMemory(preview.DecodeMemory, preview.EstimateMemory)
	s.settle, s.settling = e.opts.PreviewSettle, map[string]*time.Timer{}
	if s.settle <= 0 {
		s.settle = time.Second
	}
	s.emit = throttled(e, 250*time.Millisecond, s.flushReady)
	s.emitPr = throttled(e, 300*time.Millisecond, func() { e.Emit(PreviewProgressEvent, s.progress()) })
	return s, nil
}

func (s *LibraryService) start(ctx context.Context) {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	s.checkCache() // a wiped cache invalidates the stored metadata
	s.queue.Start(ctx)
	s.e.Go(func(ctx context.Context) {
		t := time.NewTimer(2 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := s.collect(); err != nil {
					s.e.Log.Warn("collect stale previews", "err", err)
				} else if n > 0 {
					s.e.Log.Info("stale previews collected", "count", n)
				}
				t.Reset(30 * time.Minute)
			}
		}
	})
}

func (s *LibraryService) close() error {
	s.mu.Lock()
	for tag, t := range s.settling {
		t.Stop()
		delete(s.settling, tag)
	}
	s.mu.Unlock()
	s.queue.Close()
	return nil
}

// unsettle stops the settle timer of tag, if any.
func (s *LibraryService) unsettle(tag string) {
	s.mu.Lock()
	if t, ok := s.settling[tag]; ok {
		t.Stop()
		delete(s.settling, tag)
	}
	s.mu.Unlock()
}

// settleWait is how much longer a file last modified at mtime must stay
// unchanged before it renders (≤ 0: it has settled).
func (s *LibraryService) settleWait(mtime time.Time) time.Duration {
	return s.settle - time.Since(mtime)
}

// whenSettled renders the preview of r once the file has kept r's size and
// modification time for the settle time. A file that changed meanwhile is
// left to the change the index reports for it (which supersedes this one).
func (s *LibraryService) whenSettled(tag string, key preview.Key, abs string, r index.FileRecord, wait time.Duration) {
	// the lock is held until t and settling[tag] are set: the callback,
	// which takes it first, sees them even when it fires at once
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.settling[tag]; ok {
		old.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		s.mu.Lock()
		if s.settling[tag] != t {
			s.mu.Unlock()
			return // superseded
		}
		delete(s.settling, tag)
		s.mu.Unlock()
		st, err := os.Stat(abs)
		if err != nil || st.Size() != r.Size || st.ModTime().UnixNano() != r.ModTime.UnixNano() {
			return // gone or written again: its own change follows
		}
		if w := s.settleWait(st.ModTime()); w > 0 {
			s.whenSettled(tag, key, abs, r, w)
			return
		}
		if _, ok := s.metaOf(key); ok {
			return
		}
		s.enqueue(tag, key, abs, r.Size, prioBackground)
	})
	s.settling[tag] = t
}

func tagOf(project index.ProjectID, p string) string { return string(project) + "/" + p }

// previewable says which kind of preview a file gets ("" = none).
func previewable(p string) preview.Kind {
	switch strings.ToLower(path.Ext(p)) {
	case ".mp3", ".wav", ".wave", ".flac":
		return preview.Audio
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff":
		return preview.Image
	}
	return ""
}

func keyOf(r index.FileRecord) (preview.Key, bool) {
	k := previewable(r.Path)
	if k == "" || r.SHA256.IsZero() {
		return preview.Key{}, false
	}
	return preview.Key{Hash: r.SHA256.String(), Kind: k, Params: preview.DefaultParams(k)}, true
}

// consider queues a preview for an audio or image file without one, and
// cancels work for files that changed again or disappeared.
func (s *LibraryService) consider(c index.Change) {
	if c.From != "" {
		s.forget(tagOf(c.Record.Project, c.From))
	}
	tag := tagOf(c.Record.Project, c.Record.Path)
	s.unsettle(tag) // this change supersedes the one waiting
	if c.Op == index.OpDelete {
		s.forget(tag)
		return
	}
	key, ok := keyOf(c.Record)
	if !ok {
		s.forget(tag)
		return
	}
	s.mu.Lock()
	old, had := s.wanted[tag]
	s.mu.Unlock()
	if had && old.ID() != key.ID() {
		s.forget(tag)
	}
	if c.Op != index.OpRename || c.From == "" {
		// the file changed on disk: a failure of this content that the
		// disk or the cache caused (not the content) may be over
		s.mu.Lock()
		delete(s.failed, key.ID())
		s.mu.Unlock()
	}
	if _, ok := s.metaOf(key); ok {
		return
	}
	root, err := s.e.Projects.root(string(c.Record.Project))
	if err != nil {
		return
	}
	abs := filepath.Join(root, filepath.FromSlash(c.Record.Path))
	if wait := s.settleWait(c.Record.ModTime); wait > 0 {
		// written moments ago: a slow writer may not be done
		s.whenSettled(tag, key, abs, c.Record, wait)
		return
	}
	s.enqueue(tag, key, abs, c.Record.Size, prioBackground)
}

func (s *LibraryService) enqueue(tag string, key preview.Key, abs string, size int64, prio int) {
	s.mu.Lock()
	s.wanted[tag] = key
	s.mu.Unlock()
	if s.queue.Add(preview.Job{Key: key, Path: abs, Size: size, Priority: prio, Tag: tag}) {
		s.mu.Lock()
		s.batch++
		s.mu.Unlock()
		s.emitPr()
	}
}

func (s *LibraryService) forget(tag string) {
	s.unsettle(tag)
	s.mu.Lock()
	key, ok := s.wanted[tag]
	delete(s.wanted, tag)
	s.mu.Unlock()
	if ok {
		s.queue.Forget(key, tag)
	}
}

// metaOf returns the stored render result of key (db first, then the cache
// directory, which survives a lost db).
func (s *LibraryService) metaOf(key preview.Key) (preview.Meta, bool) {
	id := key.ID()
	s.mu.Lock()
	f, failed := s.failed[id]
	s.mu.Unlock()
	if failed {
		return f, true
	}
	var m preview.Meta
	var ok bool
	_ = s.e.DB.View(func(tx *localdb.Tx) error {
		var err error
		m, ok, err = prevMeta.Get(tx, id)
		return err
	})
	if ok {
		return m, true
	}
	if m, ok = s.cache.Load(id); ok {
		_ = s.e.DB.Update(func(tx *localdb.Tx) error { return prevMeta.Put(tx, id, m) })
		return m, true
	}
	return preview.Meta{}, false
}

func (s *LibraryService) render(ctx context.Context, j preview.Job, workers int) (preview.Meta, error) {
	return s.cache.Render(ctx, j.Key, j.Path, workers)
}

func (s *LibraryService) finished(d preview.Done) {
	if errors.Is(d.Err, context.Canceled) {
		s.emitPr()
		return
	}
	if d.Err != nil && d.Meta.Status != "failed" {
		// failed before a result was stored (the cache could not be
		// written, the file could not be read): remember it as failed
		d.Meta = preview.Meta{ID: d.Key.ID(), Hash: d.Key.Hash, Kind: d.Key.Kind, Version: preview.RendererVersion,
			Status: "failed", Error: d.Err.Error(), RenderedAt: time.Now().UTC(), RenderMs: d.Meta.RenderMs}
		s.mu.Lock()
		s.failed[d.Meta.ID] = d.Meta
		s.mu.Unlock()
	} else if d.Meta.ID != "" {
		if err := s.e.DB.Update(func(tx *localdb.Tx) error { return prevMeta.Put(tx, d.Meta.ID, d.Meta) }); err != nil {
			// never queue it again in a loop: keep the result in memory,
			// marked failed when it cannot be stored
			s.e.Log.Warn("store preview metadata", "preview", d.Meta.ID, "err", err)
			if d.Meta.Status != "failed" {
				d.Meta.Status, d.Meta.Error = "failed", "the preview's metadata could not be stored: "+err.Error()
				d.Meta.Files = nil
			}
			s.mu.Lock()
			s.failed[d.Meta.ID] = d.Meta
			s.mu.Unlock()
		}
	}
	result := "ok"
	if d.Err != nil {
		result = "error"
	}
	format := "other"
	if d.Meta.Audio != nil && d.Meta.Audio.Format != "" {
		format = d.Meta.Audio.Format
	}
	if d.Meta.Image != nil && d.Meta.Image.Format != "" && d.Meta.Image.Format != "bmp" && d.Meta.Image.Format != "tiff" {
		format = d.Meta.Image.Format
	}
	fields := map[string]any{"kind": string(d.Key.Kind), "format": format, "size": d.Job.Size, "ms": d.Meta.RenderMs, "result": result}
	s.e.Privacy.record("preview.rendered", fields)
	if d.Err != nil {
		s.e.Log.Info("preview failed", "kind", d.Key.Kind, "err", d.Err)
	}
	var items []ReadyItem
	for _, tag := range d.Tags {
		project, rel, ok := strings.Cut(tag, "/")
		if !ok {
			continue
		}
		r, err := s.e.Projects.file(project, rel)
		if err != nil {
			continue
		}
		root, _ := s.e.Projects.root(project)
		items = append(items, ReadyItem{Project: project, LibraryItem: s.item(root, r, &d.Meta, false)})
		s.mu.Lock()
		if k, ok := s.wanted[tag]; ok && k.ID() == d.Key.ID() {
			delete(s.wanted, tag)
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.ready = append(s.ready, items...)
	s.mu.Unlock()
	s.emit()
	s.emitPr()
}

// ReadyItem is a file whose preview just finished, as the preview event carries it.
type ReadyItem struct {
	Project string `json:"project"`
	LibraryItem
}

func (s *LibraryService) flushReady() {
	s.mu.Lock()
	items := s.ready
	s.ready = nil
	s.mu.Unlock()
	if len(items) > 0 {
		s.e.Emit(PreviewEvent, items)
	}
}

func (s *LibraryService) progress() progress.Progress {
	st := s.queue.Stats()
	left := int64(st.Pending + st.Running)
	s.mu.Lock()
	if left == 0 {
		s.batch = 0
	}
	total := s.batch
	s.mu.Unlock()
	total = max(total, left)
	p := progress.Progress{Done: total - left, Total: total, Unit: "previews"}
	if left > 0 {
		p.Note = fmt.Sprintf("%d previews to render", left)
	}
	return p
}

// item builds the LibraryItem of r with meta m (nil: look it up; when queue is
// set, a missing preview is queued).
func (s *LibraryService) item(root string, r index.FileRecord, m *preview.Meta, queue bool) LibraryItem {
	it := LibraryItem{
		Path: r.Path, Name: path.Base(r.Path), Kind: string(r.Kind), Size: r.Size, ModTime: r.ModTime,
		Hash: r.SHA256.String(), Source: filepath.Join(root, filepath.FromSlash(r.Path)), Status: "unsupported",
	}
	key, ok := keyOf(r)
	if !ok {
		return it
	}
	if m == nil {
		if mm, found := s.metaOf(key); found {
			m = &mm
		}
	}
	if m == nil || m.ID != key.ID() {
		it.Status = "pending"
		if queue && s.settleWait(r.ModTime) <= 0 { // a file still being written renders when it settles
			s.enqueue(tagOf(r.Project, r.Path), key, it.Source, r.Size, prioListed)
		}
		return it
	}
	it.Status, it.Error, it.Warnings = m.Status, m.Error, len(m.Warnings)
	it.Thumb, it.Large = m.Files["small"], m.Files["large"]
	it.Waveform, it.Peaks, it.PeaksDat = m.Files["waveform"], m.Files["peaksJSON"], m.Files["peaks"]
	if it.Large == "" {
		it.Large = it.Thumb
	}
	if m.Audio != nil {
		it.Duration = m.Audio.Duration
	}
	if m.Loudness != nil && !m.Loudness.Silent && m.Loudness.NotMeasurable == "" {
		v := math.Round(m.Loudness.Integrated*10) / 10
		it.LUFS = &v
	}
	if m.Image != nil {
		it.Width, it.Height = m.Image.Width, m.Image.Height
	}
	return it
}

// List returns the files of a project (kind "" for all, or audio, image,
// video, document, module, other) with the state of their previews, sorted by
// path. Missing previews are queued (when the engine runs in the background).
func (s *LibraryService) List(project, kind string) ([]LibraryItem, error) {
	if project == "" {
		return []LibraryItem{}, nil
	}
	root, err := s.e.Projects.root(project)
	if err != nil {
		return nil, err
	}
	files, err := s.e.Projects.Files(project, kind)
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
func (s *LibraryService) checkCache() {
	if _, err := os.Stat(s.cache.Root); err == nil || !os.IsNotExist(err) {
		return
	}
	if err := s.cacheCleared(); err != nil {
		s.e.Log.Warn("forget preview metadata", "err", err)
	}
}

// cacheCleared forgets every stored preview: call it after emptying the cache dir.
func (s *LibraryService) cacheCleared() error {
	s.mu.Lock()
	clear(s.failed)
	s.mu.Unlock()
	if err := os.MkdirAll(s.cache.Root, 0o700); err != nil {
		return err
	}
	return s.dropMeta(func(preview.Meta) bool { return true })
}

func (s *LibraryService) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Detail returns a file's metadata and loudness report, with the common
// delivery targets (−14 LUFS streaming, −16 LUFS podcasts).
func (s *LibraryService) Detail(project, p string) (PreviewDetail, error) {
	root, err := s.e.Projects.root(project)
	if err != nil {
		return PreviewDetail{}, err
	}
	r, err := s.e.Projects.file(project, p)
	if err != nil {
		return PreviewDetail{}, err
	}
	s.checkCache()
	d := PreviewDetail{Project: project, LibraryItem: s.item(root, r, nil, s.running())}
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
			_ = s.e.DB.Update(func(tx *localdb.Tx) error { return prevMeta.Delete(tx, m.ID) })
			d.Status = "pending"
			d.Thumb, d.Large, d.Waveform, d.Peaks, d.PeaksDat = "", "", "", "", ""
			if s.running() {
				s.enqueue(tagOf(r.Project, r.Path), key, d.Source, r.Size, prioFocus)
			}
			return d, nil
		}
	}
	d.Audio, d.Image, d.Messages = m.Audio, m.Image, m.Warnings
	d.Rendered, d.RenderMs = m.RenderedAt, m.RenderMs
	if m.Loudness != nil {
		d.Loudness = Report(*m.Loudness)
	}
	return d, nil
}

// Report compares a loudness measurement with the usual delivery targets.
func Report(l audio.Loudness) *LoudnessReport {
	rep := &LoudnessReport{Loudness: l}
	for _, t := range []struct {
		name string
		lufs float64
		note string
	}{
		{"Streaming", -14, "Spotify, YouTube, Tidal and Amazon normalise to about −14 LUFS; Apple Music to −16"},
		{"Podcast", -16, "Apple Podcasts and most podcast hosts recommend −16 LUFS (−19 for mono)"},
		{"Broadcast (EBU R128)", -23, "European TV and radio deliver at −23 LUFS"},
	} {
		lt := LoudnessTarget{Name: t.name, LUFS: t.lufs, Note: t.note, Verdict: "ok"}
		if l.NotMeasurable != "" {
			lt.Verdict = "not measurable"
			rep.Targets = append(rep.Targets, lt)
			continue
		}
		if l.Silent {
			lt.Verdict = "silent"
			rep.Targets = append(rep.Targets, lt)
			continue
		}
		lt.GainDB = math.Round((t.lufs-l.Integrated)*10) / 10
		lt.PeakDB = math.Round((l.SamplePeak+lt.GainDB)*10) / 10
		switch {
		case lt.GainDB < -1:
			lt.Verdict = "loud"
		case lt.GainDB > 1:
			lt.Verdict = "quiet"
		}
		rep.Targets = append(rep.Targets, lt)
	}
	return rep
}

// Focus moves the previews of the given files (the ones on screen) to the
// front of the render queue.
func (s *LibraryService) Focus(project string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	p, err := s.e.Projects.find(project)
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

// ClipResult is a teaser cut by Clip.
type ClipResult struct {
	Path    string  `json:"path"`   // relative to the project root
	Source  string  `json:"source"` // absolute path
	Start   float64 `json:"start"`  // seconds, at a frame boundary
	Length  float64 `json:"length"` // seconds
	Bytes   int     `json:"bytes"`
	Preroll int     `json:"preroll"` // frames kept before the start for the bit reservoir
}

// Clip cuts a teaser out of an MP3 of the project, at frame boundaries and
// without re-encoding, and saves it beside the original as
// "NAME (teaser M-SS).mp3". start and length are in seconds.
func (s *LibraryService) Clip(project, p string, start, length float64) (ClipResult, error) {
	root, err := s.e.Projects.root(project)
	if err != nil {
		return ClipResult{}, err
	}
	if strings.ToLower(path.Ext(p)) != ".mp3" {
		return ClipResult{}, apierr.Errorf(apierr.InvalidInput, "%s is not an MP3: teasers are cut from MP3 files without re-encoding", p)
	}
	if length <= 0 || length > 600 || start < 0 {
		return ClipResult{}, apierr.Errorf(apierr.InvalidInput, "a teaser starts at 0 s or later and lasts up to 10 minutes (got start %.1f s, length %.1f s)", start, length)
	}
	src := filepath.Join(root, filepath.FromSlash(p))
	data, err := os.ReadFile(src)
	if err != nil {
		return ClipResult{}, fmt.Errorf("read %s: %w", p, err)
	}
	clip, info, err := mp3.Clip(data, time.Duration(start*float64(time.Second)), time.Duration(length*float64(time.Second)))
	if err != nil {
		return ClipResult{}, fmt.Errorf("%s: %w", p, err)
	}
	base := strings.TrimSuffix(path.Base(p), path.Ext(p))
	at := int(info.Start.Seconds())
	name := fmt.Sprintf("%s (teaser %d-%02d).mp3", base, at/60, at%60)
	rel := path.Join(path.Dir(p), name)
	dst := filepath.Join(root, filepath.FromSlash(rel))
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".teaser-*.tmp")
	if err != nil {
		return ClipResult{}, fmt.Errorf("write the teaser beside %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(clip); err != nil {
		tmp.Close()
		return ClipResult{}, fmt.Errorf("write %s: %w", rel, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return ClipResult{}, err
	}
	if err := tmp.Close(); err != nil {
		return ClipResult{}, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return ClipResult{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return ClipResult{}, fmt.Errorf("save %s: %w", rel, err)
	}
	return ClipResult{Path: rel, Source: dst, Start: info.Start.Seconds(), Length: info.Length.Seconds(), Bytes: info.Bytes, Preroll: info.Preroll}, nil
}

// Stats describes the render queue.
func (s *LibraryService) Stats() QueueStats {
	return QueueStats{QueueStats: s.queue.Stats(), CacheDir: s.cache.Root}
}

// Collect removes previews of content no project holds any more and of older
// renderer versions, from the cache and the database. It returns how many.
func (s *LibraryService) Collect() (int, error) { return s.collect() }

func (s *LibraryService) collect() (int, error) {
	live := map[string]bool{}
	ps, err := s.e.Projects.projects()
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		err := index.NewStore(s.e.DB, p.ID).All(func(r index.FileRecord) error {
			if previewable(r.Path) != "" {
				live[r.SHA256.String()] = true
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	n, err := s.cache.Collect(func(h string) bool { return live[h] })
	if err != nil {
		return n, err
	}
	return n, s.dropMeta(func(m preview.Meta) bool { return !live[m.Hash] || m.Version != preview.RendererVersion })
}

func (s *LibraryService) dropMeta(drop func(preview.Meta) bool) error {
	var ids []string
	err := s.e.DB.View(func(tx *localdb.Tx) error {
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
		if err := s.e.DB.Update(func(tx *localdb.Tx) error {
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
