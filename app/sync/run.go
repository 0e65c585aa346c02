package syncsvc

import (
	"context"
	"fmt"
	"time"

	"atelier/app/apierr"
	"atelier/app/host"
	"atelier/app/index"
	"atelier/localdb"
	"atelier/sync/rules"
	"atelier/sync/vault"
)

// SyncRunResult is one Run over one or more projects.
type SyncRunResult struct {
	Projects []ProjectRun `json:"projects"`
}

// ProjectRun is what a run did to one project.
type ProjectRun struct {
	Project    string           `json:"project"`
	Remote     string           `json:"remote"`
	Kind       string           `json:"kind"`
	Snapshot   string           `json:"snapshot,omitempty"`
	Seq        int64            `json:"seq,omitempty"`
	NoChange   bool             `json:"noChange"`
	Uploaded   int              `json:"uploaded"`
	Pulled     int              `json:"pulled"`
	Deleted    int              `json:"deleted"`
	Conflicts  []vault.Conflict `json:"conflicts"`
	Skipped    []vault.Skip     `json:"skipped,omitempty"` // files of the vault not written here, and why
	BytesSent  int64            `json:"bytesSent"`
	BytesNew   int64            `json:"bytesNew"`
	BytesDedup int64            `json:"bytesDeduped"`
	Selected   int              `json:"selected"`
	Started    time.Time        `json:"started"`
	DurationMs int64            `json:"durationMs"`
	Error      string           `json:"error,omitempty"`
	// Repaired are files whose data `sync verify` found lost and this run
	// uploaded again; Damaged are those still lost in the vault, and why.
	Repaired    []string        `json:"repaired,omitempty"`
	Damaged     []vault.Damaged `json:"damaged,omitempty"`
	FinishedRun bool            `json:"-"`
}

// Run syncs project now ("" = every enabled project): reconciles the
// project with its folder first (an edit made while no engine watched is
// pushed), pushes what changed, pulls other devices' changes, keeps
// conflict copies. It stops when ctx ends (the CLI's Ctrl-C, an API caller
// that went away) or the engine closes, with context.Canceled and nothing
// committed that the run had not finished.
func (s *Service) Run(ctx context.Context, project string) (SyncRunResult, error) {
	ctx, done := host.CallContext(s.host.Context(), ctx)
	defer done()
	res := SyncRunResult{Projects: []ProjectRun{}}
	if err := s.needConsent(); err != nil {
		return res, err
	}
	var projects []string
	if project != "" {
		id, _, ok := s.projectID(project)
		if !ok {
			return res, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
		}
		projects = []string{id}
	} else {
		var err error
		if projects, err = s.backgroundProjects(true); err != nil {
			return res, err
		}
		if len(projects) == 0 {
			return res, apierr.Errorf(apierr.InvalidInput, "no project has sync enabled: choose what to sync with `atelier sync rules PROJECT --enable` or in the Sync view, or run `atelier sync run PROJECT`")
		}
	}
	var firstErr error
	for _, p := range projects {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		pr, err := s.runProject(ctx, p, true)
		res.Projects = append(res.Projects, pr)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return res, firstErr
}

// runProject runs one project; fresh reconciles its index with the disk first.
func (s *Service) runProject(ctx context.Context, project string, fresh bool) (ProjectRun, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		delete(s.progress, project)
		s.mu.Unlock()
		s.emitStatus()
	}()
	started := time.Now().UTC()
	pr := ProjectRun{Project: project, Started: started, Conflicts: []vault.Conflict{}}
	err := s.doRun(ctx, project, &pr, fresh)
	pr.DurationMs = time.Since(started).Milliseconds()
	if err != nil {
		pr.Error = err.Error()
	}
	s.db.Update(func(tx *localdb.Tx) error { return syncRuns.Put(tx, project, pr) })
	s.recordRun(pr, err)
	if err == nil {
		if _, ok := s.rulesOf(project); !ok {
			// Run by hand: list the project in the status from now on.
			s.db.Update(func(tx *localdb.Tx) error { return syncRules.Put(tx, project, SyncRules{Project: project}) })
		}
	}
	return pr, err
}

// job is what a run of project works from: its remote and the files the
// rules select, from an index reconciled with the disk first when fresh.
func (s *Service) job(ctx context.Context, project string, fresh bool) (Remote, vault.Job, error) {
	r, _ := s.rulesOf(project)
	rm, err := s.remote(r.Remote)
	if err != nil {
		return rm, vault.Job{}, err
	}
	m, err := rules.Compile(r.Rules)
	if err != nil {
		return rm, vault.Job{}, err
	}
	p, err := s.files.Project(project)
	if err != nil {
		return rm, vault.Job{}, err
	}
	root := p.Root
	if fresh {
		if err := s.files.Reconcile(ctx, project); err != nil {
			return rm, vault.Job{}, err
		}
	}
	recs, err := s.files.Records(p.ID, "")
	if err != nil {
		return rm, vault.Job{}, err
	}
	files := make([]vault.LocalFile, 0, len(recs))
	for _, f := range recs {
		if m.Match(f.Path, string(f.Kind), f.Size) {
			files = append(files, vault.LocalFile{Path: f.Path, Size: f.Size, ModTime: f.ModTime, Mode: f.Mode, SHA256: f.SHA256})
		}
	}
	return rm, vault.Job{
		Project: project, Root: root, Files: files,
		Selected: func(p string, size int64) bool { return m.Match(p, string(index.KindOf(p)), size) },
		Progress: func(p vault.Progress) { s.setProgress(project, p) },
	}, nil
}

func (s *Service) doRun(ctx context.Context, project string, pr *ProjectRun, fresh bool) error {
	rm, job, err := s.job(ctx, project, fresh)
	pr.Remote, pr.Kind = rm.Name, rm.Kind
	if err != nil {
		return err
	}
	// After the index was read (and reconciled): what was queued until now
	// is in this run.
	cutoff := time.Now().UTC()
	pr.Selected = len(job.Files)
	if err := s.target(rm).sync(ctx, job, pr); err != nil {
		return err
	}
	for _, sk := range pr.Skipped {
		s.log.Warn("sync: file not written on this device", "project", project, "path", sk.Path, "reason", sk.Reason)
	}
	if len(pr.Conflicts) > 0 {
		s.db.Update(func(tx *localdb.Tx) error {
			for _, c := range pr.Conflicts {
				if err := syncConflicts.Put(tx, c.Project+"/"+c.Copy, c); err != nil {
					return err
				}
			}
			return nil
		})
		s.host.Notify("Sync conflict", fmt.Sprintf("%d file(s) in %s changed on two devices; both versions were kept", len(pr.Conflicts), project))
	}
	// The snapshot referencing everything queued before the run is committed:
	// only now do those outbox entries go.
	return s.outbox().clear(project, cutoff)
}
