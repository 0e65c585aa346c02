package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/spf13/cobra"

	"atelier/app"
	"atelier/app/api"
	"atelier/localdb"
)

// `atelier daemon`: the engine, headless, until interrupted.

type daemonOptions struct {
	uiAddr, uiDir, logLevel string
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
	setMemoryLimit(ctx, lg)
	e, err := daemonOpen(ctx, d, lg)
	if err != nil {
		return err
	}
	lg.Info("engine running", "version", app.Version, "data", d.Data, "socket", e.SocketPath())
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

// daemonMemoryLimit is the floor of the daemon's soft memory limit (Go's
// heap, stacks and runtime; not the binary's pages or Badger's mmaps): the
// collector runs sooner as the heap nears it and returns to the OS what an
// indexing peak left behind, so an idle daemon with 100,000 files stays near
// its live heap instead of twice it. The limit follows the live heap
// (limitHeadroom × live plus the runtime's own memory, never below the
// floor): a fixed 100 MiB made the collector run back to back while a long
// job held more than that live (the first local-history version of 100,000
// files: the Library's browser test took 192 s instead of 58), and so did
// 1.5 × live alone once the heap's fragmentation and the runtime's metadata
// (~35 MB after that version) left the heap no room above its live bytes
// (a collection every 20 ms, 58% of a core, idle). GOMEMLIMIT in the
// environment turns this off.
const (
	daemonMemoryLimit = 100 << 20
	limitHeadroom     = 1.5
)

// memoryLimitFor is the soft limit for live heap bytes and overhead, the
// Go memory that is neither heap objects nor free pages the scavenger can
// return (fragmentation, metadata, stacks).
func memoryLimitFor(live, overhead int64) int64 {
	return max(daemonMemoryLimit, overhead+int64(float64(live)*limitHeadroom))
}

// memorySamples are what setMemoryLimit reads after each collection.
var memorySamples = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
}

func setMemoryLimit(ctx context.Context, lg *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := make([]metrics.Sample, len(memorySamples))
	for i, n := range memorySamples {
		sample[i].Name = n
	}
	adjust := func() {
		metrics.Read(sample)
		var v [5]int64
		for i := range sample {
			if sample[i].Value.Kind() == metrics.KindUint64 {
				v[i] = int64(sample[i].Value.Uint64())
			}
		}
		live, total, released, free, objects := v[0], v[1], v[2], v[3], v[4]
		debug.SetMemoryLimit(memoryLimitFor(live, max(0, total-released-free-objects)))
	}
	adjust()
	lg.Debug("soft memory limit", "floor", daemonMemoryLimit)
	afterEachGC(ctx, adjust) // no timer: an idle daemon does not wake for it
}

// gcSentinel is garbage on purpose: its finalizer runs after a collection.
type gcSentinel struct{ _ [16]byte }

// afterEachGC runs fn after every garbage collection until ctx ends.
func afterEachGC(ctx context.Context, fn func()) {
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
			if ctx.Err() != nil {
				return
			}
			fn()
			arm()
		})
	}
	arm()
}
