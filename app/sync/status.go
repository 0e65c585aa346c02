package syncsvc

import (
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
	"atelier/sync/vault"
)

// ProjectSyncStatus is one project's sync state.
type ProjectSyncStatus struct {
	Project  string        `json:"project"`
	Enabled  bool          `json:"enabled"`
	Remote   string        `json:"remote"`
	Pending  int           `json:"pending"`
	LastSnap string        `json:"lastSnapshot,omitempty"`
	LastSeq  int64         `json:"lastSeq,omitempty"`
	LastSync time.Time     `json:"lastSync"`
	LastRun  *ProjectRun   `json:"lastRun,omitempty"`
	Progress *SyncProgress `json:"progress,omitempty"`
}

// SyncStatus is the whole sync picture.
type SyncStatus struct {
	Device  string `json:"device"`
	Consent bool   `json:"consent"`
	Paused  bool   `json:"paused"` // by the creator (Pause); it survives restarts
	// PowerPaused: held while the machine runs on battery, the creator
	// having asked for it (Settings); it neither sets nor clears Paused.
	PowerPaused bool                `json:"powerPaused"`
	Running     bool                `json:"running"`
	Keyring     string              `json:"keyring"` // "available" or why not
	Remotes     []Remote            `json:"remotes"`
	Projects    []ProjectSyncStatus `json:"projects"`
	Conflicts   int                 `json:"conflicts"`
	Problems    []string            `json:"problems"`
}

type syncSettings struct {
	Device    string          `json:"device"`
	Paused    bool            `json:"paused"`
	Retention vault.Retention `json:"retention"`
}

// SyncEvent carries SyncStatus after a run, a pause or a change of remotes.
const SyncEvent = "sync"

// settings reads the stored settings once, then answers from memory: the
// status polls (the tray's, every minute) must not reopen a database closed
// while idle. Only putSettings writes them.
func (s *Service) settings() (syncSettings, error) {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	return s.settingsLocked()
}

func (s *Service) settingsLocked() (syncSettings, error) {
	if s.setOK {
		return s.set, nil
	}
	var st syncSettings
	err := s.db.View(func(tx *localdb.Tx) error {
		v, ok, err := syncSettingsT.Get(tx, "main")
		if ok {
			st = v
		}
		return err
	})
	if st.Device == "" {
		h, _ := os.Hostname()
		if h == "" {
			h = "this computer"
		}
		st.Device = h
	}
	if st.Retention == (vault.Retention{}) {
		st.Retention = vault.DefaultRetention
	}
	if err == nil {
		s.set, s.setOK = st, true
	}
	return st, err
}

func (s *Service) putSettings(fn func(*syncSettings)) error {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	st, err := s.settingsLocked()
	if err != nil {
		return err
	}
	fn(&st)
	s.setOK = false
	return s.db.Update(func(tx *localdb.Tx) error { return syncSettingsT.Put(tx, "main", st) })
}

// SetDevice names this computer in conflict copies and history.
func (s *Service) SetDevice(name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsAny(name, "/\\\x00") {
		return apierr.Errorf(apierr.InvalidInput, "device name %q: use up to 64 characters without slashes", name)
	}
	return s.putSettings(func(st *syncSettings) { st.Device = name })
}

// Status reports remotes, projects, progress, conflicts and problems.
func (s *Service) Status() (SyncStatus, error) {
	set, _ := s.settings()
	st := SyncStatus{Device: set.Device, Consent: s.consent("sync.cloud"), Keyring: s.keyringState(), Projects: []ProjectSyncStatus{}, Problems: []string{}}
	st.Paused, st.PowerPaused = s.pausedFor()
	stored, err := s.storedStatus()
	if err != nil {
		return st, err
	}
	st.Remotes = make([]Remote, 0, len(stored.remotes))
	for _, r := range stored.remotes {
		st.Remotes = append(st.Remotes, s.describe(r))
	}
	st.Conflicts = stored.conflicts
	s.mu.Lock()
	st.Running = s.running
	st.Problems = append(st.Problems, s.problems...)
	prog := map[string]SyncProgress{}
	for k, v := range s.progress {
		prog[k] = *v
	}
	s.mu.Unlock()
	st.Projects = slices.Clone(stored.projects)
	for i := range st.Projects {
		if p, ok := prog[st.Projects[i].Project]; ok {
			st.Projects[i].Progress = &p
		}
	}
	if st.Projects == nil {
		st.Projects = []ProjectSyncStatus{}
	}
	return st, stored.err
}

