package library

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"atelier/app/apierr"
	"atelier/app/index"
	"atelier/app/library/meta"
	"atelier/app/library/query"
	"atelier/app/library/xmp"
	"atelier/app/preview"
	"atelier/localdb"
)

// Events of the finding side of the Library.
const (
	MarksEvent      = "marks"      // MarksChanged: ratings, labels, tags or notes changed
	CollectionEvent = "collection" // []query.Delta: files joined or left smart collections
)

// MarksChanged names the files whose marks changed, with their new marks.
type MarksChanged struct {
	Project string               `json:"project"`
	Marks   map[string]xmp.Marks `json:"marks"` // by path
}

// finder holds the in-memory view the Library's queries run on, the marks
// (store and sidecars) and the metadata cache.
type finder struct {
	view   *query.View
	store  *xmp.Store
	keeper *xmp.Keeper
	meta   *meta.Cache

	load    sync.Once
	loadMu  sync.Mutex
	loaded  bool
	pending [][]query.Change // changes that came while loading

	// changes are applied in batches (an initial scan sends thousands): a
	// batch waits at most batchWait, and a query applies it first.
	batchMu sync.Mutex
	batch   []query.Change
	timer   *time.Timer

	collMu  sync.Mutex
	colls   map[string]query.Query // parsed smart collections (nil: read again)
	collsAt time.Time
}

const batchWait = 100 * time.Millisecond

func newFinder(s *Service) *finder {
	f := &finder{view: query.NewView(), store: xmp.NewStore(s.db), meta: meta.NewCache(s.db)}
	f.keeper = &xmp.Keeper{Store: f.store, Sidecars: func(project string) (xmp.Sidecars, error) {
		p, err := s.files.Project(project)
		if err != nil {
			return xmp.Sidecars{}, err
		}
		o, err := s.SidecarOptions(project)
		if err != nil {
			return xmp.Sidecars{}, err
		}
		return xmp.Sidecars{Root: p.Root, Dir: o.Folder, Style: xmp.Style(o.Naming)}, nil
	}}
	return f
}

// ensureLoaded fills the view with every project's files, their facts (from
// the preview and metadata caches, by content hash) and their marks, once.
func (s *Service) ensureLoaded() {
	f := s.find
	f.load.Do(func() {
		t0 := time.Now()
		facts, err := s.factsByHash()
		if err != nil {
			s.log.Warn("library view: read cached facts", "err", err)
		}
		ps, err := s.files.Projects()
		if err != nil {
			s.log.Warn("library view: list projects", "err", err)
		}
		n := 0
		for _, p := range ps {
			f.view.SetProjectName(string(p.ID), p.Name)
			recs, err := s.files.Records(p.ID, "")
			if err != nil {
				s.log.Warn("library view: list files", "project", p.Name, "err", err)
				continue
			}
			cs := make([]query.Change, 0, len(recs))
			for _, r := range recs {
				if xmp.IsSidecar(r.Path) {
					continue // a sidecar is part of its file, not a file of the Library
				}
				c := query.Change{Change: index.Change{Op: index.OpCreate, Record: r}}
				if fa, ok := facts[r.SHA256.String()]; ok {
					c.Facts = &fa
				}
				cs = append(cs, c)
			}
			f.view.Apply(cs)
			n += len(cs)
		}
		_ = f.store.All("", func(project, rel string, e xmp.Entry) error {
			f.view.SetMarks(project, rel, query.Marks(e.Marks))
			return nil
		})
		f.loadMu.Lock()
		f.loaded = true
		for _, cs := range f.pending {
			f.view.Apply(cs)
		}
		f.pending = nil
		f.loadMu.Unlock()
		f.view.Query(query.Query{}, query.Options{Limit: 1}) // the name order, before the first query asks
		s.log.Info("library view loaded", "files", n, "ms", time.Since(t0).Milliseconds())
	})
}

