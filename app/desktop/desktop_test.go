package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app/tray"
)

func TestStateOf(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	proj := func(name, watching, hint string) projectState {
		return projectState{Name: name, Watching: watching, Hint: hint}
	}
	synced := syncStatus{Projects: []syncProject{
		{Project: "a", Enabled: true, LastSync: t0},
		{Project: "b", Enabled: true, LastSync: t0.Add(time.Hour)},
	}}
	st := stateOf(projectsStatus{}, synced, queueStats{})
	if st.Status != tray.Idle || !st.LastSync.Equal(t0.Add(time.Hour)) || st.Detail != "" {
		t.Errorf("idle: %+v", st)
	}
	st = stateOf(projectsStatus{Indexing: true}, syncStatus{}, queueStats{Pending: 3, Running: 1})
	if st.Status != tray.Working || st.Detail != "indexing, rendering 4 previews" {
		t.Errorf("working: %+v", st)
	}
	st = stateOf(projectsStatus{}, syncStatus{Running: true}, queueStats{})
	if st.Status != tray.Working || st.Detail != "syncing" {
		t.Errorf("syncing: %+v", st)
	}
	st = stateOf(projectsStatus{Indexing: true}, syncStatus{Paused: true, Running: true}, queueStats{})
	if st.Status != tray.Paused || !st.SyncPaused || st.Detail != "indexing" {
		t.Errorf("paused: %+v", st)
	}
	// on battery (the creator's setting): paused, the creator's pause apart
	st = stateOf(projectsStatus{}, syncStatus{PowerPaused: true, Running: true}, queueStats{Pending: 2, Running: 1, PowerPaused: true})
	if st.Status != tray.Paused || st.SyncPaused || !st.OnBattery || st.Detail != "3 previews wait" {
		t.Errorf("on battery: %+v", st)
	}
	if v := tray.Render(st, t0); v.Tooltip != "Atelier: paused: on battery — 3 previews wait" || v.PauseLabel != tray.LabelPause {
		t.Errorf("on battery: tray shows %+v", v)
	}
	st = stateOf(projectsStatus{}, syncStatus{Paused: true, PowerPaused: true}, queueStats{PowerPaused: true})
	if st.Status != tray.Paused || !st.SyncPaused || !st.OnBattery {
		t.Errorf("paused by the creator and on battery: %+v", st)
	}
	failed := synced
	failed.Projects = append([]syncProject(nil), synced.Projects...)
	failed.Projects[1].LastRun = &struct {
		Error string `json:"error"`
	}{Error: "the remote does not answer"}
	failed.Conflicts = 2
	failed.Paused = true
	st = stateOf(projectsStatus{Projects: []projectState{proj("Demo", "off", "inotify watch limit reached")}}, failed, queueStats{})
	if st.Status != tray.Attention || !st.SyncPaused {
		t.Fatalf("attention: %+v", st)
	}
	for _, want := range []string{"Demo is not watched: inotify watch limit reached", "2 sync conflicts to resolve", "sync of b failed: the remote does not answer"} {
		if !strings.Contains(st.Detail, want) {
			t.Errorf("attention detail %q lacks %q", st.Detail, want)
		}
	}
	// Polling (a network folder) is not a problem.
	st = stateOf(projectsStatus{Projects: []projectState{proj("NAS", "polling", "network folder: polled every minute")}}, syncStatus{}, queueStats{})
	if st.Status != tray.Idle {
		t.Errorf("polling: %+v", st)
	}
}

type fakeWindow struct {
	mu                  sync.Mutex
	shows, hides, quits int
}

func (w *fakeWindow) Show() { w.mu.Lock(); w.shows++; w.mu.Unlock() }
func (w *fakeWindow) Hide() { w.mu.Lock(); w.hides++; w.mu.Unlock() }
func (w *fakeWindow) Quit() { w.mu.Lock(); w.quits++; w.mu.Unlock() }
func (w *fakeWindow) counts() (int, int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.shows, w.hides, w.quits
}

type notices struct {
	mu  sync.Mutex
	all []string
}

func (n *notices) add(title, body string) {
	n.mu.Lock()
	n.all = append(n.all, title+": "+body)
	n.mu.Unlock()
}
func (n *notices) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.all...)
}

func TestCloseHidesWhileATrayHostRuns(t *testing.T) {
	win := &fakeWindow{}
	var ns notices
	var hidden, shown, quitting int
	l := &Lifecycle{
		Win:      win,
		Host:     func(context.Context) error { return nil },
		Busy:     func(context.Context) string { return "the sync of Demo EP" },
		Notice:   ns.add,
		Quitting: func() { quitting++ },
		Hidden:   func() { hidden++ },
		Shown:    func() { shown++ },
	}
	ctx := context.Background()
	if !l.BeforeClose(ctx) {
		t.Fatal("closing with a tray host quit the app")
	}
	if _, hides, _ := win.counts(); hides != 1 || hidden != 1 || !l.IsHidden() {
		t.Errorf("hides %d, hidden hook %d", hides, hidden)
	}
	if !l.BeforeClose(ctx) || hidden != 1 {
		t.Errorf("a second close: hidden hook called %d times", hidden)
	}
	l.Open()
	if shows, _, _ := win.counts(); shows != 1 || shown != 1 || l.IsHidden() {
		t.Errorf("open: shows %d, shown hook %d", shows, shown)
	}
	if len(ns.list()) != 0 || quitting != 0 {
		t.Errorf("notices %v, quitting %d", ns.list(), quitting)
	}

	// Quit is explicit: the window is asked to quit, and its close then
	// goes through, with a notice naming the work that finishes first.
	l.Quit()
	if _, _, quits := win.counts(); quits != 1 || !l.IsQuitting() {
		t.Fatalf("quit: %d", quits)
	}
	if l.BeforeClose(ctx) {
		t.Fatal("after Quit the close was prevented")
	}
	if quitting != 1 {
		t.Errorf("quitting hook %d", quitting)
	}
	if n := ns.list(); len(n) != 1 || !strings.Contains(n[0], "finishes or checkpoints the sync of Demo EP") {
		t.Errorf("quit notice %v", n)
	}
}

