package projects

import (
	"context"

	"atelier/app/host"
	"atelier/app/index"
	"atelier/app/watch"
)

// Control is the engine's side of the projects feature: its life cycle,
// and the file source (projects and their indexed files) that Library and
// Sync read. None of it is a bound route.
type Control struct{ s *Service }

// Start watches every registered project; its first scans feed the others,
// so the engine starts it last.
func (c *Control) Start(ctx context.Context) { c.s.start(ctx) }

// Close stops every watcher and waits for it.
func (c *Control) Close() error { return c.s.close() }

func ref(p Project) host.Project { return host.Project{ID: p.ID, Name: p.Name, Root: p.Root} }

// Project resolves a project by id, name or folder path.
func (c *Control) Project(ref_ string) (host.Project, error) {
	p, err := c.s.find(ref_)
	if err != nil {
		return host.Project{}, err
	}
	return ref(p), nil
}

// Projects lists the registered projects.
func (c *Control) Projects() ([]host.Project, error) {
	ps, err := c.s.projects()
	out := make([]host.Project, 0, len(ps))
	for _, p := range ps {
		out = append(out, ref(p))
	}
	return out, err
}

// Record returns one file's record (NotFound when it is not in the index).
func (c *Control) Record(project index.ProjectID, path string) (index.FileRecord, error) {
	return c.s.file(project, path)
}

// Records lists a project's indexed files, optionally of one kind.
func (c *Control) Records(project index.ProjectID, kind string) ([]index.FileRecord, error) {
	return c.s.records(project, kind)
}

// Reconcile brings a project's index in line with its folder now and
// waits for it, so what a caller reads next is what is on disk.
func (c *Control) Reconcile(ctx context.Context, project string) error {
	return c.s.reconcile(ctx, project)
}

// SetBatchHook runs fn before each watcher batch (tests).
func (c *Control) SetBatchHook(fn func(watch.Batch)) { c.s.testHookBatch.Store(&fn) }
