// Command atelier-desktop starts Atelier's desktop window, or, when one
// already runs on the data dir (hidden in the tray after start at login, or
// closed into it), brings that window forward and leaves.
//
// It is a small program of its own so that the second case is quick: the
// window program (atelier-desktop-window, the Wails app in the repository's
// root package) links GTK and WebKit, and the dynamic loader alone spends
// about 0.3 s of CPU mapping and relocating them before its main runs
// (bench/tray.sh). This one links neither: it checks the data dir's desktop
// lock and either asks the running window to show itself over the engine's
// socket, or replaces itself (exec, same process) with the window program,
// which takes the lock and does the rest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"atelier/app/api"
	"atelier/app/desktop"
	"atelier/app/tray"
)

// hostWait is how long a start at login waits for a tray host (panels
// start late) before it leaves the decision to the window program, which
// shows its window when none comes.
const hostWait = 10 * time.Second

// libDir is where the Debian package installs the window program (a
// variable so a test does not depend on what this machine has installed).
var libDir = "/usr/lib/atelier"

func main() {
	started := time.Now()
	if t, err := desktop.ProcessStarted(); err == nil {
		started = t
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Arguments that do not parse go to the window program, which says so.
	l, ok := parseLaunch(os.Args[1:])
	if ok && forwarded(lg, l, started) {
		return
	}
	// Start at login: the engine with its status icon, no window at all.
	if ok {
		if argv := trayDaemonInstead(lg, l, tray.HostPresent, hostWait); argv != nil {
			if err := syscall.Exec(argv[0], argv, os.Environ()); err != nil {
				lg.Warn("start the tray daemon; starting the hidden window instead", "program", argv[0], "err", err)
			}
		}
	}
	win, err := windowProgram(desktop.WindowName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Atelier:", err)
		os.Exit(1)
	}
	// An engine already runs (`atelier daemon`, the tray daemon): the view
	// program, which only attaches and links no engine, is up sooner.
	if ok && engineAnswers(l) {
		if v, err := windowProgram(desktop.ViewName); err == nil {
			win = v
		}
	}
	// The window program logs its steps from this process's start: exec
	// keeps the process (and its start time).
	if err := syscall.Exec(win, append([]string{win}, os.Args[1:]...), os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "Atelier: start the window program %s: %v (reinstall Atelier)\n", win, err)
		os.Exit(1)
	}
}

// windowProgram finds the window or view program (desktop.WindowName,
// desktop.ViewName): beside this program, else in /usr/lib/atelier.
func windowProgram(windowName string) (string, error) {
	var tried []string
	if self, err := os.Executable(); err == nil {
		if s, err := filepath.EvalSymlinks(self); err == nil {
			self = s
		}
		p := filepath.Join(filepath.Dir(self), windowName)
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	p := filepath.Join(libDir, windowName)
	if isExecutable(p) {
		return p, nil
	}
	tried = append(tried, p)
	return "", fmt.Errorf("the window program %s is missing (looked at %v): reinstall Atelier, or build it with `make desktop`", windowName, tried)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// launch is what a launch's arguments say (the window program's flags;
// ok false when they do not parse: the window program reports it).
type launch struct {
	dataFlag, data string // --data-dir, and the data dir it names
	hidden, skip   bool   // --hidden, --skip-onboarding
}

func parseLaunch(args []string) (l launch, ok bool) {
	fs := flag.NewFlagSet("atelier-desktop", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&l.dataFlag, "data-dir", "", "")
	fs.BoolVar(&l.hidden, "hidden", false, "")
	fs.BoolVar(&l.skip, "skip-onboarding", false, "")
	if fs.Parse(args) != nil {
		return l, false
	}
	var err error
	l.data, err = desktop.DataDir(l.dataFlag)
	return l, err == nil
}

// engineAnswers reports whether an engine answers on the launch's data dir.
func engineAnswers(l launch) bool {
	_, err := api.Dial(filepath.Join(l.data, api.SocketName))
	return err == nil
}

// forwarded reports whether a window already runs on the launch's data
// dir; then it has asked that window to show itself (unless --hidden: a
// start at login with the app already running does nothing). Anything it
// cannot tell (no lock file yet) it leaves to the window program.
func forwarded(lg *slog.Logger, l launch, started time.Time) bool {
	if !desktop.Held(l.data) {
		return false
	}
	data := l.data
	if l.hidden {
		lg.Info("Atelier is already open on this data directory", "data", data)
		return true
	}
	c, err := api.Dial(filepath.Join(data, api.SocketName))
	if err != nil {
		// Its engine is still starting, or it is going away: the window
		// program decides (it shows the window once it has the lock).
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// An attached window hears of it through its engine's events, so an
	// error from a windowless engine (`atelier daemon`) is fine here.
	c.Call(ctx, "Window.Focus", nil)
	lg.Info("window: brought forward", "data", data, "sinceLaunch", time.Since(started).Round(time.Millisecond))
	return true
}

// trayDaemonInstead is the command a start at login (--hidden) runs instead
// of a hidden window: `atelier [--data-dir DIR] daemon --tray`, the engine
// showing the status icon itself, which costs a fraction of a window kept
// hidden (bench/tray.sh); the icon's Open Atelier starts the window. It
// answers nil (start the window program, as before) for a launch that is
// not hidden, when an engine already runs on the data dir (the window
// attaches to a daemon the creator runs; a tray daemon needs nothing),
// when no tray host comes within wait, or when there is no atelier
// program.
func trayDaemonInstead(lg *slog.Logger, l launch, host func(context.Context) error, wait time.Duration) []string {
	if !l.hidden || l.skip {
		return nil
	}
	data := l.data
	if _, err := api.Dial(filepath.Join(data, api.SocketName)); err == nil {
		return nil
	}
	for deadline := time.Now().Add(wait); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := host(ctx)
		cancel()
		if err == nil {
			break
		}
		if !time.Now().Before(deadline) {
			lg.Info("no tray host: starting the window hidden instead of the tray daemon", "why", err)
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	prog, err := desktop.DaemonProgram()
	if err != nil {
		lg.Warn("starting the window hidden instead of the tray daemon", "err", err)
		return nil
	}
	argv := []string{prog}
	if l.dataFlag != "" {
		argv = append(argv, "--data-dir", data)
	}
	lg.Info("start at login: the engine with its status icon (atelier daemon --tray)", "program", prog, "data", data)
	return append(argv, "daemon", "--tray")
}
