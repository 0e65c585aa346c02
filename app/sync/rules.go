package syncsvc

import (
	"path"
	"sort"
	"time"

	"atelier/app/apierr"
	"atelier/app/index"
	"atelier/localdb"
	"atelier/sync/rules"
)

// SyncRules is a project's selection and target.
type SyncRules struct {
	Project string `json:"project"`
	Enabled bool   `json:"enabled"` // background sync on
	Remote  string `json:"remote"`  // "" = the default remote
	rules.Rules
}

// PreviewNode is a folder in the selection preview.
type PreviewNode struct {
	Name          string         `json:"name"`
	Path          string         `json:"path"`
	Files         int            `json:"files"`
	Bytes         int64          `json:"bytes"`
	SelectedFiles int            `json:"selectedFiles"`
	SelectedBytes int64          `json:"selectedBytes"`
	Children      []*PreviewNode `json:"children,omitempty"`
}

// SyncPreview is how much of a project the rules select.
type SyncPreview struct {
	Project       string       `json:"project"`
	Files         int          `json:"files"`
	Bytes         int64        `json:"bytes"`
	SelectedFiles int          `json:"selectedFiles"`
	SelectedBytes int64        `json:"selectedBytes"`
	Pending       int          `json:"pending"` // outbox entries waiting
	Tree          *PreviewNode `json:"tree"`
}

func (s *Service) rulesOf(project string) (SyncRules, bool) {
	var r SyncRules
	var ok bool
	s.db.View(func(tx *localdb.Tx) error {
		var err error
		r, ok, err = syncRules.Get(tx, project)
		return err
	})
	r.Project = project
	return r, ok
}

// projectID resolves a project reference; an unknown one is taken as the
// vault's project name (restoring onto a new machine).
func (s *Service) projectID(ref string) (string, string, bool) {
	p, err := s.files.Project(ref)
	if err != nil {
		return ref, "", false
	}
	return string(p.ID), p.Root, true
}

// Rules returns a project's selection (everything, not enabled, when unset).
func (s *Service) Rules(project string) (SyncRules, error) {
	id, _, ok := s.projectID(project)
	if !ok {
		return SyncRules{}, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	r, _ := s.rulesOf(id)
	return r, nil
}

// SetRules sets a project's selection and target.
func (s *Service) SetRules(project string, r SyncRules) error {
	id, _, ok := s.projectID(project)
	if !ok {
		return apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	if _, err := rules.Compile(r.Rules); err != nil {
		return err
	}
	if r.Remote != "" {
		if _, err := s.remote(r.Remote); err != nil {
			return err
		}
	}
	r.Project = id
	if err := s.db.Update(func(tx *localdb.Tx) error { return syncRules.Put(tx, id, r) }); err != nil {
		return err
	}
	if r.Enabled {
		// Queue everything the new rules select; the run compares with the
		// last snapshot, so unchanged files cost nothing.
		s.outbox().mark([]outboxItem{{id, ""}}, time.Now().UTC())
		s.poke()
	}
	s.emitStatus()
	return nil
}

// Preview shows how much of a project the rules select, as a folder tree.
func (s *Service) Preview(project string) (SyncPreview, error) {
	id, _, ok := s.projectID(project)
	if !ok {
		return SyncPreview{}, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	r, _ := s.rulesOf(id)
	m, err := rules.Compile(r.Rules)
	if err != nil {
		return SyncPreview{}, err
	}
	files, err := s.files.Records(index.ProjectID(id), "")
	if err != nil {
		return SyncPreview{}, err
	}
	pv := SyncPreview{Project: id, Tree: &PreviewNode{Name: id, Path: ""}}
	dirs := map[string]*PreviewNode{"": pv.Tree}
	var node func(p string) *PreviewNode
	node = func(p string) *PreviewNode {
		if n := dirs[p]; n != nil {
			return n
		}
		parent := node(parentDir(p))
		n := &PreviewNode{Name: path.Base(p), Path: p}
		parent.Children = append(parent.Children, n)
		dirs[p] = n
		return n
	}
	for _, f := range files {
		sel := m.Match(f.Path, string(f.Kind), f.Size)
		pv.Files++
		pv.Bytes += f.Size
		if sel {
			pv.SelectedFiles++
			pv.SelectedBytes += f.Size
		}
		for d := parentDir(f.Path); ; d = parentDir(d) {
			n := node(d)
			n.Files++
			n.Bytes += f.Size
			if sel {
				n.SelectedFiles++
				n.SelectedBytes += f.Size
			}
			if d == "" {
				break
			}
		}
	}
	for _, n := range dirs {
		sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Name < n.Children[j].Name })
	}
	pv.Pending = s.pending(id)
	return pv, nil
}

func parentDir(p string) string {
	d := path.Dir(p)
	if d == "." || d == "/" {
		return ""
	}
	return d
}

func (s *Service) pending(project string) int { return s.outbox().pending(project) }
