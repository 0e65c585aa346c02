package history

import (
	"context"
	"errors"
	"math"

	"atelier/app/apierr"
)

// Service is the History service: the methods the desktop app, the local
// API and the CLI call ("History.Versions", ...). The engine registers it
// in its service map and feeds History.Consider from its change fan-out;
// taking versions, pruning and the settle loop stay off this surface.
type Service struct {
	h  *History
	p  Projects // nil: project names are history's keys (tests)
	pv Previews // nil: no content facts
}

// Previews is what history needs of the Library: what it rendered of a
// file's content, by the file's name and the content's SHA-256 (hex).
type Previews interface {
	PreviewFacts(path, sha256 string) (duration float64, lufs *float64, waveform string, ok bool)
}

// ContentFacts is what the Library knows of one content of a file: a
// version's duration, integrated loudness and mini waveform.
type ContentFacts struct {
	Duration float64  `json:"duration,omitempty"`
	LUFS     *float64 `json:"lufs,omitempty"`
	Waveform string   `json:"waveform,omitempty"` // absolute path of the PNG waveform (served by /files/)
}

// NewService wraps h.
func NewService(h *History) *Service { return &Service{h: h} }

// ref resolves a project by id, name or folder to history's key (its ID).
func (s *Service) ref(project string) (string, error) {
	if s.p == nil {
		return project, nil
	}
	p, err := s.p.Project(project)
	if err != nil {
		return "", apierr.Wrap(apierr.NotFound, err)
	}
	return string(p.ID), nil
}

// kind tags history's refusals for the API (404, 400) without changing
// their message.
func kind(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return apierr.Wrap(apierr.NotFound, err)
	case errors.Is(err, ErrPaused):
		return apierr.Wrap(apierr.Conflict, err)
	}
	return err
}

// Taking names the project whose version is being taken right now, ""
// when none: quitting the desktop app says it finishes or checkpoints it.
func (s *Service) Taking() string {
	id := s.h.Taking()
	if id == "" || s.p == nil {
		return id
	}
	if p, err := s.p.Project(id); err == nil && p.Name != "" {
		return p.Name
	}
	return id
}

// Versions lists the versions of a file, newest first (following renames;
// a deletion is a version with op "delete").
func (s *Service) Versions(project, path string) ([]Version, error) {
	project, err := s.ref(project)
	if err != nil {
		return nil, err
	}
	v, err := s.h.Versions(project, path)
	return v, kind(err)
}

// Deleted lists the deleted files of a project that can be restored.
func (s *Service) Deleted(project string) ([]Deleted, error) {
	project, err := s.ref(project)
	if err != nil {
		return nil, err
	}
	d, err := s.h.DeletedFiles(project)
	return d, kind(err)
}

// Timeline lists the points of a project's history, newest first.
func (s *Service) Timeline(project string) ([]SnapInfo, error) {
	project, err := s.ref(project)
	if err != nil {
		return nil, err
	}
	t, err := s.h.Timeline(project)
	return t, kind(err)
}

// RestoreRequest restores a file or folder of a project: in place (As
// empty; what is there becomes a version first) or as a copy.
type RestoreRequest struct {
	Project string `json:"project"`
	Path    string `json:"path"`
	At      string `json:"at"` // version number, milestone, time or "" (latest; a deleted file's last)
	As      string `json:"as,omitempty"`
	Copy    bool   `json:"copy,omitempty"` // save as copy under the default name
}

// Restore writes a version back.
func (s *Service) Restore(ctx context.Context, r RestoreRequest) (RestoreResult, error) {
	if r.Project == "" || r.Path == "" {
		return RestoreResult{}, apierr.Errorf(apierr.InvalidInput, "restore needs a project and a path")
	}
	project, err := s.ref(r.Project)
	if err != nil {
		return RestoreResult{}, err
	}
	r.Project = project
	var res RestoreResult
	if r.As != "" || r.Copy {
		res, err = s.h.RestoreAs(ctx, r.Project, r.Path, r.At, r.As)
	} else {
		res, err = s.h.Restore(ctx, r.Project, r.Path, r.At)
	}
	return res, kind(err)
}

// Milestone names a point of a project ("sent to mastering").
func (s *Service) Milestone(project, name, at string) (Milestone, error) {
	project, err := s.ref(project)
	if err != nil {
		return Milestone{}, err
	}
	m, err := s.h.Milestone(project, name, at)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return m, apierr.Wrap(apierr.InvalidInput, err)
	}
	return m, kind(err)
}

