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
	"atelier/localdb"
)

func newDaemonCommand(gopts *globalOptions) *cobra.Command {
	var uiAddr, uiDir, logLevel string
	c := &cobra.Command{
		Use:   "daemon",
		Short: "Run the engine headless in the foreground until interrupted",
		Long: "Run the engine without a window: watch every project, render previews, sync.\n" +
			"The CLI talks to it over the local API socket. Stop it with Ctrl-C or SIGTERM.\n" +
			"--ui 127.0.0.1:PORT also serves the frontend in a browser (with --ui-dir, the built frontend).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: use debug, info, warn or error", logLevel)
			}
			lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			slog.SetDefault(lg)
			d, err := dirs(gopts)
			if err != nil {
				return err
			}
			e, err := daemonOpen(cmd.Context(), d, lg)
			if err != nil {
				return err
			}
			lg.Info("engine running", "version", app.Version, "data", d.Data, "socket", e.SocketPath())
			if uiAddr != "" {
				if uiDir == "" {
					e.Close()
					return fmt.Errorf("--ui needs --ui-dir: the built frontend (frontend/dist)")
				}
				url, err := e.ServeUI(uiAddr, os.DirFS(uiDir))
				if err != nil {
					e.Close()
					return err
				}
				fmt.Println("UI:", url)
			}
			<-cmd.Context().Done()
			lg.Info("shutting down")
			if err := e.Close(); err != nil {
				return fmt.Errorf("shut down: %w", err)
			}
			lg.Info("stopped cleanly")
			return nil
		},
	}
	c.Flags().StringVar(&uiAddr, "ui", "", "also serve the browser UI on this loopback address (127.0.0.1:PORT)")
	c.Flags().StringVar(&uiDir, "ui-dir", "", "the built frontend to serve with --ui")
	c.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return c
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
