package history

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"atelier/app/host"
	"atelier/app/index"
	"atelier/localdb"
)

// Projects is what history needs of the project registry and its index.
type Projects interface {
	// Project resolves a project by id, name or folder.
	Project(ref string) (host.Project, error)
	// Records lists a project's files, of one kind or all ("").
	Records(project index.ProjectID, kind string) ([]index.FileRecord, error)
}

// Config builds the History feature.
type Config struct {
	DB   *localdb.DB
	Log  *slog.Logger
	Host interface {
		host.Runner
		host.Emitter
	}
	Projects Projects
	DataDir  string // history lives in DataDir/history
	// Settle overrides the 3 s a file must stay unchanged (tests).
	Settle time.Duration
	// Previews is what the Library knows of a content (nil: nothing).
	Previews Previews
}

// NoticeEvent is the event a history notice is emitted as.
const NoticeEvent = "history"

// Control is the engine's side of History: its life cycle and the
// changes it is told about. None of it is a bound route.
type Control struct {
	h   *History
	p   Projects
	run host.Runner // the engine: its Close waits for a version in flight
}

// projectSource adapts the registry to FileSource (history keys projects
// by their ID).
type projectSource struct{ p Projects }

func (s projectSource) Root(project string) (string, error) {
	p, err := s.p.Project(project)
	if err != nil {
		return "", err
	}
	return p.Root, nil
}

func (s projectSource) Files(project string) ([]File, error) {
	recs, err := s.p.Records(index.ProjectID(project), "")
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(recs))
	for _, r := range recs {
		out = append(out, File{Path: r.Path, Size: r.Size, ModTime: r.ModTime, Mode: r.Mode, SHA256: [32]byte(r.SHA256)})
	}
	return out, nil
}

type emitNotifier struct{ e host.Emitter }

func (n emitNotifier) Notify(x Notice) { n.e.Emit(NoticeEvent, x) }

// New opens local history under c.DataDir.
func New(c Config) (*Service, *Control, error) {
	h, err := Open(context.Background(), Options{Dir: filepath.Join(c.DataDir, "history"), DB: c.DB, Files: projectSource{c.Projects}, Notify: emitNotifier{c.Host}, Log: c.Log, Settle: c.Settle})
	if err != nil {
		return nil, nil, err
	}
	return &Service{h: h, p: c.Projects, pv: c.Previews}, &Control{h: h, p: c.Projects, run: c.Host}, nil
}

// Start takes versions as files settle and prunes once an hour, under the
// engine's runner: closing the engine (quitting) waits for a version being
// taken to finish or stop at a consistent point (its changes stay pending
// and are taken at the next start) before the database closes.
func (c *Control) Start(ctx context.Context) {
	c.run.Go(c.h.Run)
	c.run.Go(func(ctx context.Context) {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := c.h.Prune(ctx); err != nil && ctx.Err() == nil {
					c.h.log.Warn("local history: prune failed; will try again", "err", err)
				}
			}
		}
	})
}

// Close releases the history vault.
func (c *Control) Close() error { return c.h.Close() }

// History is the engine (tests).
func (c *Control) History() *History { return c.h }

// Consider records the index's changes of p; each becomes a version once
// its file settled. No consent is involved: nothing leaves the machine.
func (c *Control) Consider(p host.Project, changes []index.Change) {
	cs := make([]Change, 0, len(changes))
	for _, ch := range changes {
		cs = append(cs, Change{Project: string(p.ID), Op: Op(ch.Op), Path: ch.Record.Path, From: ch.From, Size: ch.Record.Size, ModTime: ch.Record.ModTime, Mode: ch.Record.Mode, SHA256: [32]byte(ch.Record.SHA256)})
	}
	if err := c.h.ConsiderAll(cs); err != nil {
		c.h.log.Warn("local history: changes not recorded; those files get a version once they change again", "project", p.Name, "changes", len(cs), "err", err)
	}
}