// factsByHash reads what the caches know of every content: the preview
// (duration, loudness, size) and the file's own metadata.
func (s *Service) factsByHash() (map[string]query.Facts, error) {
	out := map[string]query.Facts{}
	err := s.db.View(func(tx *localdb.Tx) error {
		return prevMeta.Scan(tx, "", func(_ string, m preview.Meta) error {
			if m.Status != "ready" || m.Version != preview.RendererVersion {
				return nil
			}
			f := out[m.Hash]
			previewFacts(&f, m)
			out[m.Hash] = f
			return nil
		})
	})
	if err != nil {
		return out, err
	}
	err = s.find.meta.Each(func(hash string, e meta.Entry) {
		f := out[hash]
		mf := query.FactsOf(e.Meta, f.Duration, f.LUFS, f.Width, f.Height)
		out[hash] = mf
	})
	return out, err
}

func previewFacts(f *query.Facts, m preview.Meta) {
	if m.Audio != nil {
		f.Duration = m.Audio.Duration
	}
	if l := m.Loudness; l != nil && !l.Silent && l.NotMeasurable == "" {
		v := l.Integrated
		f.LUFS = &v
	}
	if m.Image != nil {
		f.Width, f.Height = m.Image.Width, m.Image.Height
	}
}

// viewApply brings the view up to date with a change (and a sidecar's
// marks into the store when the change is a sidecar).
func (s *Service) viewApply(root string, c index.Change) {
	f := s.find
	qc := query.Change{Change: c}
	if c.Op != index.OpDelete && !c.Record.SHA256.IsZero() {
		if e, ok, _ := f.meta.Get(c.Record.SHA256.String()); ok {
			var fa query.Facts
			if key, ok := keyOf(c.Record); ok {
				if m, ok := s.metaOf(key); ok && m.Status == "ready" {
					previewFacts(&fa, m)
				}
			}
			fa = query.FactsOf(e.Meta, fa.Duration, fa.LUFS, fa.Width, fa.Height)
			qc.Facts = &fa
		}
	}
	f.loadMu.Lock()
	if !f.loaded {
		if !xmp.IsSidecar(c.Record.Path) {
			f.pending = append(f.pending, []query.Change{qc})
		}
		f.loadMu.Unlock()
		return
	}
	f.loadMu.Unlock()
	project := string(c.Record.Project)
	if c.Op == index.OpRename && c.From != "" {
		if err := f.store.Move(project, c.From, c.Record.Path); err != nil {
			s.log.Warn("move marks", "from", c.From, "to", c.Record.Path, "err", err)
		}
	}
	if xmp.IsSidecar(c.Record.Path) { // a sidecar is part of its file, not a file of the Library
		if c.Op != index.OpDelete {
			s.sidecarChanged(project, c.Record.Path)
		}
		return
	}
	f.batchMu.Lock()
	f.batch = append(f.batch, qc)
	if f.timer == nil {
		f.timer = time.AfterFunc(batchWait, s.flushView)
	}
	f.batchMu.Unlock()
}

// flushView applies the changes waiting, and tells the smart collections
// which files joined or left them.
func (s *Service) flushView() {
	f := s.find
	f.batchMu.Lock()
	cs := f.batch
	f.batch = nil
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	f.batchMu.Unlock()
	if len(cs) == 0 || s.host.Context().Err() != nil {
		return // nothing waits, or the engine is closing
	}
	colls := s.savedQueries()
	if len(colls) == 0 {
		f.view.Apply(cs)
		return
	}
	deltas := f.view.Around(query.Keys(cs), colls, func() { f.view.Apply(cs) })
	if len(deltas) > 0 {
		s.host.Emit(CollectionEvent, deltas)
	}
}

// current brings the view up to date before a query answers.
func (s *Service) current() {
	s.ensureLoaded()
	s.flushView()
}

func (s *Service) sidecarChanged(project, rel string) {
	s.flushView()
	var changed map[string]xmp.Marks
	var err error
	if owner := strings.TrimSuffix(rel, path.Ext(rel)); s.find.view.Has(project, owner) {
		changed, err = s.find.keeper.Import(project, []string{owner}) // file.ext.xmp
	} else {
		changed, err = s.find.keeper.SidecarChanged(project, rel, s.find.view.InDir(project, path.Dir(rel)))
	}
	if err != nil {
		s.log.Warn("merge sidecar", "sidecar", rel, "err", err)
	}
	s.marksChanged(project, changed)
}

