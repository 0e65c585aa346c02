package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"atelier/app"
	"atelier/app/api"
	"atelier/internal/memlimit"
	"atelier/internal/pprofserve"
	"atelier/localdb"
)

// `atelier daemon`: the engine, headless, until interrupted.

type daemonOptions struct {
	uiAddr, uiDir, logLevel string
	tray                    bool // show the status icon (the desktop app's engine: daemon_tray.go)
}

func newDaemonCommand(gopts *globalOptions) *cobra.Command {
	var opts daemonOptions
	c := &cobra.Command{
		Use:   "daemon",
		Short: "Run the engine headless in the foreground until interrupted",
		Long: "Run the engine without a window: watch every project, render previews, sync.\n" +
			"The CLI talks to it over the local API socket. Stop it with Ctrl-C or SIGTERM.\n" +
			"--ui 127.0.0.1:PORT also serves the frontend in a browser (with --ui-dir, the built frontend).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemon(cmd.Context(), gopts, opts)
		},
	}
	c.Flags().StringVar(&opts.uiAddr, "ui", "", "also serve the browser UI on this loopback address (127.0.0.1:PORT)")
	c.Flags().StringVar(&opts.uiDir, "ui-dir", "", "the built frontend to serve with --ui")
	c.Flags().StringVar(&opts.logLevel, "log-level", "info", "debug, info, warn or error")
	c.Flags().BoolVar(&opts.tray, "tray", false, "show Atelier's status icon (the desktop app without a window: Open Atelier, Pause sync, Quit)")
	return c
}

// runDaemon opens the engine (serving the API socket and, with --ui, the
// browser UI) and runs it until ctx is cancelled by Ctrl-C or SIGTERM.
func runDaemon(ctx context.Context, gopts *globalOptions, opts daemonOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", opts.logLevel)
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(lg)
	d, err := dirs(gopts)
	if err != nil {
		return err
	}
	memlimit.Start(ctx, lg)
	pprofserve.FromEnv(lg, os.Getenv("ATELIER_PPROF"))
	// ATELIER_DB_CLOSE_AFTER (a duration) overrides how long the database
	// must go unused before it is closed (finding what wakes an idle engine:
	// each reopen is logged at debug level with the function that asked).
	if v := os.Getenv("ATELIER_DB_CLOSE_AFTER"); v != "" {
		dur, err := time.ParseDuration(v)
		if err != nil || dur <= 0 {
			return fmt.Errorf("ATELIER_DB_CLOSE_AFTER=%q: use a duration such as 30s or 2m", v)
		}
		localdb.CloseAfter = dur
	}
	e, err := daemonOpen(ctx, d, lg)
	if err != nil {
		return err
	}
	lg.Info("engine running", "version", app.Version, "data", d.Data, "socket", e.SocketPath())
	if opts.tray {
		var stopTray func()
		ctx, stopTray = startDaemonTray(ctx, gopts, e, lg)
		defer stopTray()
	}
	if opts.uiAddr != "" {
		if opts.uiDir == "" {
			e.Close()
			return fmt.Errorf("--ui needs --ui-dir: the built frontend (frontend/dist)")
		}
		url, err := e.ServeUI(opts.uiAddr, os.DirFS(opts.uiDir))
		if err != nil {
			e.Close()
			return err
		}
		fmt.Println("UI:", url)
	}
	<-ctx.Done()
	lg.Info("shutting down")
	if err := e.Close(); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	lg.Info("stopped cleanly")
	return nil
}

// daemonOpen opens the engine. A CLI command that opened the data dir for one
// call holds its lock for a moment: wait for it (up to lockWait) rather than
// fail, unless another engine answers on the socket.
func daemonOpen(ctx context.Context, d app.Dirs, lg *slog.Logger) (*app.Engine, error) {
	deadline := time.Now().Add(lockWait)
	for {
		e, err := app.Open(d, app.Options{Background: true, Serve: true, Logger: lg})
		if err == nil || !errors.Is(err, localdb.ErrLocked) || time.Now().After(deadline) {
			return e, err
		}
		if _, derr := api.Dial(app.SocketPath(d)); derr == nil {
			return nil, err // a running engine: not a passing CLI command
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
