package library

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"atelier/app/library/xmp"
	"atelier/app/watch"
	"atelier/localdb"
)

// sidecarWatches watch the sidecar folders kept out of projects (the
// per-project option): the project's watcher sees only the project, so an
// edit by darktable or digiKam in the outside folder comes in through here
// and is merged like one beside the files.
type sidecarWatches struct {
	mu      sync.Mutex
	ctx     context.Context // the engine's; nil until the Library starts
	running map[string]sidecarWatch
}

type sidecarWatch struct {
	folder string
	stop   context.CancelFunc
}

// watchSidecars starts a watcher for each project whose sidecars live in an
// outside folder and stops those whose folder went away or changed.
func (s *Service) watchSidecars() {
	want := map[string]string{}
	err := s.db.View(func(tx *localdb.Tx) error {
		return sidecarSettings.Scan(tx, "", func(project string, o SidecarSettings) error {
			if o.Folder != "" {
				want[project] = o.Folder
			}
			return nil
		})
	})
	if err != nil {
		s.log.Warn("sidecar folders: read the settings", "err", err)
		return
	}
	w := &s.sidecarWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil || w.ctx.Err() != nil {
		return
	}
	if w.running == nil {
		w.running = map[string]sidecarWatch{}
	}
	for project, run := range w.running {
		if want[project] != run.folder {
			run.stop()
			delete(w.running, project)
		}
	}
	for project, folder := range want {
		if _, ok := w.running[project]; ok {
			continue
		}
		if _, err := s.files.Project(project); err != nil {
			continue // a removed project's leftover setting
		}
		ctx, stop := context.WithCancel(w.ctx)
		w.running[project] = sidecarWatch{folder: folder, stop: stop}
		wt := watch.New(folder, watch.Options{
			Ignored: func(rel string, isDir bool) bool { return !isDir && !xmp.IsSidecar(rel) },
			Log:     s.log,
		})
		s.host.Go(func(context.Context) {
			if err := wt.Run(ctx, func(b watch.Batch) { s.sidecarBatch(project, folder, b) }); err != nil && ctx.Err() == nil {
				s.log.Warn("watch the sidecar folder: edits made there by other programs are not picked up until the next start",
					"project", project, "folder", folder, "err", err)
			}
		})
	}
}

// sidecarBatch merges the sidecars a batch of the outside folder names (a
// folder: every sidecar under it; a full rescan: all of them). The folder
// mirrors the project's tree, so a sidecar's path there is its path in the
// project.
func (s *Service) sidecarBatch(project, folder string, b watch.Batch) {
	s.ensureLoaded() // the files the sidecars belong to
	paths := b.Paths
	if b.Full {
		paths = []string{"."}
	}
	for _, rel := range paths {
		abs := filepath.Join(folder, filepath.FromSlash(rel))
		_ = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !xmp.IsSidecar(p) {
				return nil // gone meanwhile, or not a sidecar
			}
			r, err := filepath.Rel(folder, p)
			if err != nil || strings.HasPrefix(r, "..") {
				return nil
			}
			s.sidecarChanged(project, filepath.ToSlash(r))
			return nil
		})
	}
}