func (s *Service) marksChanged(project string, changed map[string]xmp.Marks) {
	if len(changed) == 0 {
		return
	}
	colls := s.savedQueries()
	var keys []query.FileKey
	for rel := range changed {
		keys = append(keys, query.FileKey{Project: project, Path: rel})
	}
	deltas := s.find.view.Around(keys, colls, func() {
		for rel, m := range changed {
			s.find.view.SetMarks(project, rel, query.Marks(m))
		}
	})
	s.host.Emit(MarksEvent, MarksChanged{Project: project, Marks: changed})
	if len(deltas) > 0 {
		s.host.Emit(CollectionEvent, deltas)
	}
}

// savedQueries are the smart collections, parsed (kept until one is saved
// or deleted; ages like modified<7d are read from the time of parsing, at
// most an hour old).
func (s *Service) savedQueries() map[string]query.Query {
	f := s.find
	f.collMu.Lock()
	defer f.collMu.Unlock()
	if f.colls != nil && time.Since(f.collsAt) < time.Hour {
		return f.colls
	}
	cs, err := f.store.Collections()
	if err != nil {
		return nil
	}
	out := make(map[string]query.Query, len(cs))
	for _, c := range cs {
		if q, err := query.Parse(c.Query, time.Now()); err == nil {
			out[c.ID] = q
		}
	}
	f.colls, f.collsAt = out, time.Now()
	return out
}

func (s *Service) collectionsChanged() {
	s.find.collMu.Lock()
	s.find.colls = nil
	s.find.collMu.Unlock()
}

// extractMeta reads a file's own metadata in the render queue, once per
// content (the cache is keyed by hash and versioned), and tells the view.
func (s *Service) extractMeta(j preview.Job) {
	e, err := s.find.meta.Extract(j.Key.Hash, j.Path)
	if err != nil {
		s.log.Warn("store metadata", "file", j.Path, "err", err)
		return
	}
	_ = e
}

// setFacts tells the view what a finished preview and the metadata say of
// the files of tags (project/path).
func (s *Service) setFacts(tags []string, m preview.Meta) {
	var fa query.Facts
	previewFacts(&fa, m)
	if e, ok, _ := s.find.meta.Get(m.Hash); ok {
		fa = query.FactsOf(e.Meta, fa.Duration, fa.LUFS, fa.Width, fa.Height)
	}
	for _, tag := range tags {
		project, rel, ok := strings.Cut(tag, "/")
		if ok {
			s.find.view.SetFacts(project, rel, fa)
		}
	}
}

// FindRow is one file of a query's answer: what the view knows, with its
// preview.
type FindRow struct {
	query.Row
	Status   string `json:"status"` // ready, pending, failed, unsupported
	Source   string `json:"source"` // absolute path (for playback)
	Thumb    string `json:"thumb,omitempty"`
	Waveform string `json:"waveform,omitempty"`
	Peaks    string `json:"peaks,omitempty"`
	Hash     string `json:"hash,omitempty"`
}

// FindPage is one window of a query's answer, with how many files match.
type FindPage struct {
	Total  int       `json:"total"`
	Offset int       `json:"offset"`
	Rows   []FindRow `json:"rows"`
	Ms     float64   `json:"ms"` // time the engine took
}

