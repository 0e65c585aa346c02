package desktop

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Window is what the lifecycle needs of the desktop window (the Wails
// runtime in main.go, a fake in tests).
type Window interface {
	Show()
	Hide()
	// Quit ends the window's loop; the window asks BeforeClose first.
	Quit()
}

// Lifecycle decides what closing, opening and quitting do. Closing the
// window hides it while a tray host shows Atelier's icon, so the engine goes
// on; where no tray host runs, Atelier says so once and closing quits.
// Quitting is explicit (the tray's Quit, Ctrl+Q) and lets the engine finish
// or checkpoint the work under way, with a notice naming it.
type Lifecycle struct {
	Win Window
	// Host answers nil while a tray host runs (tray.HostPresent).
	Host func(ctx context.Context) error
	// Busy names the work a quit would interrupt, "" when none (Busy).
	Busy func(ctx context.Context) string
	// Notice tells the creator something: the window's status line and a
	// desktop notification.
	Notice func(title, body string)
	// Quitting is told when the app starts to quit (the tray shows it).
	Quitting func()
	// Hidden and Shown are told when the window hides and shows (the
	// engine's background work yields while the window is hidden).
	Hidden, Shown func()
	// FirstTime, when set, says whether a notice is new to this data dir
	// (FirstTime below): the no-tray notice is then given once, not at
	// every launch.
	FirstTime func(key string) bool
	// HiddenExitAfter is how long a hidden window stays resident before
	// Retire is asked (0: it stays): a hidden window keeps GTK and WebKit
	// (hundreds of MB), where the engine alone is a fraction of that.
	HiddenExitAfter time.Duration
	// Retire hands the work over so that the window process can exit (its
	// engine to a tray daemon; nothing when attached to one) and answers
	// true when it may; false keeps the window hidden and resident.
	Retire func(ctx context.Context) bool
	Log    *slog.Logger

	quitting atomic.Bool
	retired  atomic.Bool
	noTray   sync.Once
	hidden   atomic.Bool
	spell    atomic.Int64 // counts hides and opens: a retire timer acts only in its own spell
}

func (l *Lifecycle) log() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// BeforeClose is the window's close button (and the last step of Quit): it
// answers true to keep the app running with the window hidden, false to
// let it quit.
func (l *Lifecycle) BeforeClose(ctx context.Context) (prevent bool) {
	if l.retired.Load() {
		return false // the work was handed over (Retire): nothing to finish here
	}
	if !l.quitting.Load() {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := l.Host(hctx)
		cancel()
		if err == nil {
			l.log().Info("window closed: hidden; Atelier keeps working (quit from the tray or with Ctrl+Q)")
			l.hide()
			return true
		}
		l.sayNoTray(err)
		l.quitting.Store(true)
	}
	l.finishing(ctx)
	return false
}

// Quit quits explicitly: the tray's Quit, Ctrl+Q.
func (l *Lifecycle) Quit() {
	l.quitting.Store(true)
	l.Win.Quit()
}

// IsQuitting says whether a quit has begun.
func (l *Lifecycle) IsQuitting() bool { return l.quitting.Load() }

// Open shows the window: the tray's Open, a second launch of the app.
func (l *Lifecycle) Open() {
	l.spell.Add(1)
	l.Win.Show()
	if l.hidden.Swap(false) && l.Shown != nil {
		l.Shown()
	}
}

// IsHidden says whether the window is hidden (closed into the tray, or
// started hidden at login).
func (l *Lifecycle) IsHidden() bool { return l.hidden.Load() }

func (l *Lifecycle) hide() {
	l.Win.Hide()
	if !l.hidden.Swap(true) && l.Hidden != nil {
		l.Hidden()
	}
	l.retireLater()
}

// retireLater asks Retire once the window has stayed hidden for
// HiddenExitAfter (an Open in between starts a new spell), and quits the
// window process when Retire says it may.
func (l *Lifecycle) retireLater() {
	if l.HiddenExitAfter <= 0 || l.Retire == nil {
		return
	}
	spell := l.spell.Add(1)
	time.AfterFunc(l.HiddenExitAfter, func() {
		if l.spell.Load() != spell || !l.hidden.Load() || l.quitting.Load() {
			return
		}
		// A hand-over stops the engine as Quit does: while a history
		// version or a sync is under way, wait for another spell rather
		// than checkpoint it.
		if l.Busy != nil {
			bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			what := l.Busy(bctx)
			cancel()
			if what != "" {
				l.log().Info("the hand-over waits for the work under way", "work", what, "again in", l.HiddenExitAfter)
				l.retireLater()
				return
			}
		}
		l.log().Info("window hidden for a while: the window process hands over and exits", "after", l.HiddenExitAfter)
		if !l.Retire(context.Background()) {
			l.log().Info("the window stays hidden, with the work in this process")
			return
		}
		l.retired.Store(true)
		l.quitting.Store(true)
		l.Win.Quit()
	})
}

// IsRetired says whether the window process handed its work over and exits.
func (l *Lifecycle) IsRetired() bool { return l.retired.Load() }

// Started runs once the window's page has loaded. Without a tray host it
// says, once, that closing quits; an app started hidden (at login) waits up
// to wait for a tray host (panels start late) and shows its window when
// none comes, rather than run with no way to reach it.
func (l *Lifecycle) Started(ctx context.Context, hidden bool, wait time.Duration) {
	if hidden && !l.hidden.Swap(true) {
		if l.Hidden != nil {
			l.Hidden()
		}
		l.retireLater()
	}
	deadline := time.Now().Add(wait)
	for {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := l.Host(hctx)
		cancel()
		if err == nil {
			return
		}
		if !hidden || !time.Now().Before(deadline) {
			l.sayNoTray(err)
			if hidden {
				l.log().Info("started hidden, but no tray host came: showing the window", "waited", wait)
				l.Open()
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (l *Lifecycle) sayNoTray(err error) {
	l.noTray.Do(func() {
		l.log().Info("no tray host: closing the window quits Atelier", "why", err)
		if l.FirstTime != nil && !l.FirstTime("no-tray") {
			return
		}
		l.Notice("No system tray here", "Closing the window quits Atelier, and its background work stops until you open it again. "+
			"A tray (on GNOME, the AppIndicator extension) keeps Atelier working with the window closed; "+
			"`systemctl --user enable --now atelier` runs it without a window.")
	})
}

func (l *Lifecycle) finishing(ctx context.Context) {
	if l.Quitting != nil {
		l.Quitting()
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	what := l.Busy(bctx)
	cancel()
	if what != "" {
		l.log().Info("quitting once the work under way is safe", "work", what)
		l.Notice("Quitting after "+what, "Atelier finishes or checkpoints "+what+" before it quits; the rest continues next time.")
	}
}

// FirstTime says whether the notice key is new to the data dir, and marks
// it as given (a file DATA/desktop-said-KEY). Errors count as new: a notice
// given twice beats one never given.
func FirstTime(dataDir, key string) bool {
	f, err := os.OpenFile(filepath.Join(dataDir, "desktop-said-"+key), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false
	}
	if err == nil {
		f.Close()
	}
	return true
}

// HiddenExitAfterEnv overrides DefaultHiddenExitAfter (a Go duration, e.g.
// "2s" in tests; "0" keeps a hidden window resident).
const HiddenExitAfterEnv = "ATELIER_HIDDEN_EXIT_AFTER"

// DefaultHiddenExitAfter is how long a hidden window stays resident: a
// quick reopen within it is instant; after it, the window process exits and
// the engine goes on in the tray daemon.
const DefaultHiddenExitAfter = 2 * time.Minute

// HiddenExitAfter is DefaultHiddenExitAfter, or what HiddenExitAfterEnv
// says; a value that does not parse is logged and ignored.
func HiddenExitAfter(lg *slog.Logger) time.Duration {
	if lg == nil {
		lg = slog.Default()
	}
	v := os.Getenv(HiddenExitAfterEnv)
	if v == "" {
		return DefaultHiddenExitAfter
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		lg.Warn(HiddenExitAfterEnv+" is not a duration such as 2m or 30s: using the default", "value", v, "default", DefaultHiddenExitAfter)
		return DefaultHiddenExitAfter
	}
	return d
}
