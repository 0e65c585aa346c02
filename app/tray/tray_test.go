package tray

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		name             string
		st               State
		tip, pause, last string
		canPause         bool
	}{
		{"idle, never synced", State{Status: Idle}, "Atelier: up to date", LabelPause, "Not synced yet", true},
		{"working with detail", State{Status: Working, Detail: "Syncing Night Drive EP: 3 of 10 files", LastSync: now.Add(-5 * time.Minute)},
			"Atelier: working — Syncing Night Drive EP: 3 of 10 files", LabelPause, "Last sync: 5 minutes ago", true},
		{"paused offers resume", State{Status: Paused, SyncPaused: true, LastSync: now.Add(-90 * time.Minute)},
			"Atelier: sync paused", LabelResume, "Last sync: 1 hour ago", true},
		{"on battery", State{Status: Paused, OnBattery: true},
			"Atelier: paused: on battery", LabelPause, "Not synced yet", true},
		{"paused and on battery", State{Status: Paused, OnBattery: true, SyncPaused: true},
			"Atelier: sync paused; paused: on battery", LabelResume, "Not synced yet", true},
		{"attention", State{Status: Attention, Detail: "2 sync conflicts to resolve"},
			"Atelier: needs attention — 2 sync conflicts to resolve", LabelPause, "Not synced yet", true},
		{"quitting", State{Status: Working, Quitting: true, Detail: "finishing the sync of Demo"},
			"Atelier: quitting — finishing the sync of Demo", LabelPause, "Not synced yet", false},
	}
	for _, c := range cases {
		v := Render(c.st, now)
		if v.Tooltip != c.tip || v.PauseLabel != c.pause || v.LastSync != c.last || v.CanPause != c.canPause || v.Status != c.st.Status || v.Title != "Atelier" {
			t.Errorf("%s: Render = %+v, want tooltip %q, pause %q, last %q, canPause %v", c.name, v, c.tip, c.pause, c.last, c.canPause)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	cases := map[time.Duration]string{
		-3 * time.Second:     "just now",
		10 * time.Second:     "just now",
		90 * time.Second:     "1 minute ago",
		42 * time.Minute:     "42 minutes ago",
		61 * time.Minute:     "1 hour ago",
		13 * time.Hour:       "13 hours ago",
		15 * time.Hour:       "yesterday at 23:00",
		30 * 24 * time.Hour:  "31 Oct at 14:00",
		400 * 24 * time.Hour: "26 Oct 2025",
	}
	for d, want := range cases {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(now-%s) = %q, want %q", d, got, want)
		}
	}
}

func TestIcons(t *testing.T) {
	seen := map[string]Status{}
	for _, s := range []Status{Idle, Working, Paused, Attention} {
		b := Icon(s)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("icon %s: %v", s, err)
		}
		if img.Bounds().Dx() != iconSize || img.Bounds().Dy() != iconSize {
			t.Errorf("icon %s is %v", s, img.Bounds())
		}
		// The corners are transparent (a round badge), the centre is not.
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("icon %s: corner not transparent", s)
		}
		if _, _, _, a := img.At(iconSize/2, iconSize/2).RGBA(); a == 0 {
			t.Errorf("icon %s: centre transparent", s)
		}
		if prev, dup := seen[string(b)]; dup {
			t.Errorf("icons %s and %s are the same", s, prev)
		}
		seen[string(b)] = s
	}
}

// fakeSurface records what is shown and lets the test click.
type fakeSurface struct {
	mu     sync.Mutex
	shown  []View
	clicks chan Item
	update chan struct{}
}

func newFakeSurface() *fakeSurface {
	return &fakeSurface{clicks: make(chan Item), update: make(chan struct{}, 100)}
}

func (f *fakeSurface) Show(v View) {
	f.mu.Lock()
	f.shown = append(f.shown, v)
	f.mu.Unlock()
	f.update <- struct{}{}
}

func (f *fakeSurface) Clicks() <-chan Item { return f.clicks }

func (f *fakeSurface) last() View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shown[len(f.shown)-1]
}

func (f *fakeSurface) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.shown)
}

// waitFor waits until the surface shows a view satisfying cond.
func (f *fakeSurface) waitFor(t *testing.T, what string, cond func(View) bool) View {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		ok := len(f.shown) > 0 && cond(f.shown[len(f.shown)-1])
		f.mu.Unlock()
		if ok {
			return f.last()
		}
		select {
		case <-f.update:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last shown %+v", what, f.shown)
		}
	}
}

// fakeEngine is the Source and the Actions.
type fakeEngine struct {
	mu     sync.Mutex
	st     State
	err    error
	reads  int
	opened int
	quits  int
	pauses []bool
}