// Query answers a Library query (see package query for the language:
// kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126
// modified<7d "night drive") over one project ("" = every project), sorted
// by name, path, date, size, duration, loudness or rating ("-date":
// newest first), returning limit files from offset and the total.
func (s *Service) Query(project, q, sort string, offset, limit int) (FindPage, error) {
	t0 := time.Now()
	s.current()
	pq, err := query.Parse(q, time.Now())
	if err != nil {
		return FindPage{}, apierr.Errorf(apierr.InvalidInput, "%v", err)
	}
	so, desc, err := query.ParseSort(sort)
	if err != nil {
		return FindPage{}, apierr.Errorf(apierr.InvalidInput, "%v", err)
	}
	pid := ""
	if project != "" {
		p, err := s.files.Project(project)
		if err != nil {
			return FindPage{}, err
		}
		pid = string(p.ID)
	}
	page := s.find.view.Query(pq, query.Options{Project: pid, Sort: so, Desc: desc, Offset: offset, Limit: limit})
	out := FindPage{Total: page.Total, Offset: page.Offset, Rows: make([]FindRow, 0, len(page.Rows))}
	roots := map[string]string{}
	for _, r := range page.Rows {
		row := FindRow{Row: r, Status: "unsupported"}
		root, ok := roots[r.Project]
		if !ok {
			if p, err := s.files.Project(r.Project); err == nil {
				root = p.Root
			}
			roots[r.Project] = root
		}
		if rec, err := s.files.Record(index.ProjectID(r.Project), r.Path); err == nil && root != "" {
			it := s.item(root, rec, nil, s.running())
			row.Status, row.Source, row.Thumb, row.Waveform, row.Peaks, row.Hash = it.Status, it.Source, it.Thumb, it.Waveform, it.Peaks, it.Hash
		}
		out.Rows = append(out.Rows, row)
	}
	out.Ms = float64(time.Since(t0).Microseconds()) / 1000
	return out, nil
}

// MarkChange is an edit of marks for a batch of files: nil fields stay.
type MarkChange struct {
	Rating     *int     `json:"rating,omitempty"` // 0 clears, -1 rejects
	Label      *string  `json:"label,omitempty"`  // "" clears
	AddTags    []string `json:"addTags,omitempty"`
	RemoveTags []string `json:"removeTags,omitempty"`
	Note       *string  `json:"note,omitempty"`
}

// Mark rates, labels, tags or annotates files of a project in one batch;
// the marks are stored and written to the files' XMP sidecars, which
// darktable, digiKam, Lightroom and Bridge read. It returns the new marks.
func (s *Service) Mark(project string, paths []string, change MarkChange) (map[string]xmp.Marks, error) {
	if len(paths) == 0 {
		return map[string]xmp.Marks{}, nil
	}
	if change.Rating != nil && (*change.Rating < -1 || *change.Rating > 5) {
		return nil, apierr.Errorf(apierr.InvalidInput, "a rating goes from 0 to 5 stars (-1 rejects), not %d", *change.Rating)
	}
	p, err := s.files.Project(project)
	if err != nil {
		return nil, err
	}
	for _, rel := range paths {
		if _, err := s.files.Record(p.ID, rel); err != nil {
			return nil, err
		}
	}
	s.current()
	changed, err := s.find.keeper.Edit(string(p.ID), paths, func(m xmp.Marks) xmp.Marks {
		if change.Rating != nil {
			m.Rating = *change.Rating
		}
		if change.Label != nil {
			m.Label = *change.Label
		}
		if change.Note != nil {
			m.Note = *change.Note
		}
		for _, t := range change.RemoveTags {
			m.Tags = slices.DeleteFunc(m.Tags, func(x string) bool { return strings.EqualFold(x, t) })
		}
		m.Tags = append(m.Tags, change.AddTags...)
		return m
	})
	s.marksChanged(string(p.ID), changed)
	if err != nil && changed != nil {
		// stored, but a sidecar could not be written: say so, keep the marks
		return changed, apierr.Errorf(apierr.Internal, "the marks are saved in Atelier, but %v", err)
	}
	return changed, err
}

// Tags lists every tag in use with how many files carry it.
func (s *Service) Tags() (map[string]int, error) {
	s.current()
	return s.find.view.Tags(), nil
}

// CollectionInfo is a smart collection with how many files it holds now.
type CollectionInfo struct {
	xmp.Collection
	Count int `json:"count"`
}

// Collections lists the smart collections with their counts.
func (s *Service) Collections() ([]CollectionInfo, error) {
	s.current()
	cs, err := s.find.store.Collections()
	if err != nil {
		return nil, err
	}
	out := make([]CollectionInfo, 0, len(cs))
	for _, c := range cs {
		info := CollectionInfo{Collection: c}
		if q, err := query.Parse(c.Query, time.Now()); err == nil {
			info.Count = s.find.view.Count(q, c.Project)
		}
		out = append(out, info)
	}
	return out, nil
}