// statusStored is what Status reads from the database, kept with the
// database's write count: the tray polls Status every minute, and an idle
// engine answers it from memory (its database closed) until something
// writes.
type statusStored struct {
	writes    uint64
	remotes   []Remote
	conflicts int
	projects  []ProjectSyncStatus // without Progress
	err       error
}

func (s *Service) storedStatus() (statusStored, error) {
	w := s.db.Writes()
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	if c := s.status; c != nil && c.writes == w {
		return *c, nil
	}
	out := statusStored{writes: w}
	var err error
	if out.remotes, err = s.remotes(); err != nil {
		return out, err
	}
	out.err = s.db.View(func(tx *localdb.Tx) error {
		if err := syncConflicts.Keys(tx, "", func(string) error { out.conflicts++; return nil }); err != nil {
			return err
		}
		return syncRules.Scan(tx, "", func(k string, r SyncRules) error {
			ps := ProjectSyncStatus{Project: k, Enabled: r.Enabled, Remote: r.Remote}
			if lr, ok, _ := syncRuns.Get(tx, k); ok {
				ps.LastRun = &lr
				if lr.Error == "" {
					ps.LastSync = lr.Started
				}
			}
			out.projects = append(out.projects, ps)
			return nil
		})
	})
	for i := range out.projects {
		p := &out.projects[i]
		p.Pending = s.pending(p.Project)
		if rm, err := s.remote(p.Remote); err == nil {
			p.Remote = rm.Name
			if h, ok, _ := vault.LocalHead(s.syncState(rm.Name), p.Project); ok {
				p.LastSnap, p.LastSeq = h.Snapshot, h.Seq
			}
		}
	}
	if out.err == nil && s.db.Writes() == w {
		s.status = &out
	}
	return out, nil
}

// Pause stops transfers (the one under way finishes its current pack) and
// background runs until Resume; it survives restarts.
func (s *Service) Pause() error {
	s.setPaused(func() { s.userPaused = true })
	err := s.putSettings(func(st *syncSettings) { st.Paused = true })
	s.emitStatus()
	return err
}

// Resume lets sync continue.
func (s *Service) Resume() error {
	s.setPaused(func() { s.userPaused = false })
	err := s.putSettings(func(st *syncSettings) { st.Paused = false })
	s.poke()
	s.emitStatus()
	return err
}

// setPaused changes why sync is paused under pauseMu and closes the gate
// while the creator or the power source holds it, opening it only when
// neither does.
func (s *Service) setPaused(change func()) {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	change()
	if s.userPaused || s.powerPaused {
		s.gate.Pause()
	} else {
		s.gate.Resume()
	}
}

// pausedFor says whether the creator paused sync and whether it is held
// for running on battery.
func (s *Service) pausedFor() (user, power bool) {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	return s.userPaused, s.powerPaused
}

// Conflicts lists the conflict copies sync made that are still open.
func (s *Service) Conflicts() ([]vault.Conflict, error) {
	out := []vault.Conflict{}
	err := s.db.View(func(tx *localdb.Tx) error {
		return syncConflicts.Scan(tx, "", func(_ string, c vault.Conflict) error { out = append(out, c); return nil })
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, err
}

// DismissConflict marks a conflict as handled (the copy stays on disk).
func (s *Service) DismissConflict(project, copyPath string) error {
	return s.db.Update(func(tx *localdb.Tx) error { return syncConflicts.Delete(tx, project+"/"+copyPath) })
}

func (s *Service) emitStatus() {
	if s.host.Context().Err() != nil {
		return
	}
	st, err := s.Status()
	if err == nil {
		s.host.Emit(SyncEvent, st)
	}
}
