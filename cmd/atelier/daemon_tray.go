package main

import (
	"context"
	"log/slog"

	"atelier/app"
	"atelier/app/desktop/traydaemon"
)

// startDaemonTray shows Atelier's status icon for `atelier daemon --tray`
// (traydaemon.StartTray): the desktop app with no window. The icon's Quit
// cancels the returned context, which stops the daemon as Ctrl-C does.
// Without a session bus the daemon runs on without an icon, and says so.
func startDaemonTray(ctx context.Context, gopts *globalOptions, e *app.Engine, lg *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	var args []string
	if gopts.dataDir != "" {
		args = []string{"--data-dir", app.DataDirFlag(gopts.dataDir).Data}
	}
	stop, err := traydaemon.StartTray(ctx, e, traydaemon.TrayOptions{LauncherArgs: args, Stop: cancel, Log: lg})
	if err != nil {
		lg.Warn("no status icon: the engine runs on without one (stop it with Ctrl-C or SIGTERM)", "err", err)
		return ctx, cancel
	}
	lg.Info("status icon shown: Open Atelier, Pause sync and Quit are in its menu")
	return ctx, func() { stop(); cancel() }
}
