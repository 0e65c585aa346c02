// Package traydaemon is `atelier daemon --tray`: the engine shows Atelier's
// status icon itself, so the app costs no more than its engine while no
// window is open (apart from app/desktop, which the small launcher links:
// this package links the engine).
package traydaemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/app/desktop"
	"atelier/app/tray"
)

// The tray daemon (`atelier daemon --tray`): the engine shows Atelier's
// status icon itself, so the app costs no more than its engine while no
// window is open. The window is only a view: the icon's Open Atelier runs
// the launcher (atelier-desktop), whose window attaches to this engine;
// a window hidden for HiddenExitAfter closes for good; Quit stops the
// engine once its work under way is safe, and every window attached to it.

// TrayOptions configure StartTray.
type TrayOptions struct {
	// Launcher is the command the icon's Open Atelier runs; nil means
	// the launcher beside this program, else on PATH (FindProgram), with
	// LauncherArgs.
	Launcher []string
	// LauncherArgs follow the launcher: the data dir the engine was
	// opened on (--data-dir DIR) when it was given.
	LauncherArgs []string
	// Stop ends the daemon: its engine closes once Stop returns.
	Stop func()
	Log  *slog.Logger
}

// trayShell is the engine's Shell in the tray daemon: events refresh the
// icon, notices go to the desktop's notifications, Window.Focus reaches
// the attached window, and QuitApp quits.
type trayShell struct {
	e    *app.Engine
	t    atomic.Pointer[tray.Tray]
	quit func()
}

func (s *trayShell) Emit(string, any) { s.t.Load().Poke() }

func (s *trayShell) PickFolder(string) (string, error) {
	return "", errors.New("no folder picker here: type the folder's path instead")
}

func (s *trayShell) Notify(title, body string) { desktop.Notify(title, body) }

// Show asks the window attached to this engine, if any, to show itself (a
// second launch of the desktop app calls Window.Focus).
func (s *trayShell) Show() { s.e.Emit(api.FocusEvent, nil) }

func (s *trayShell) QuitApp() { s.quit() }

var _ app.AppShell = (*trayShell)(nil)

// trayDaemonActions are the icon's menu in the tray daemon.
type trayDaemonActions struct {
	s      *trayShell
	caller api.Caller
	opts   TrayOptions
	lg     *slog.Logger
}

func (a trayDaemonActions) Open() {
	cmd := a.opts.Launcher
	if len(cmd) == 0 {
		cmd = append([]string{desktop.FindProgram(desktop.LauncherName)}, a.opts.LauncherArgs...)
	}
	c := exec.Command(cmd[0], cmd[1:]...)
	// The window lives on its own: a Ctrl-C in the daemon's terminal is
	// not the window's, and it quits when the app does (QuitEvent).
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Start(); err != nil {
		a.lg.Error("tray: open the Atelier window: cannot run the desktop launcher; is atelier-desktop installed beside atelier or on PATH?", "launcher", cmd[0], "err", err)
		desktop.Notify("Atelier cannot open its window", "Running "+cmd[0]+" failed: "+err.Error()+". Reinstall Atelier, or start atelier-desktop yourself.")
		return
	}
	a.lg.Info("tray: opening the window", "launcher", cmd[0], "pid", c.Process.Pid)
	go c.Wait()
}

func (a trayDaemonActions) SetSyncPaused(ctx context.Context, paused bool) error {
	m := "Sync.Resume"
	if paused {
		m = "Sync.Pause"
	}
	return a.caller.Call(ctx, m, nil)
}

func (a trayDaemonActions) Quit() { a.s.QuitApp() }

// StartTray makes the engine show Atelier's status icon, as `atelier daemon
// --tray` does. It fails when no session bus can be reached; stop takes the
// icon away (the daemon calls it before closing the engine).
func StartTray(ctx context.Context, e *app.Engine, opts TrayOptions) (stop func(), err error) {
	lg := opts.Log
	if lg == nil {
		lg = slog.Default()
	}
	caller := api.Local{Registry: api.NewRegistry(e.Services())}
	s := &trayShell{e: e}
	var quitOnce sync.Once
	s.quit = func() {
		quitOnce.Do(func() {
			s.t.Load().SetQuitting()
			// Attached windows close now; the engine finishes or
			// checkpoints its work as it closes.
			e.Emit(api.QuitEvent, nil)
			bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			what := desktop.Busy(bctx, caller)
			cancel()
			if what != "" {
				lg.Info("quitting once the work under way is safe", "work", what)
				e.Notify("Quitting after "+what, "Atelier finishes or checkpoints "+what+" before it quits; the rest continues next time.")
			}
			lg.Info("tray: quit")
			if opts.Stop != nil {
				opts.Stop()
			}
		})
	}
	t, stopTray, err := tray.Start(ctx, tray.Options{
		Source:  desktop.StatusSource{C: caller},
		Actions: trayDaemonActions{s: s, caller: caller, opts: opts, lg: lg},
		Logger:  lg,
	})
	if err != nil {
		return nil, err
	}
	s.t.Store(t)
	e.SetShell(s)
	return func() {
		e.SetShell(nil)
		stopTray()
	}, nil
}