func TestCloseQuitsWithoutATrayHost(t *testing.T) {
	win := &fakeWindow{}
	var ns notices
	l := &Lifecycle{
		Win:    win,
		Host:   func(context.Context) error { return tray.ErrNoHost },
		Busy:   func(context.Context) string { return "" },
		Notice: ns.add,
	}
	ctx := context.Background()
	l.Started(ctx, false, 0)
	if n := ns.list(); len(n) != 1 || !strings.HasPrefix(n[0], "No system tray here: Closing the window quits Atelier") {
		t.Fatalf("start without a tray: notices %v", n)
	}
	if l.BeforeClose(ctx) {
		t.Fatal("closing without a tray host hid the window into nothing")
	}
	if _, hides, _ := win.counts(); hides != 0 {
		t.Error("the window was hidden")
	}
	if n := ns.list(); len(n) != 1 {
		t.Errorf("the app said it more than once: %v", n)
	}
}

func TestStartedHiddenWaitsForALateTrayThenShows(t *testing.T) {
	ctx := context.Background()
	// A panel that comes up 1 s after the app: it stays hidden.
	win := &fakeWindow{}
	var ns notices
	start := time.Now()
	l := &Lifecycle{Win: win, Notice: ns.add, Busy: func(context.Context) string { return "" },
		Host: func(context.Context) error {
			if time.Since(start) < time.Second {
				return tray.ErrNoHost
			}
			return nil
		}}
	l.Started(ctx, true, 5*time.Second)
	if shows, _, _ := win.counts(); shows != 0 || !l.IsHidden() || len(ns.list()) != 0 {
		t.Errorf("late tray: shows %d, notices %v", shows, ns.list())
	}
	// No panel at all: the window shows rather than stay unreachable.
	win = &fakeWindow{}
	l = &Lifecycle{Win: win, Notice: ns.add, Busy: func(context.Context) string { return "" },
		Host: func(context.Context) error { return errors.New("no tray") }}
	l.Started(ctx, true, 600*time.Millisecond)
	if shows, _, _ := win.counts(); shows != 1 || l.IsHidden() || len(ns.list()) != 1 {
		t.Errorf("no tray: shows %d, notices %v", shows, ns.list())
	}
}

func TestNoTrayNoticeOncePerDataDir(t *testing.T) {
	dir := t.TempDir()
	if !FirstTime(dir, "no-tray") || FirstTime(dir, "no-tray") || !FirstTime(dir, "other") {
		t.Fatal("FirstTime does not remember")
	}
	// Two launches on one data dir: the second one does not say it again,
	// and its close button still quits.
	data := t.TempDir()
	var ns notices
	for launch := 0; launch < 2; launch++ {
		l := &Lifecycle{Win: &fakeWindow{}, Notice: ns.add, Busy: func(context.Context) string { return "" },
			Host:      func(context.Context) error { return tray.ErrNoHost },
			FirstTime: func(key string) bool { return FirstTime(data, key) }}
		l.Started(context.Background(), false, 0)
		if l.BeforeClose(context.Background()) {
			t.Fatalf("launch %d: close hid the window without a tray", launch)
		}
	}
	if n := ns.list(); len(n) != 1 {
		t.Errorf("notices over two launches: %v", n)
	}
}

// answers is an api.Caller with canned results by method.
type answers map[string]any

func (a answers) Call(_ context.Context, method string, out any, _ ...any) error {
	v, ok := a[method]
	if !ok {
		return errors.New("no method " + method)
	}
	b, _ := json.Marshal(v)
	return json.Unmarshal(b, out)
}

// Busy names the work a quit would interrupt: a local history version
// first, then a sync run; nothing when the engine is idle or does not
// know History.Taking (an older daemon).
func TestBusyNamesHistoryAndSync(t *testing.T) {
	ctx := context.Background()
	idleSync := map[string]any{"running": false}
	for _, c := range []struct {
		a    answers
		want string
	}{
		{answers{"History.Taking": "", "Sync.Status": idleSync}, ""},
		{answers{"History.Taking": "Demo EP", "Sync.Status": idleSync}, "the local history version of Demo EP"},
		{answers{"Sync.Status": idleSync}, ""},
		{answers{"History.Taking": "", "Sync.Status": map[string]any{"running": true, "projects": []any{map[string]any{"project": "Demo EP", "progress": map[string]any{"note": "2 of 5"}}}}}, "the sync of Demo EP"},
	} {
		if got := Busy(ctx, c.a); got != c.want {
			t.Errorf("Busy with %v: %q, want %q", c.a, got, c.want)
		}
	}
}