func (e *fakeEngine) State(ctx context.Context) (State, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads++
	return e.st, e.err
}
func (e *fakeEngine) Open() { e.mu.Lock(); e.opened++; e.mu.Unlock() }
func (e *fakeEngine) Quit() { e.mu.Lock(); e.quits++; e.mu.Unlock() }
func (e *fakeEngine) SetSyncPaused(ctx context.Context, p bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pauses = append(e.pauses, p)
	e.st.SyncPaused = p
	if p {
		e.st.Status = Paused
	} else {
		e.st.Status = Idle
	}
	return nil
}
func (e *fakeEngine) set(fn func(*fakeEngine)) { e.mu.Lock(); fn(e); e.mu.Unlock() }

func TestTrayFollowsTheSourceAndRoutesClicks(t *testing.T) {
	eng := &fakeEngine{st: State{Status: Idle}}
	surf := newFakeSurface()
	tr := newTray(Options{Source: eng, Actions: eng, Refresh: time.Hour, MinInterval: time.Millisecond}, surf)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	surf.waitFor(t, "the first view", func(v View) bool { return v.Status == Idle })

	eng.set(func(e *fakeEngine) { e.st = State{Status: Working, Detail: "indexing Demo"} })
	tr.Poke()
	v := surf.waitFor(t, "working", func(v View) bool { return v.Status == Working })
	if !strings.Contains(v.Tooltip, "indexing Demo") {
		t.Errorf("tooltip %q lacks the detail", v.Tooltip)
	}

	// Pause, then resume, from the menu: the label follows.
	surf.clicks <- ItemPause
	surf.waitFor(t, "Resume offered", func(v View) bool { return v.PauseLabel == LabelResume && v.Status == Paused })
	surf.clicks <- ItemPause
	surf.waitFor(t, "Pause offered", func(v View) bool { return v.PauseLabel == LabelPause })
	surf.clicks <- ItemOpen
	surf.clicks <- ItemQuit
	eng.mu.Lock()
	pauses, opened, quits := append([]bool(nil), eng.pauses...), eng.opened, eng.quits
	eng.mu.Unlock()
	if len(pauses) != 2 || !pauses[0] || pauses[1] {
		t.Errorf("pause clicks called SetSyncPaused with %v, want [true false]", pauses)
	}
	// Open and Quit are handled by the time the next click is taken.
	surf.clicks <- ItemOpen
	eng.mu.Lock()
	opened, quits = eng.opened, eng.quits
	eng.mu.Unlock()
	if opened < 1 || quits != 1 {
		t.Errorf("opened %d, quits %d", opened, quits)
	}

	// An engine that does not answer needs attention.
	eng.set(func(e *fakeEngine) { e.err = errors.New("connection refused") })
	tr.Poke()
	v = surf.waitFor(t, "attention", func(v View) bool { return v.Status == Attention })
	if !strings.Contains(v.Tooltip, "does not answer: connection refused") {
		t.Errorf("tooltip %q", v.Tooltip)
	}

	// Quitting: the pause entry is disabled and a click on it does nothing.
	eng.set(func(e *fakeEngine) { e.err = nil; e.st = State{Status: Working} })
	tr.SetQuitting()
	v = surf.waitFor(t, "quitting", func(v View) bool { return !v.CanPause })
	if !strings.HasPrefix(v.Tooltip, "Atelier: quitting") {
		t.Errorf("tooltip %q", v.Tooltip)
	}
	surf.clicks <- ItemPause
	surf.clicks <- ItemOpen // taken once the pause click is handled
	eng.mu.Lock()
	n := len(eng.pauses)
	eng.mu.Unlock()
	if n != 2 {
		t.Errorf("a pause click while quitting reached the engine (%d calls)", n)
	}
}

func TestPokesCoalesce(t *testing.T) {
	eng := &fakeEngine{st: State{Status: Working}}
	surf := newFakeSurface()
	tr := newTray(Options{Source: eng, Actions: eng, Refresh: time.Hour, MinInterval: 200 * time.Millisecond}, surf)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.run(ctx); close(done) }()
	surf.waitFor(t, "the first view", func(View) bool { return true })
	for i := 0; i < 1000; i++ {
		tr.Poke()
	}
	time.Sleep(600 * time.Millisecond)
	cancel()
	<-done
	eng.mu.Lock()
	reads := eng.reads
	eng.mu.Unlock()
	// One read at start, then at most one per MinInterval: 1000 pokes in
	// 600 ms cost a handful of reads, not a thousand.
	if reads > 5 {
		t.Errorf("1000 pokes caused %d reads of the state", reads)
	}
	if surf.count() != reads {
		t.Errorf("%d reads but %d views shown", reads, surf.count())
	}
}
