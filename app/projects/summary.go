package projects

import (
	"time"

	"atelier/app/index"
)

// List returns every project with its live state.
func (s *Service) List() ([]ProjectSummary, error) {
	ps, err := s.projects()
	if err != nil {
		return nil, err
	}
	out := make([]ProjectSummary, 0, len(ps))
	for _, p := range ps {
		out = append(out, s.summary(p))
	}
	return out, nil
}

func (s *Service) summaries() []ProjectSummary {
	l, err := s.List()
	if err != nil {
		s.log.Warn("list projects", "err", err)
	}
	return l
}

func (s *Service) summary(p Project) ProjectSummary {
	s.mu.Lock()
	r := s.runs[p.ID]
	s.mu.Unlock()
	if r == nil {
		r = &projectRun{state: ProjectSummary{Project: p, Watching: "off"}, dirty: true}
	}
	return s.snapshot(r)
}

// snapshot copies a run's state, recounting first if changes made it stale.
func (s *Service) snapshot(r *projectRun) ProjectSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dirty {
		s.recount(r)
	}
	st := r.state
	st.Problems = append([]index.Problem(nil), st.Problems...)
	if st.Problems == nil {
		st.Problems = []index.Problem{}
	}
	return st
}

// recount refreshes a run's file count and size from the index (r.mu held).
func (s *Service) recount(r *projectRun) {
	n, b := 0, int64(0)
	var last time.Time
	index.NewStore(s.db, r.state.ID).All(func(fr index.FileRecord) error {
		n++
		b += fr.Size
		if fr.ModTime.After(last) {
			last = fr.ModTime
		}
		return nil
	})
	r.state.Files, r.state.Bytes = n, b
	if last.After(r.state.LastChange) {
		r.state.LastChange = last
	}
	r.dirty = false
}

// Status reports the engine and every project.
func (s *Service) Status() (Status, error) {
	ps, err := s.List()
	if err != nil {
		return Status{}, err
	}
	st := Status{Version: s.version, DataDir: s.dataDir, CacheDir: s.cacheDir, Projects: ps, Running: s.background}
	for _, p := range ps {
		st.Files += p.Files
		st.Bytes += p.Bytes
		st.Indexing = st.Indexing || p.Indexing
	}
	lsm, vlog := s.db.Size()
	st.DBBytes = lsm + vlog
	return st, nil
}
