// Package tray is Atelier's status icon: a freedesktop StatusNotifierItem
// (through fyne.io/systray, which speaks the protocol over D-Bus without GTK,
// so it runs beside the Wails window's GTK loop) showing idle, working, paused
// or needs attention, with a menu to open the window, pause or resume sync,
// see when the last sync ran, and quit.
//
// The package knows nothing of the engine. A Source says what the state is;
// Actions carry out what the creator picks in the menu. The desktop app gives
// it both, whether it owns the engine or is attached to `atelier daemon`.
package tray

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Status is what the icon shows at a glance.
type Status int

const (
	Idle      Status = iota // watching; nothing to do
	Working                 // indexing, rendering previews, syncing
	Paused                  // sync paused by the creator, or heavy work on battery
	Attention               // something needs the creator: a failed sync, a conflict, an engine that does not answer
)

func (s Status) String() string {
	switch s {
	case Idle:
		return "idle"
	case Working:
		return "working"
	case Paused:
		return "paused"
	case Attention:
		return "needs attention"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// State is the engine's state as the tray shows it.
type State struct {
	Status Status
	// Detail is one line on what is going on or what needs the creator
	// ("Syncing Night Drive EP: 3 of 10 files", "2 sync conflicts to resolve").
	Detail string
	// SyncPaused makes the menu offer Resume instead of Pause.
	SyncPaused bool
	// OnBattery: sync and previews are held while the machine runs on
	// battery (the creator's setting); apart from SyncPaused.
	OnBattery bool
	// LastSync is when sync last completed; zero when it never did.
	LastSync time.Time
	// Quitting is set while the app finishes its work before it quits.
	Quitting bool
}

// Source tells the tray the current state. It is asked when the tray is
// poked (an engine event) and once a minute (for "last sync 5 minutes ago").
type Source interface {
	State(ctx context.Context) (State, error)
}

// Actions carry out the menu's choices. Open and Quit must not block: they
// hand the work to the window's loop.
type Actions interface {
	Open()
	SetSyncPaused(ctx context.Context, paused bool) error
	Quit()
}

// Item is a menu entry the creator can click.
type Item int

const (
	ItemOpen Item = iota
	ItemPause
	ItemQuit
)

// Menu labels; the test watcher finds the entries by them.
const (
	LabelOpen   = "Open Atelier"
	LabelPause  = "Pause sync"
	LabelResume = "Resume sync"
	LabelQuit   = "Quit Atelier"
)

// View is what the tray shows for a State: derived by Render, so the wording
// is tested without D-Bus.
type View struct {
	Status     Status
	Title      string // the item's title: "Atelier"
	Tooltip    string // "Atelier: syncing Night Drive EP (3 of 10 files)"
	PauseLabel string // LabelPause or LabelResume
	LastSync   string // "Last sync: 5 minutes ago", "Not synced yet"
	CanPause   bool   // false while quitting
}

// Render turns a State into what the tray shows at time now.
func Render(st State, now time.Time) View {
	v := View{Status: st.Status, Title: "Atelier", PauseLabel: LabelPause, CanPause: !st.Quitting}
	if st.SyncPaused {
		v.PauseLabel = LabelResume
	}
	if st.LastSync.IsZero() {
		v.LastSync = "Not synced yet"
	} else {
		v.LastSync = "Last sync: " + Ago(st.LastSync, now)
	}
	what := map[Status]string{Idle: "up to date", Working: "working", Paused: "sync paused", Attention: "needs attention"}[st.Status]
	if what == "" {
		what = st.Status.String()
	}
	if st.Status == Paused && st.OnBattery {
		what = "paused: on battery"
		if st.SyncPaused {
			what = "sync paused; paused: on battery"
		}
	}
	if st.Quitting {
		what = "quitting"
	}
	tip := "Atelier: " + what
	if d := strings.TrimSpace(st.Detail); d != "" {
		tip += " — " + d
	}
	v.Tooltip = tip
	return v
}

// Ago says how long before now t was, the way a menu line does.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now" // clocks of two processes disagree by a little
	case d < time.Minute:
		return "just now"
	case d < 2*time.Minute:
		return "1 minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d/time.Minute))
	case d < 2*time.Hour:
		return "1 hour ago"
	case d < 24*time.Hour && sameDay(t, now):
		return fmt.Sprintf("%d hours ago", int(d/time.Hour))
	case d < 48*time.Hour && sameDay(t, now.AddDate(0, 0, -1)):
		return "yesterday at " + t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan at 15:04")
	}
	return t.Format("2 Jan 2006")
}

