// Package app is the engine: it wires the database, watcher, index, previews,
// modules, privacy and sync into one running whole, and exposes one service per
// area to the desktop frontend (Wails bindings), the local API and the CLI.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"atelier/app/api"
	"atelier/app/apierr"
	"atelier/app/history"
	"atelier/app/host"
	"atelier/app/library"
	"atelier/app/modules"
	"atelier/app/privacy"
	"atelier/app/projects"
	syncsvc "atelier/app/sync"
	"atelier/localdb"
)

// Version is the app version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// Shell is what the desktop window offers the engine: events to the frontend
// and native dialogs. The Wails runtime calls log.Fatalf outside the Wails
// lifecycle, so the engine only knows this interface and main.go supplies the
// Wails one; tests and the daemon have none.
type Shell interface {
	Emit(event string, data any)
	PickFolder(title string) (string, error)
	Notify(title, body string)
	Show()
}

// Options tune Open.
type Options struct {
	// Background starts watchers, render workers, sync and GC. The CLI's
	// in-process engine runs without them, does its one job and closes.
	Background bool
	// Serve listens on the API socket so the CLI can reach this engine.
	Serve  bool
	Logger *slog.Logger
	// PreviewSettle is how long a file must stay unchanged (size and
	// modification time) before its preview renders, so a slow writer's
	// file renders once, when it is complete. 0 means one second.
	PreviewSettle time.Duration
	// HistorySettle is how long a file must stay unchanged before it
	// becomes a version in local history. 0 means three seconds.
	HistorySettle time.Duration
	// Context, when set, bounds the engine's life: the CLI's in-process
	// engine runs under the command's context, so Ctrl-C or SIGTERM cancels
	// whatever it is doing. Close is still needed.
	Context context.Context
	// PowerSupplyDir is where the power source is read when the creator
	// asked to pause heavy work on battery ("": $ATELIER_POWER_SUPPLY,
	// else /sys/class/power_supply); tests give a fake folder.
	PowerSupplyDir string
	// PowerPoll is how often the power source is read while that setting
	// is on (0: 30 seconds).
	PowerPoll time.Duration
}

// Engine is one running Atelier: it owns a data directory.
type Engine struct {
	DB   *localdb.DB
	Dirs Dirs
	Log  *slog.Logger

	// The bound services, one per feature (see wire.go).
	Projects *projects.Service
	Library  *library.Service
	Modules  *modules.Service
	Privacy  *privacy.Service
	Sync     *syncsvc.Service
	History  *history.Service
	Activity *ActivityService
	Settings *SettingsService

	power *powerPause // heavy work paused on battery (powerpause.go)

	// The engine's side of each feature: life cycle and change intake.
	projectsCtl *projects.Control
	libraryCtl  *library.Control
	modulesCtl  *modules.Control
	privacyCtl  *privacy.Control
	syncCtl     *syncsvc.Control
	historyCtl  *history.Control

	opts    Options
	hub     *api.Hub
	shellMu sync.RWMutex
	shell   Shell

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	goMu    sync.Mutex // guards closing against wg.Add during Close
	closing bool
	closers []func() error
}

// Open opens the engine on dirs. With opts.Background it starts watching every
// project and the background workers; Close stops them.
func Open(dirs Dirs, opts Options) (*Engine, error) {
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	for _, d := range []string{dirs.Data, dirs.Cache} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	db, err := localdb.Open(filepath.Join(dirs.Data, "db"), localdb.Options{Logger: lg})
	if errors.Is(err, localdb.ErrLocked) {
		err = apierr.Wrap(apierr.Locked, err)
	}
	if err != nil {
		return nil, err
	}
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	e := &Engine{DB: db, Dirs: dirs, Log: lg, opts: opts, hub: api.NewHub(), ctx: ctx, cancel: cancel}
	if err := e.openServices(); err != nil {
		e.Close()
		return nil, err
	}
	if opts.Serve {
		l, err := api.ListenSocket(e.SocketPath())
		if err != nil {
			e.Close()
			return nil, err
		}
		h := e.socketHandler(lg) // the API, and /files/ for an attached desktop app (attach.go)
		e.Go(func(ctx context.Context) {
			if err := api.Serve(ctx, l, h); err != nil {
				lg.Error("local API stopped", "err", err)
			}
		})
	}
	if opts.Background {
		e.Go(func(ctx context.Context) { db.RunGC(ctx, 10*time.Minute) })
		e.startServices()
	}
	return e, nil
}

// Bindings are what wails.Run's Bind option exposes to the desktop frontend:
// one Bridge that calls every service method through the same registry the
// local API serves. Wails v2 cannot bind methods that take a context.Context,
// and long-running methods take one, so the frontend calls
// window.go.api.Bridge.Call("Service.Method", args) instead of per-method bindings.
func (e *Engine) Bindings() []any {
	return []any{api.NewBridge(e.ctx, api.NewRegistry(e.Services()).Call)}
}

// SocketPath is where the local API listens.
func (e *Engine) SocketPath() string { return SocketPath(e.Dirs) }

// SocketPath is the API socket of the engine owning dirs.
func SocketPath(d Dirs) string { return filepath.Join(d.Data, api.SocketName) }

// Context is cancelled when the engine closes.
func (e *Engine) Context() context.Context { return e.ctx }

// callContext is the context of one service call: cancelled when the caller's
// ctx ends or when the engine closes (host.CallContext).
func (e *Engine) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return host.CallContext(e.ctx, ctx)
}

// Go runs fn in the background until the engine closes; Close waits for it.
// After Close has begun, fn is not started.
func (e *Engine) Go(fn func(ctx context.Context)) {
	e.goMu.Lock()
	defer e.goMu.Unlock()
	if e.closing {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn(e.ctx)
	}()
}

// SetShell connects the desktop window (nil disconnects it).
func (e *Engine) SetShell(sh Shell) {
	e.shellMu.Lock()
	e.shell = sh
	e.shellMu.Unlock()
}

func (e *Engine) desktop() Shell {
	e.shellMu.RLock()
	defer e.shellMu.RUnlock()
	return e.shell
}

// Notify shows a desktop notification for something that needs the creator,
// and sends it to the frontend and API subscribers as a "notice" event.
func (e *Engine) Notify(title, body string) {
	e.Emit("notice", map[string]string{"title": title, "body": body})
	if sh := e.desktop(); sh != nil {
		sh.Notify(title, body)
	}
}

// Emit sends an event to the desktop frontend and to API subscribers.
// Callers batch: high-rate sources go through the activity service.
func (e *Engine) Emit(name string, data any) {
	e.hub.Publish(api.Event{Name: name, Data: data})
	if sh := e.desktop(); sh != nil {
		sh.Emit(name, data)
	}
}

// PickFolder asks for a folder with the desktop's native dialog ("" when
// cancelled); where there is no window it says to type the path instead.
func (e *Engine) PickFolder(title string) (string, error) {
	sh := e.desktop()
	if sh == nil {
		return "", fmt.Errorf("no folder picker here: type the folder's path instead")
	}
	return sh.PickFolder(title)
}

// Hub is the event hub (the browser UI server streams from it).
func (e *Engine) Hub() *api.Hub { return e.hub }

// Close stops the background work, closes the services in reverse order of
// opening, then the database.
func (e *Engine) Close() error {
	e.goMu.Lock()
	e.closing = true
	e.goMu.Unlock()
	e.cancel()
	e.wg.Wait()
	var first error
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	if err := e.DB.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
