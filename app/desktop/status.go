package desktop

import (
	"context"
	"fmt"
	"strings"
	"time"

	"atelier/app/api"
	"atelier/app/tray"
)

// StatusSource is the tray's view of the engine: idle, working (indexing,
// rendering previews, syncing), sync paused, or needs attention (sync
// problems or conflicts, a failed sync run, a project no longer watched),
// read through the same methods the status line of the window uses.
type StatusSource struct{ C api.Caller }

// The fields of the engine's answers the tray reads.
type (
	syncStatus struct {
		Paused bool `json:"paused"`
		// PowerPaused: held on battery (the creator's setting), apart
		// from Paused
		PowerPaused bool          `json:"powerPaused"`
		Running     bool          `json:"running"`
		Conflicts   int           `json:"conflicts"`
		Problems    []string      `json:"problems"`
		Projects    []syncProject `json:"projects"`
	}
	syncProject struct {
		Project  string    `json:"project"`
		Enabled  bool      `json:"enabled"`
		LastSync time.Time `json:"lastSync"`
		LastRun  *struct {
			Error string `json:"error"`
		} `json:"lastRun"`
		Progress *struct {
			Note string `json:"note"`
		} `json:"progress"`
	}
	projectsStatus struct {
		Indexing bool           `json:"indexing"`
		Projects []projectState `json:"projects"`
	}
	projectState struct {
		Name     string `json:"name"`
		Indexing bool   `json:"indexing"`
		Watching string `json:"watching"`
		Hint     string `json:"hint"`
	}
	queueStats struct {
		Pending     int  `json:"pending"`
		Running     int  `json:"running"`
		PowerPaused bool `json:"powerPaused"`
	}
)

// State reads the engine's state.
func (s StatusSource) State(ctx context.Context) (tray.State, error) {
	var ps projectsStatus
	if err := s.C.Call(ctx, "Projects.Status", &ps); err != nil {
		return tray.State{}, err
	}
	var ss syncStatus
	if err := s.C.Call(ctx, "Sync.Status", &ss); err != nil {
		return tray.State{}, err
	}
	var qs queueStats
	if err := s.C.Call(ctx, "Library.Stats", &qs); err != nil {
		return tray.State{}, err
	}
	return stateOf(ps, ss, qs), nil
}

// stateOf decides what the tray shows. Needing the creator wins over
// being paused (by the creator, or on battery when the creator asked for
// that), which wins over working.
func stateOf(ps projectsStatus, ss syncStatus, qs queueStats) tray.State {
	st := tray.State{Status: tray.Idle, SyncPaused: ss.Paused, OnBattery: ss.PowerPaused || qs.PowerPaused}
	var attention, working []string
	for _, p := range ps.Projects {
		if p.Watching == "off" && p.Hint != "" {
			attention = append(attention, fmt.Sprintf("%s is not watched: %s", p.Name, p.Hint))
		}
	}
	attention = append(attention, ss.Problems...)
	if ss.Conflicts == 1 {
		attention = append(attention, "1 sync conflict to resolve")
	} else if ss.Conflicts > 1 {
		attention = append(attention, fmt.Sprintf("%d sync conflicts to resolve", ss.Conflicts))
	}
	for _, p := range ss.Projects {
		if p.LastSync.After(st.LastSync) {
			st.LastSync = p.LastSync
		}
		if p.Enabled && p.LastRun != nil && p.LastRun.Error != "" {
			attention = append(attention, fmt.Sprintf("sync of %s failed: %s", p.Project, p.LastRun.Error))
		}
		if p.Progress != nil && p.Progress.Note != "" && !ss.Paused && !ss.PowerPaused {
			working = append(working, "syncing "+p.Progress.Note)
		}
	}
	if ps.Indexing {
		working = append(working, "indexing")
	}
	if n := qs.Pending + qs.Running; n > 0 && qs.PowerPaused {
		working = append(working, fmt.Sprintf("%d previews wait", n))
	} else if n > 0 {
		working = append(working, fmt.Sprintf("rendering %d previews", n))
	}
	if ss.Running && !ss.Paused && !ss.PowerPaused && len(working) == 0 {
		working = append(working, "syncing")
	}
	switch {
	case len(attention) > 0:
		st.Status = tray.Attention
		st.Detail = strings.Join(attention, "; ")
	case ss.Paused || st.OnBattery:
		st.Status = tray.Paused
		st.Detail = strings.Join(working, ", ")
	case len(working) > 0:
		st.Status = tray.Working
		st.Detail = strings.Join(working, ", ")
	}
	return st
}

// Busy says what work would be cut short by quitting now ("" when none):
// the quit notice names it while the engine finishes or checkpoints it (a
// local history version, a sync run).
func Busy(ctx context.Context, c api.Caller) string {
	var taking string
	if err := c.Call(ctx, "History.Taking", &taking); err == nil && taking != "" {
		return "the local history version of " + taking
	}
	var ss syncStatus
	if err := c.Call(ctx, "Sync.Status", &ss); err != nil || !ss.Running {
		return ""
	}
	for _, p := range ss.Projects {
		if p.Progress != nil {
			return "the sync of " + p.Project
		}
	}
	return "a sync"
}
