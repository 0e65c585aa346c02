package tray

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"atelier/app/sessionbus"
)

// The StatusNotifierItem protocol's well-known names.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = "/StatusNotifierWatcher"
	ItemPath     = "/StatusNotifierItem"
	MenuPath     = "/StatusNotifierItem/menu"
	ItemIface    = "org.kde.StatusNotifierItem"
	MenuIface    = "com.canonical.dbusmenu"
	watcherIface = WatcherName
)

// ErrNoHost means no tray host runs: nothing would show the icon, so closing
// the window must quit rather than hide the app into nothing.
var ErrNoHost = errors.New("no system tray is running (no StatusNotifierWatcher on the D-Bus session bus; on GNOME, the AppIndicator extension provides one)")

// HostPresent says whether a tray host runs on the session bus: a
// StatusNotifierWatcher that reports a host registered with it. It answers
// ErrNoHost (or why the bus cannot be reached) when not. It never starts a
// bus (see sessionbus).
func HostPresent(ctx context.Context) error {
	if err := sessionbus.Reachable(); err != nil {
		return fmt.Errorf("%w: %v", ErrNoHost, err)
	}
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("%w: connect to the session bus: %v", ErrNoHost, err)
	}
	defer conn.Close()
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, WatcherName).Store(&has); err != nil {
		return fmt.Errorf("%w: ask the session bus: %v", ErrNoHost, err)
	}
	if !has {
		return ErrNoHost
	}
	v, err := conn.Object(WatcherName, WatcherPath).GetProperty(watcherIface + ".IsStatusNotifierHostRegistered")
	if err != nil {
		return nil // a watcher that does not say: trust that it shows items
	}
	if ok, isBool := v.Value().(bool); isBool && !ok {
		return fmt.Errorf("%w: a StatusNotifierWatcher runs but no tray host registered with it", ErrNoHost)
	}
	return nil
}

// sni is the StatusNotifierItem surface, through fyne.io/systray.
type sni struct {
	clicks chan Item

	mu      sync.Mutex
	ready   bool
	pending *View
	shown   View
	open    *systray.MenuItem
	pause   *systray.MenuItem
	last    *systray.MenuItem
	quit    *systray.MenuItem
}

var startOnce sync.Once

// Start puts the status icon on the session bus and keeps it current from
// opts.Source until stop is called. It registers with the tray host now, or
// later when one starts. fyne.io/systray keeps package state, so Start works
// once per process; it fails when no session bus can be reached.
func Start(ctx context.Context, opts Options) (t *Tray, stop func(), err error) {
	if err := sessionbus.Reachable(); err != nil {
		return nil, nil, fmt.Errorf("show the status icon: %w", err)
	}
	// fyne.io/systray connects through godbus' shared session connection;
	// see that it can before handing over, since it only logs failures.
	probe, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, nil, fmt.Errorf("show the status icon: connect to the D-Bus session bus: %w", err)
	}
	probe.Close()
	started := false
	startOnce.Do(func() { started = true })
	if !started {
		return nil, nil, errors.New("show the status icon: it is already shown by this process")
	}
	s := &sni{clicks: make(chan Item, 8)}
	t = newTray(opts, s)
	first := Render(State{}, t.opts.Now())
	systray.SetTitle(first.Title)
	systray.SetTooltip(first.Tooltip)
	systray.SetIcon(Icon(Idle))
	systray.SetOnTapped(func() { s.click(ItemOpen) })
	begin, end := systray.RunWithExternalLoop(s.build, nil)
	begin()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.run(rctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			defer func() { recover() }() // fyne.io/systray closes a connection it may not have made
			end()
		})
	}
	return t, stop, nil
}

// build makes the menu; fyne.io/systray calls it once the item is set up.
func (s *sni) build() {
	open := systray.AddMenuItem(LabelOpen, "Show the Atelier window")
	systray.AddSeparator()
	pause := systray.AddMenuItem(LabelPause, "Pause or resume uploads and downloads")
	last := systray.AddMenuItem("Not synced yet", "")
	last.Disable()
	systray.AddSeparator()
	quit := systray.AddMenuItem(LabelQuit, "Finish the work under way and quit")
	s.mu.Lock()
	s.open, s.pause, s.last, s.quit = open, pause, last, quit
	s.ready = true
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if pending != nil {
		s.Show(*pending)
	}
	// fyne.io/systray drops a click when nobody waits on the item's channel:
	// one loop waits on all of them and hands clicks on without blocking.
	go func() {
		for {
			select {
			case _, ok := <-open.ClickedCh:
				if !ok {
					return
				}
				s.click(ItemOpen)
			case _, ok := <-pause.ClickedCh:
				if !ok {
					return
				}
				s.click(ItemPause)
			case _, ok := <-quit.ClickedCh:
				if !ok {
					return
				}
				s.click(ItemQuit)
			}
		}
	}()
}

func (s *sni) click(it Item) {
	select {
	case s.clicks <- it:
	default: // a burst of clicks: the ones queued are enough
	}
}

func (s *sni) Clicks() <-chan Item { return s.clicks }

// Show updates what changed since the last View.
func (s *sni) Show(v View) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		s.pending = &v
		return
	}
	old := s.shown
	s.shown = v
	if v.Status != old.Status || old.Title == "" {
		systray.SetIcon(Icon(v.Status))
	}
	if v.Tooltip != old.Tooltip {
		systray.SetTooltip(v.Tooltip)
	}
	if v.PauseLabel != old.PauseLabel || old.Title == "" {
		s.pause.SetTitle(v.PauseLabel)
	}
	if v.CanPause != old.CanPause || old.Title == "" {
		if v.CanPause {
			s.pause.Enable()
		} else {
			s.pause.Disable()
		}
	}
	if v.LastSync != old.LastSync {
		s.last.SetTitle(v.LastSync)
	}
}
