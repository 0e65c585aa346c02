package library

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/index"
	"atelier/app/preview"
	"atelier/localdb"
	"atelier/progress"
)

// unsettle stops the settle timer of tag, if any.
func (s *Service) unsettle(tag string) {
	s.mu.Lock()
	if t, ok := s.settling[tag]; ok {
		t.Stop()
		delete(s.settling, tag)
	}
	s.mu.Unlock()
}

// settleWait is how much longer a file last modified at mtime must stay
// unchanged before it renders (≤ 0: it has settled).
func (s *Service) settleWait(mtime time.Time) time.Duration {
	return s.settle - time.Since(mtime)
}

// whenSettled renders the preview of r once the file has kept r's size and
// modification time for the settle time. A file that changed meanwhile is
// left to the change the index reports for it (which supersedes this one).
func (s *Service) whenSettled(tag string, key preview.Key, abs string, r index.FileRecord, wait time.Duration) {
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

// previewable says which kind of preview a file gets ("" = none): audio
// (MP3, WAV, AIFF, FLAC, Ogg, Opus, M4A...), image or video, by its name.
func previewable(p string) preview.Kind { return preview.KindFor(p) }

func keyOf(r index.FileRecord) (preview.Key, bool) {
	k := previewable(r.Path)
	if k == "" || r.SHA256.IsZero() {
		return preview.Key{}, false
	}
	return preview.Key{Hash: r.SHA256.String(), Kind: k, Params: preview.DefaultParams(k)}, true
}

// consider queues a preview for an audio or image file without one, and
// cancels work for files that changed again or disappeared. root is the
// folder of c's project: it comes with the change, so no lookup is made.
func (s *Service) consider(root string, c index.Change) {
	s.viewApply(root, c)
	if c.From != "" {
		s.forget(tagOf(c.Record.Project, c.From))
	}
	tag := tagOf(c.Record.Project, c.Record.Path)
	s.unsettle(tag) // this change supersedes the one waiting
	if c.Op == index.OpDelete || c.Op == index.OpModify {
		s.staleHint.Add(1) // the old content's previews may have no file left
	}
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
	abs := filepath.Join(root, filepath.FromSlash(c.Record.Path))
	if wait := s.settleWait(c.Record.ModTime); wait > 0 {
		// written moments ago: a slow writer may not be done
		s.whenSettled(tag, key, abs, c.Record, wait)
		return
	}
	s.enqueue(tag, key, abs, c.Record.Size, prioBackground)
}

func (s *Service) enqueue(tag string, key preview.Key, abs string, size int64, prio int) {
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

func (s *Service) forget(tag string) {
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
func (s *Service) metaOf(key preview.Key) (preview.Meta, bool) {
	id := key.ID()
	s.mu.Lock()
	f, failed := s.failed[id]
	s.mu.Unlock()
	if failed {
		return f, true
	}
	var m preview.Meta
	var ok bool
	_ = s.db.View(func(tx *localdb.Tx) error {
		var err error
		m, ok, err = prevMeta.Get(tx, id)
		return err
	})
	if ok {
		return m, true
	}
	if m, ok = s.cache.Load(id); ok {
		_ = s.db.Update(func(tx *localdb.Tx) error { return prevMeta.Put(tx, id, m) })
		return m, true
	}
	return preview.Meta{}, false
}

func (s *Service) render(ctx context.Context, j preview.Job, workers int) (preview.Meta, error) {
	if err := s.waitPower(ctx); err != nil {
		return preview.Meta{}, err
	}
	s.extractMeta(j) // the file's own tags, once per content, beside its preview
	return s.cache.Render(ctx, j.Key, j.Path, workers)
}

// setPowerHold holds renders back (on) while the machine runs on battery,
// or lets them go on (off). It reports whether anything changed.
func (s *Service) setPowerHold(on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on == (s.powerHold != nil) {
		return false
	}
	if on {
		s.powerHold = make(chan struct{})
	} else {
		close(s.powerHold)
		s.powerHold = nil
	}
	return true
}

// waitPower blocks a render while the power hold is on (a worker waits with
// its job taken: the others stay queued) or until ctx ends (Close, the job
// no longer wanted).
func (s *Service) waitPower(ctx context.Context) error {
	s.mu.Lock()
	hold := s.powerHold
	s.mu.Unlock()
	if hold == nil {
		return nil
	}
	select {
	case <-hold:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) finished(d preview.Done) {
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
		if err := s.db.Update(func(tx *localdb.Tx) error { return prevMeta.Put(tx, d.Meta.ID, d.Meta) }); err != nil {
			// never queue it again in a loop: keep the result in memory,
			// marked failed when it cannot be stored
			s.log.Warn("store preview metadata", "preview", d.Meta.ID, "err", err)
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
		// the event's enum: the Ogg family is "ogg", MPEG-4 audio "aac"
		switch {
		case strings.HasPrefix(format, "ogg"):
			format = "ogg"
		case format == "m4a" || format == "aac":
			format = "aac"
		case format != "mp3" && format != "wav" && format != "flac":
			format = "other"
		}
	}
	if d.Meta.Image != nil && d.Meta.Image.Format != "" && d.Meta.Image.Format != "bmp" && d.Meta.Image.Format != "tiff" {
		format = d.Meta.Image.Format
	}
	fields := map[string]any{"kind": string(d.Key.Kind), "format": format, "size": d.Job.Size, "ms": d.Meta.RenderMs, "result": result}
	s.record("preview.rendered", fields)
	if d.Err != nil {
		s.log.Info("preview failed", "kind", d.Key.Kind, "err", d.Err)
	}
	if d.Err == nil && d.Meta.Status == "ready" {
		s.setFacts(d.Tags, d.Meta)
	}
	var items []ReadyItem
	for _, tag := range d.Tags {
		project, rel, ok := strings.Cut(tag, "/")
		if !ok {
			continue
		}
		p, err := s.files.Project(project)
		if err != nil {
			continue
		}
		r, err := s.files.Record(p.ID, rel)
		if err != nil {
			continue
		}
		root := p.Root
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

func (s *Service) flushReady() {
	s.mu.Lock()
	items := s.ready
	s.ready = nil
	s.mu.Unlock()
	if len(items) > 0 {
		s.host.Emit(PreviewEvent, items)
	}
}

func (s *Service) progress() progress.Progress {
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
func (s *Service) item(root string, r index.FileRecord, m *preview.Meta, queue bool) LibraryItem {
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
	if m.Video != nil {
		it.Duration, it.Width, it.Height = m.Video.Duration, m.Video.Width, m.Video.Height
	}
	return it
}
