// Command atelier is Atelier's command line: every feature, scriptable. It
// talks to a running engine (the desktop app or `atelier daemon`) over the local
// API socket, and opens the data directory itself only when none runs.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"atelier/app"
)

// globalOptions are the persistent flags every command shares. main makes
// one and hands it to every command's constructor; the flags fill it in
// before any command runs.
type globalOptions struct {
	dataDir string
	json    bool
	verbose bool
}

func main() { runMain() }

// runMain runs the command line: the root and its command groups, plus extra
// commands (a test's own; none in the real binary).
func runMain(extra ...*cobra.Command) {
	ctx, interrupted := interruptContext()
	var gopts globalOptions
	root := newRootCommand(&gopts, extra...)
	// ATELIER_CPUPROFILE=FILE writes a CPU profile of the whole command (for
	// the benchmarks: `go tool pprof FILE`).
	if p := os.Getenv("ATELIER_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	ran, err := root.ExecuteContextC(ctx)
	pprof.StopCPUProfile()
	// ATELIER_MEMPROFILE=FILE writes a heap profile when the command ends
	// (for a daemon: on Ctrl-C or SIGTERM).
	if p := os.Getenv("ATELIER_MEMPROFILE"); p != "" {
		if f, ferr := os.Create(p); ferr == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	if sig := interrupted(); sig != nil && (err != nil || ran == nil || ran.Name() != "daemon") {
		// `atelier daemon` runs until interrupted: that is its normal end.
		// Cancelled by Ctrl-C or SIGTERM: the shell convention is 128+signal.
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "atelier:", err)
		} else {
			fmt.Fprintf(os.Stderr, "atelier: interrupted (%s): stopped before finishing\n", sig)
		}
		os.Exit(128 + int(sig.(syscall.Signal)))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "atelier:", err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// interruptContext returns a context cancelled by the first SIGINT or
// SIGTERM, and a func reporting which signal (nil: none). A second signal
// exits at once with 128+signal, for work that does not stop quickly enough.
func interruptContext() (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	var got os.Signal
	go func() {
		sig := <-ch
		mu.Lock()
		got = sig
		mu.Unlock()
		cancel()
		sig = <-ch
		fmt.Fprintf(os.Stderr, "atelier: %s again: exiting now\n", sig)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	return ctx, func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// newRootCommand builds the command line: the persistent flags bound to
// gopts and every command group, in order, then extra commands (tests add a
// hidden one).
func newRootCommand(gopts *globalOptions, extra ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:           "atelier",
		Short:         "Atelier: a local-first companion for solo creators",
		Long:          "Atelier watches your project folders, renders previews, signs modules, keeps analytics private and syncs what you choose.\nIt talks to the running desktop app or daemon when there is one.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			level := slog.LevelWarn
			if gopts.verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().StringVar(&gopts.dataDir, "data-dir", "", "data directory (default: $ATELIER_HOME or the user config dir)")
	root.PersistentFlags().BoolVar(&gopts.json, "json", false, "print machine-readable JSON")
	root.PersistentFlags().BoolVarP(&gopts.verbose, "verbose", "v", false, "log more")
	root.Version = app.Version
	root.AddCommand(
		// projects and their files
		newProjectCommand(gopts),
		newFilesCommand(gopts),
		newStatusCommand(gopts),
		newPreviewCommand(gopts),
		newFindCommand(gopts),
		newTagCommand(gopts),
		newRateCommand(gopts),
		newCollectionCommand(gopts),
		newSidecarsCommand(gopts),
		// sync
		newSyncCommand(gopts),
		newRemoteCommand(gopts),
		// local history
		newHistoryCommand(gopts),
		newRestoreCommand(gopts),
		newMilestoneCommand(gopts),
		newDiffCommand(gopts),
		// privacy
		newConsentCommand(gopts),
		newAnalyticsCommand(gopts),
		newExperimentCommand(gopts),
		// modules
		newKeysCommand(gopts),
		newModuleCommand(gopts),
		newTrustCommand(gopts),
		newRegistryCommand(gopts),
		newAuditCommand(gopts),
		// the engine and its data
		newDaemonCommand(gopts),
		newSettingsCommand(gopts),
		newDBCommand(gopts),
		newDemoCommand(gopts),
	)
	root.AddCommand(extra...)
	return root
}

// dirs resolves the data and cache directories from --data-dir or the defaults.
func dirs(gopts *globalOptions) (app.Dirs, error) {
	if gopts.dataDir != "" {
		return app.DataDirFlag(gopts.dataDir), nil
	}
	return app.DefaultDirs()
}