func sameDay(a, b time.Time) bool {
	b = b.In(a.Location())
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// surface is where a View is shown: the StatusNotifierItem (sni.go) or a
// test's stand-in. Clicks delivers the creator's menu picks.
type surface interface {
	Show(v View)
	Clicks() <-chan Item
}

// Options configure a Tray.
type Options struct {
	Source  Source
	Actions Actions
	Logger  *slog.Logger
	// Refresh is how often the state is read without a poke (the "last sync"
	// line ages). 0 means one minute.
	Refresh time.Duration
	// MinInterval spaces reads when events come in bursts (an index of
	// thousands of files). 0 means 500 ms.
	MinInterval time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Tray keeps a surface showing the Source's state and routes its clicks.
type Tray struct {
	opts Options
	log  *slog.Logger
	surf surface
	poke chan struct{}

	mu       sync.Mutex
	last     State
	quitting bool
}

func newTray(opts Options, surf surface) *Tray {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Refresh <= 0 {
		opts.Refresh = time.Minute
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = 500 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Tray{opts: opts, log: opts.Logger, surf: surf, poke: make(chan struct{}, 1)}
}

// Poke says the state may have changed (an engine event). Pokes coalesce:
// a burst of events costs one read.
func (t *Tray) Poke() {
	if t == nil {
		return
	}
	select {
	case t.poke <- struct{}{}:
	default:
	}
}

// SetQuitting shows that the app is finishing its work before it quits.
func (t *Tray) SetQuitting() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.quitting = true
	t.last.Quitting = true
	st := t.last
	t.mu.Unlock()
	// Shown now: the app may stop refreshing the tray before the next poke.
	t.surf.Show(Render(st, t.opts.Now()))
	t.Poke()
}

// State is the last state shown.
func (t *Tray) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// run shows the state until ctx ends, and handles clicks.
func (t *Tray) run(ctx context.Context) {
	go t.handleClicks(ctx)
	tick := time.NewTicker(t.opts.Refresh)
	defer tick.Stop()
	for {
		t.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.opts.MinInterval):
		}
		select {
		case <-ctx.Done():
			return
		case <-t.poke:
		case <-tick.C:
		}
	}
}

func (t *Tray) refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	st, err := t.opts.Source.State(rctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		t.log.Warn("tray: read the engine's state", "err", err)
		st = State{Status: Attention, Detail: "the engine does not answer: " + err.Error()}
	}
	t.mu.Lock()
	st.Quitting = st.Quitting || t.quitting
	t.last = st
	t.mu.Unlock()
	t.surf.Show(Render(st, t.opts.Now()))
}

func (t *Tray) handleClicks(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case it, ok := <-t.surf.Clicks():
			if !ok {
				return
			}
			t.click(ctx, it)
		}
	}
}

func (t *Tray) click(ctx context.Context, it Item) {
	switch it {
	case ItemOpen:
		t.opts.Actions.Open()
	case ItemQuit:
		t.opts.Actions.Quit()
	case ItemPause:
		t.mu.Lock()
		pause := !t.last.SyncPaused
		quitting := t.quitting
		t.mu.Unlock()
		if quitting {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := t.opts.Actions.SetSyncPaused(cctx, pause)
		cancel()
		if err != nil {
			t.log.Error("tray: pause or resume sync", "pause", pause, "err", err)
		}
		t.Poke()
	}
}