// SaveCollection saves a query as a smart collection (a new one when it has
// no id) and returns it.
func (s *Service) SaveCollection(collection xmp.Collection) (xmp.Collection, error) {
	c := collection
	if _, err := query.Parse(c.Query, time.Now()); err != nil {
		return c, apierr.Errorf(apierr.InvalidInput, "the collection's query: %v", err)
	}
	if _, _, err := query.ParseSort(c.Sort); err != nil {
		return c, apierr.Errorf(apierr.InvalidInput, "%v", err)
	}
	saved, err := s.find.store.SaveCollection(c)
	s.collectionsChanged()
	if err != nil {
		return saved, apierr.Errorf(apierr.InvalidInput, "%v", err)
	}
	return saved, nil
}

// DeleteCollection removes a smart collection.
func (s *Service) DeleteCollection(id string) error {
	defer s.collectionsChanged()
	return s.find.store.DeleteCollection(id)
}

// findDetail adds the file's own metadata and its marks to a Detail.
func (s *Service) findDetail(d *PreviewDetail, r index.FileRecord) {
	if !r.SHA256.IsZero() {
		if e, ok, _ := s.find.meta.Get(r.SHA256.String()); ok && e.Meta.Format != "" {
			m := e.Meta
			d.Meta = &m
		}
	}
	if e, ok, _ := s.find.store.Get(string(r.Project), r.Path); ok {
		m := e.Marks
		d.Marks = &m
	}
}

// SidecarSettings say where a project's XMP sidecars go.
type SidecarSettings struct {
	// Folder keeps the sidecars out of the project, in this folder (the
	// project's tree mirrored); "" writes them beside the files.
	Folder string `json:"folder,omitempty"`
	// Naming of new sidecars: "ext" (file.ext.xmp: darktable, digiKam) or
	// "base" (file.xmp: Lightroom, Bridge). Existing sidecars keep theirs.
	Naming string `json:"naming,omitempty"`
}

var sidecarSettings = localdb.NewTable[SidecarSettings]("lib/sidecars/") // <project id>

// SidecarOptions returns where the project's sidecars go.
func (s *Service) SidecarOptions(project string) (SidecarSettings, error) {
	p, err := s.files.Project(project)
	if err != nil {
		return SidecarSettings{}, err
	}
	var o SidecarSettings
	err = s.db.View(func(tx *localdb.Tx) error {
		var err error
		o, _, err = sidecarSettings.Get(tx, string(p.ID))
		return err
	})
	if o.Naming == "" {
		o.Naming = string(xmp.StyleExt)
	}
	return o, err
}

// SetSidecarOptions chooses where the project's sidecars go: beside the
// files (folder "") or in a folder outside the project, named file.ext.xmp
// ("ext") or file.xmp ("base").
func (s *Service) SetSidecarOptions(project string, o SidecarSettings) (SidecarSettings, error) {
	p, err := s.files.Project(project)
	if err != nil {
		return o, err
	}
	switch o.Naming {
	case "", string(xmp.StyleExt), string(xmp.StyleBase):
	default:
		return o, apierr.Errorf(apierr.InvalidInput, "sidecars are named \"ext\" (file.ext.xmp) or \"base\" (file.xmp), not %q", o.Naming)
	}
	if o.Folder != "" {
		if !filepath.IsAbs(o.Folder) {
			return o, apierr.Errorf(apierr.InvalidInput, "the sidecar folder must be an absolute path, not %q", o.Folder)
		}
		if rel, err := filepath.Rel(p.Root, o.Folder); err == nil && !strings.HasPrefix(rel, "..") {
			return o, apierr.Errorf(apierr.InvalidInput, "the sidecar folder %s is inside the project: leave it empty to keep sidecars beside the files", o.Folder)
		}
		if err := os.MkdirAll(o.Folder, 0o755); err != nil {
			return o, fmt.Errorf("make the sidecar folder %s: %w", o.Folder, err)
		}
	}
	if err := s.db.Update(func(tx *localdb.Tx) error { return sidecarSettings.Put(tx, string(p.ID), o) }); err != nil {
		return o, err
	}
	s.watchSidecars() // an outside folder is watched for other programs' edits
	return s.SidecarOptions(project)
}