// Milestones lists a project's milestones, oldest first.
func (s *Service) Milestones(project string) ([]Milestone, error) {
	project, err := s.ref(project)
	if err != nil {
		return nil, err
	}
	m, err := s.h.Milestones(project)
	return m, kind(err)
}

// RemoveMilestone removes a milestone (its point becomes prunable).
func (s *Service) RemoveMilestone(project, name string) error {
	project, err := s.ref(project)
	if err != nil {
		return err
	}
	return kind(s.h.RemoveMilestone(project, name))
}

// Diff compares two points of a project (from "" : the point before to;
// to "": the latest).
func (s *Service) Diff(ctx context.Context, project, from, to string) (Diff, error) {
	project, err := s.ref(project)
	if err != nil {
		return Diff{}, err
	}
	d, err := s.h.Diff(ctx, project, from, to)
	if err == nil {
		s.loudness(d.Entries)
	}
	return d, kind(err)
}

// loudness fills in the loudness of the audio contents of a diff that the
// Library measured, and the delta when both sides are known.
func (s *Service) loudness(entries []DiffEntry) {
	if s.pv == nil {
		return
	}
	lufs := func(p, sha string) *float64 {
		if sha == "" {
			return nil
		}
		_, l, _, ok := s.pv.PreviewFacts(p, sha)
		if !ok {
			return nil
		}
		return l
	}
	for i := range entries {
		e := &entries[i]
		old := e.Path
		if e.From != "" {
			old = e.From
		}
		e.OldLUFS, e.NewLUFS = lufs(old, e.OldSHA256), lufs(e.Path, e.NewSHA256)
		if e.OldLUFS != nil && e.NewLUFS != nil {
			d := math.Round((*e.NewLUFS-*e.OldLUFS)*10) / 10
			e.LUFSDelta = &d
		}
	}
}

// BrowseResult is a folder of a past state.
type BrowseResult struct {
	Point   SnapInfo `json:"point"`
	Dir     string   `json:"dir"`
	Entries []Entry  `json:"entries"`
}

// Browse lists a folder of a project as it was at a point.
func (s *Service) Browse(ctx context.Context, project, at, dir string) (BrowseResult, error) {
	project, err := s.ref(project)
	if err != nil {
		return BrowseResult{}, err
	}
	pt, ents, err := s.h.Browse(ctx, project, at, dir)
	return BrowseResult{Point: pt, Dir: dir, Entries: ents}, kind(err)
}

// Budget reports the size cap and what history uses per project.
func (s *Service) Budget() (BudgetInfo, error) {
	b, err := s.h.BudgetInfo()
	return b, kind(err)
}

// SetBudget sets the size cap (CapBytes, or SharePercent of the disk) and
// prunes to it.
func (s *Service) SetBudget(ctx context.Context, b Budget) (BudgetInfo, error) {
	if err := s.h.SetBudget(b); err != nil {
		return BudgetInfo{}, apierr.Wrap(apierr.InvalidInput, err)
	}
	if _, err := s.h.Prune(ctx); err != nil {
		return BudgetInfo{}, err
	}
	return s.Budget()
}

// SetEnabled turns a project's history on or off (versions taken stay).
func (s *Service) SetEnabled(project string, on bool) error {
	project, err := s.ref(project)
	if err != nil {
		return err
	}
	return kind(s.h.SetSettings(project, Settings{Off: !on}))
}

// Facts answers what the Library rendered of the given contents (SHA-256,
// hex) of the file path: duration, loudness and waveform by hash. A content
// it never rendered is left out (an old version whose preview was never
// made, or was collected).
func (s *Service) Facts(path string, sha256 []string) (map[string]ContentFacts, error) {
	if len(sha256) > 10000 {
		return nil, apierr.Errorf(apierr.InvalidInput, "facts of %d contents asked at once: ask at most 10,000", len(sha256))
	}
	out := make(map[string]ContentFacts, len(sha256))
	if s.pv == nil {
		return out, nil
	}
	for _, h := range sha256 {
		if d, l, w, ok := s.pv.PreviewFacts(path, h); ok {
			out[h] = ContentFacts{Duration: d, LUFS: l, Waveform: w}
		}
	}
	return out, nil
}
