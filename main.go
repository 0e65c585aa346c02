// Atelier's desktop app: the engine's services bound to a Wails window, with
// a status icon in the tray. Closing the window hides it while a tray host
// shows the icon, so the engine goes on; quitting is explicit. When an engine
// already owns the data dir (`atelier daemon`), the window attaches to it
// over the local API instead of opening its own.
//
// It is built twice. atelier-desktop-window opens its own engine when none
// runs (engine_own.go). atelier-desktop-view (the viewonly build tag) only
// attaches and links no engine, so it starts quicker: the launcher starts it
// when an engine already answers on the data dir, and it hands over to
// atelier-desktop-window should that engine be gone by then. Both are started
// by atelier-desktop (cmd/atelier-desktop), a launcher without GTK and WebKit
// that brings an already running window forward instead; started directly,
// a window program does that itself too (desktop.Claim).
package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"atelier/app/api"
	"atelier/app/desktop"
	"atelier/app/tray"
	"atelier/internal/memlimit"
	"atelier/internal/pprofserve"
)

//go:embed all:frontend/dist
var assets embed.FS

// desktopApp is one window on one data dir: over its own engine (eng), or
// attached to a running one (client).
type desktopApp struct {
	lg      *slog.Logger
	data    string // the data dir
	socket  string // its engine's API socket
	dataDir string // the --data-dir flag, "" when not given (the hand-over passes it on)
	hidden  bool
	client  *api.Client // nil when the app owns the engine
	// daemonTray: attached to `atelier daemon --tray`, the app's own
	// engine, which shows the status icon and quits with the app.
	daemonTray bool
	caller     api.Caller
	life       *desktop.Lifecycle
	stopCtx    context.Context // ends when the window's app shuts down
	stop       context.CancelFunc

	// handing is held during a hand-over: a quit meanwhile waits for it
	// (and then quits the daemon too).
	handing sync.Mutex

	mu       sync.Mutex
	eng      ownEngine       // nil when attached, and after a hand-over (engine)
	reg      *api.Registry   // eng's services
	files    http.Handler    // eng's files
	ctx      context.Context // the Wails context: between OnStartup and OnShutdown
	tray     *tray.Tray
	stopTray func()
}

// ownEngine is an engine the window program opened itself, when none ran
// on the data dir (engine_own.go). The view program never has one.
type ownEngine interface {
	Registry() *api.Registry
	Files() http.Handler
	// SetWindow makes a the engine's window (its events, folder dialogs,
	// notices); nil: none.
	SetWindow(a *desktopApp)
	Notify(title, body string)
	Close() error
}

// openEngine opens an engine on the window's data dir; locked says another
// process holds the data dir. It is nil in the view program (viewonly),
// which links no engine.
var openEngine func(a *desktopApp) (eng ownEngine, locked bool, err error)

// engine is the window's own engine, nil when attached or handed over.
func (a *desktopApp) engine() ownEngine {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.eng
}

// setEngine makes eng the window's own engine (nil: none, during a
// hand-over).
func (a *desktopApp) setEngine(eng ownEngine) {
	var reg *api.Registry
	var files http.Handler
	if eng != nil {
		reg, files = eng.Registry(), eng.Files()
	}
	a.mu.Lock()
	a.eng, a.reg, a.files = eng, reg, files
	a.mu.Unlock()
}

// errHandingOver answers the window's calls while its engine moves to the
// tray daemon (a moment; the window is hidden then).
var errHandingOver = errors.New("the Atelier engine is moving to the background (tray) process: try again in a moment")

// ownCall calls the window's own engine, whichever it is now.
func (a *desktopApp) ownCall(ctx context.Context, method string, args []json.RawMessage) (any, error) {
	a.mu.Lock()
	reg := a.reg
	a.mu.Unlock()
	if reg == nil {
		return nil, errHandingOver
	}
	return reg.Call(ctx, method, args)
}

// ownCaller is api.Local over the window's own engine, whichever it is now.
type ownCaller struct{ a *desktopApp }

func (o ownCaller) Call(ctx context.Context, method string, out any, args ...any) error {
	o.a.mu.Lock()
	reg := o.a.reg
	o.a.mu.Unlock()
	if reg == nil {
		return errHandingOver
	}
	return api.Local{Registry: reg}.Call(ctx, method, out, args...)
}

func (a *desktopApp) serveFiles(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	files := a.files
	a.mu.Unlock()
	if files == nil {
		http.Error(w, errHandingOver.Error(), http.StatusServiceUnavailable)
		return
	}
	files.ServeHTTP(w, r)
}

// wailsCtx is the Wails runtime's context, nil outside its lifecycle (the
// runtime calls log.Fatalf when used without one).
func (a *desktopApp) wailsCtx() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}

// The Window the lifecycle drives: the Wails runtime.
type wailsWindow struct{ a *desktopApp }

func (w wailsWindow) Show() {
	if ctx := w.a.wailsCtx(); ctx != nil {
		runtime.WindowShow(ctx)
		runtime.WindowUnminimise(ctx)
	}
}

func (w wailsWindow) Hide() {
	if ctx := w.a.wailsCtx(); ctx != nil {
		runtime.WindowHide(ctx)
	}
}

func (w wailsWindow) Quit() {
	if ctx := w.a.wailsCtx(); ctx != nil {
		runtime.Quit(ctx)
	}
}

// wailsShell is the engine's view of the window (app.Shell, engine_own.go).
type wailsShell struct{ a *desktopApp }

func (w wailsShell) Emit(event string, data any) { w.a.emit(event, data) }

func (w wailsShell) PickFolder(title string) (string, error) { return w.a.pickFolder(title) }

func (w wailsShell) Show() { w.a.life.Open() }

func (w wailsShell) Notify(title, body string) { desktop.Notify(title, body) }

func (a *desktopApp) emit(event string, data any) {
	if ctx := a.wailsCtx(); ctx != nil {
		runtime.EventsEmit(ctx, event, data)
	}
	a.mu.Lock()
	t := a.tray
	a.mu.Unlock()
	t.Poke()
}

func (a *desktopApp) pickFolder(title string) (string, error) {
	ctx := a.wailsCtx()
	if ctx == nil {
		return "", errors.New("the window is not open")
	}
	return runtime.OpenDirectoryDialog(ctx, runtime.OpenDialogOptions{Title: title, CanCreateDirectories: true})
}

// notice reaches the creator: the window's status line and a desktop
// notification (the window may be hidden).
func (a *desktopApp) notice(title, body string) {
	if eng := a.engine(); eng != nil {
		eng.Notify(title, body)
		return
	}
	a.emit("notice", map[string]string{"title": title, "body": body})
	desktop.Notify(title, body)
}

// The tray's menu actions.
type trayActions struct{ a *desktopApp }

func (t trayActions) Open() { t.a.life.Open() }
func (t trayActions) Quit() { t.a.life.Quit() }
func (t trayActions) SetSyncPaused(ctx context.Context, paused bool) error {
	m := "Sync.Resume"
	if paused {
		m = "Sync.Pause"
	}
	return t.a.caller.Call(ctx, m, nil)
}

// localMethods are answered by the window itself rather than the engine:
// the folder dialog opens where the window is, and quitting is the window's.
func (a *desktopApp) localMethods() map[string]desktop.LocalMethod {
	return map[string]desktop.LocalMethod{
		"Projects.PickFolder": func(context.Context, []json.RawMessage) (any, error) {
			return a.pickFolder("Choose a project folder")
		},
		"Window.Quit": func(ctx context.Context, _ []json.RawMessage) (any, error) {
			// Attached to the app's own tray daemon, quitting quits it too
			// (it finishes or checkpoints its work); a daemon the creator
			// started goes on.
			if a.daemonTray {
				if err := a.client.Call(ctx, "Window.QuitApp", nil); err != nil {
					a.lg.Warn("quit the tray daemon", "err", err)
				}
			}
			go a.life.Quit()
			return nil, nil
		},
	}
}

// launched is when the process started (its exec, where /proc says; else
// Go's start): the launch's steps are logged with the time since (the time
// to a usable window is a benchmark, bench/tray.sh).
var launched = func() time.Time {
	if t, err := desktop.ProcessStarted(); err == nil {
		return t
	}
	return time.Now()
}()

func sinceLaunch() time.Duration { return time.Since(launched).Round(time.Millisecond) }

func main() {
	dataDir := flag.String("data-dir", "", "data directory (default: $ATELIER_HOME or the user config dir)")
	skipOnboarding := flag.Bool("skip-onboarding", false, "do not show the first-run introduction (scripted installs)")
	hidden := flag.Bool("hidden", false, "start with the window hidden, in the tray (start at login)")
	flag.Parse()
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(lg)
	// The time to here is the dynamic loader mapping GTK and WebKit and Go's
	// start-up: a second launch, which only brings a window forward, pays it too.
	lg.Info("window: main", "sinceLaunch", sinceLaunch())
	pprofserve.FromEnv(lg, os.Getenv("ATELIER_PPROF"))
	// The engine's Go memory follows its live heap, as the daemon's does
	// (an indexing peak is returned to the system while hidden in the tray).
	// The view program has no engine.
	if openEngine != nil {
		memlimit.Start(context.Background(), lg)
	}

	data, err := desktop.DataDir(*dataDir)
	if err != nil {
		fail(err)
	}
	socket := filepath.Join(data, api.SocketName)
	// One window per data dir: a second launch shows the first one's window.
	release, err := desktop.Claim(data)
	if errors.Is(err, desktop.ErrOtherWindow) {
		if *hidden {
			lg.Info("Atelier is already open on this data directory", "data", data)
			return
		}
		c, derr := api.Dial(socket)
		if derr != nil {
			// Its engine is still starting, or it is going away: a window
			// that was not started hidden shows itself once it is up.
			lg.Warn("Atelier is already open on this data directory, but its engine does not answer yet; try again in a moment", "data", data, "err", derr)
			return
		}
		// An attached window hears of it through its engine's events, so
		// an error from a windowless engine is fine here.
		c.Call(context.Background(), "Window.Focus", nil)
		lg.Info("window: brought forward", "data", data, "sinceLaunch", sinceLaunch())
		return
	}
	if err != nil {
		fail(err)
	}
	defer release()

	a := &desktopApp{lg: lg, data: data, socket: socket, dataDir: *dataDir, hidden: *hidden}
	a.stopCtx, a.stop = context.WithCancel(context.Background())
	if err := a.open(); errors.Is(err, errNoEngine) {
		// The view program, and the engine it was started for is gone:
		// the full window program opens one (the lock goes with exec).
		release()
		win := desktop.FindProgram(desktop.WindowName)
		lg.Info("no engine answers: starting the window program that runs its own", "program", win)
		if err := syscall.Exec(win, append([]string{win}, os.Args[1:]...), os.Environ()); err != nil {
			fail(fmt.Errorf("start the window program %s: %w (reinstall Atelier)", win, err))
		}
	} else if err != nil {
		fail(err)
	}
	a.life = &desktop.Lifecycle{
		Win:    wailsWindow{a},
		Host:   tray.HostPresent,
		Busy:   func(ctx context.Context) string { return a.busy(ctx) },
		Notice: a.notice,
		Quitting: func() {
			a.mu.Lock()
			t := a.tray
			a.mu.Unlock()
			t.SetQuitting()
		},
		// Hidden, the app is a background companion: its work yields to
		// the creator's foreground apps (CPU policy and I/O priority).
		FirstTime: func(key string) bool { return desktop.FirstTime(data, key) },
		Hidden:    func() { yield(lg, true) },
		Shown:     func() { yield(lg, false) },
		// Hidden for a while, the window process goes: GTK and WebKit
		// cost far more than the engine (issue 16).
		HiddenExitAfter: desktop.HiddenExitAfter(lg),
		Retire:          a.retire,
		Log:             lg,
	}
	if *skipOnboarding {
		if err := a.caller.Call(context.Background(), "Settings.CompleteOnboarding", nil); err != nil {
			lg.Warn("skip onboarding", "err", err)
		}
	}
	// SIGINT and SIGTERM quit (a logout, systemd, Ctrl-C in a terminal).
	// Wails hears them too and asks to close, which alone would only hide
	// the window into the tray.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		lg.Info("signal: quitting")
		a.life.Quit()
	}()
	if err := a.run(); err != nil {
		fail(err)
	}
}

// errNoEngine: no engine answers, and this program (the view) cannot open
// one.
var errNoEngine = errors.New("no engine answers on the data dir")

// open opens the engine on the data dir, or attaches to the engine that
// owns it. A CLI command holds the lock for a moment: wait for it.
func (a *desktopApp) open() error {
	// An engine that answers on the socket owns the data dir: attach
	// straight away, without touching the database.
	if c, err := api.Dial(a.socket); err == nil {
		a.attach(c)
		return nil
	}
	if openEngine == nil {
		return errNoEngine
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		eng, locked, err := openEngine(a)
		if err == nil {
			a.setEngine(eng)
			a.caller = ownCaller{a}
			return nil
		}
		if !locked {
			return err
		}
		if c, derr := api.Dial(a.socket); derr == nil {
			a.attach(c)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (no engine answers on %s: if no Atelier runs, a crashed one may have left the lock; try again in a moment)", err, a.socket)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (a *desktopApp) attach(c *api.Client) {
	a.client, a.caller = c, c
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	var info api.WindowInfo
	err := c.Call(ctx, "Window.Info", &info)
	cancel()
	a.daemonTray = err == nil && info.Tray
	a.lg.Info("an engine already runs on this data directory (atelier daemon): the window attaches to it", "socket", a.socket, "trayDaemon", a.daemonTray, "sinceLaunch", sinceLaunch())
}

// busy names the work a quit would cut short; an attached window's quit
// cuts nothing (its engine goes on).
func (a *desktopApp) busy(ctx context.Context) string {
	if a.engine() == nil {
		return ""
	}
	return desktop.Busy(ctx, a.caller)
}

func (a *desktopApp) run() error {
	var call desktop.CallFunc
	var files http.Handler
	if a.client == nil {
		call = withLocal(a.ownCall, a.localMethods())
		files = http.HandlerFunc(a.serveFiles)
	} else {
		call = desktop.Remote(a.client, a.localMethods())
		files = desktop.FilesProxy(a.socket)
	}
	call = a.firstCall(call)
	// A call ends when the app quits (shutdown cancels it before the
	// engine closes). Not the engine's context: the window outlives an
	// engine that a failed hand-over opens again.
	bridgeCtx := a.stopCtx
	// GTK and WebKit start without GL (desktop.QuickStart); the variables go
	// once the page has loaded.
	quickStarted := desktop.QuickStart()
	var iconOnce sync.Once
	return wails.Run(&options.App{
		Title:       "Atelier",
		Width:       1200,
		Height:      800,
		MinWidth:    900,
		MinHeight:   600,
		StartHidden: a.hidden,
		AssetServer: &assetserver.Options{
			Assets: assets,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/files/") {
					files.ServeHTTP(w, r)
					return
				}
				http.NotFound(w, r)
			}),
		},
		BackgroundColour: &options.RGBA{R: 246, G: 245, B: 242, A: 255},
		OnStartup:        a.startup,
		OnDomReady: func(ctx context.Context) {
			a.lg.Info("window: page loaded", "sinceLaunch", sinceLaunch())
			quickStarted()
			iconOnce.Do(func() { go a.showIcon() }) // a reload (Ctrl+R) loads the page again
			go a.life.Started(a.stopCtx, a.hidden, 10*time.Second)
		},
		OnBeforeClose: a.life.BeforeClose,
		OnShutdown:    a.shutdown,
		Bind:          []any{api.NewBridge(bridgeCtx, call)},
		Linux:         &linux.Options{ProgramName: "atelier", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
	})
}

// firstCall logs when the page's script first calls the engine and when
// that first answer is back: two of a launch's steps.
func (a *desktopApp) firstCall(call desktop.CallFunc) desktop.CallFunc {
	var once sync.Once
	return func(ctx context.Context, method string, args []json.RawMessage) (any, error) {
		first := false
		once.Do(func() {
			first = true
			a.lg.Info("window: first call", "method", method, "sinceLaunch", sinceLaunch())
		})
		res, err := call(ctx, method, args)
		if first {
			a.lg.Info("window: first answer", "method", method, "sinceLaunch", sinceLaunch())
		}
		return res, err
	}
}

func (a *desktopApp) startup(ctx context.Context) {
	a.lg.Info("window: starting", "sinceLaunch", sinceLaunch())
	a.mu.Lock()
	a.ctx = ctx
	a.mu.Unlock()
	if eng := a.engine(); eng != nil {
		eng.SetWindow(a)
	} else {
		go desktop.Follow(a.stopCtx, a.socket, a.fromEngine, a.engineConnected, a.lg)
	}
}

// showIcon shows the window's status icon, once the page has loaded: its
// D-Bus set-up and first status poll would otherwise compete with WebKit's
// start for the CPU (the time to a usable window, bench/tray.sh). An
// attached tray daemon (atelier daemon --tray) shows its own.
func (a *desktopApp) showIcon() {
	if a.daemonTray {
		return
	}
	t, stop, err := tray.Start(a.stopCtx, tray.Options{Source: desktop.StatusSource{C: a.caller}, Actions: trayActions{a}, Logger: a.lg})
	if err != nil {
		a.lg.Info("no status icon", "err", err)
		return
	}
	a.mu.Lock()
	gone := a.ctx == nil // shut down before the icon came (shutdown clears it first)
	if !gone {
		a.tray, a.stopTray = t, stop
	}
	a.mu.Unlock()
	if gone {
		stop()
	}
}

// fromEngine is an event of the engine an attached window follows.
func (a *desktopApp) fromEngine(name string, data any) {
	switch name {
	case api.FocusEvent:
		a.life.Open()
		return
	case api.QuitEvent:
		// The tray daemon quits (its icon's Quit, or another window's).
		a.lg.Info("the Atelier engine quits: closing the window")
		a.life.Quit()
		return
	case "notice":
		if a.life.IsHidden() {
			if m, ok := data.(map[string]any); ok {
				title, _ := m["title"].(string)
				body, _ := m["body"].(string)
				desktop.Notify(title, body)
			}
		}
	}
	a.emit(name, data)
}

func (a *desktopApp) engineConnected(ok bool, err error) {
	if ok {
		a.notice("Connected again", "The Atelier engine answers again.")
		return
	}
	a.notice("The Atelier engine stopped", "This window shows the engine of `atelier daemon`, which no longer answers ("+err.Error()+"). "+
		"Start it again (systemctl --user start atelier), or quit and reopen Atelier to run the engine in the app.")
}

func (a *desktopApp) shutdown(ctx context.Context) {
	a.handing.Lock() // a hand-over under way ends first (it sees the quit)
	defer a.handing.Unlock()
	a.mu.Lock()
	a.ctx = nil
	stopTray := a.stopTray
	a.mu.Unlock()
	a.stop()
	if eng := a.engine(); eng != nil {
		a.setEngine(nil)
		eng.SetWindow(nil)
		a.lg.Info("shutting down: finishing the work under way")
		if err := eng.Close(); err != nil {
			a.lg.Error("shut down", "err", err)
		} else {
			a.lg.Info("stopped cleanly")
		}
	}
	if stopTray != nil {
		stopTray()
	}
}

// retire is asked once the window has been hidden for HiddenExitAfter:
// true lets the window process exit. Attached to the tray daemon, the
// window just goes (the daemon has the icon and the engine). Attached to a
// daemon the creator runs, it stays (its icon is the only one). Owning the
// engine, it hands the engine over to `atelier daemon --tray`.
func (a *desktopApp) retire(ctx context.Context) bool {
	if a.client != nil {
		if a.daemonTray {
			a.lg.Info("window hidden for a while: it closes; the engine goes on in the tray (atelier daemon --tray)")
		}
		return a.daemonTray
	}
	return a.handOver(ctx)
}

// handOver stops the window's engine the way Quit does (the engine
// finishes or checkpoints the work under way), starts `atelier daemon
// --tray` on the same data dir and waits until it answers. When that fails,
// the window opens its engine again and stays hidden: nothing is lost.
func (a *desktopApp) handOver(ctx context.Context) bool {
	a.handing.Lock()
	defer a.handing.Unlock()
	eng := a.engine()
	if eng == nil {
		return false
	}
	prog, err := desktop.DaemonProgram()
	if err != nil {
		a.lg.Warn("the window keeps the engine: no tray daemon to hand it to", "err", err)
		return false
	}
	began := time.Now()
	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	what := desktop.Busy(bctx, a.caller)
	cancel()
	a.lg.Info("handing the engine over to the tray daemon", "program", prog, "finishing", what)
	a.setEngine(nil)
	eng.SetWindow(nil)
	if err := eng.Close(); err != nil {
		a.lg.Error("hand-over: stop the engine", "err", err)
	} else {
		a.lg.Info("stopped cleanly", "for", "the hand-over")
	}
	err = desktop.StartTrayDaemon(ctx, desktop.DaemonStart{
		Program:     prog,
		DataDirFlag: a.dataDir,
		Socket:      a.socket,
		LogPath:     filepath.Join(a.data, "daemon.log"),
	})
	if err == nil {
		a.lg.Info("hand-over done: the engine runs in the tray daemon; the window process exits", "took", time.Since(began).Round(time.Millisecond))
		a.mu.Lock()
		stopTray := a.stopTray
		a.stopTray = nil
		a.mu.Unlock()
		if stopTray != nil {
			stopTray() // the daemon shows the icon now
		}
		switch {
		case a.life.IsQuitting():
			// Quit (the tray) during the hand-over: the app quits, the
			// daemon too.
			qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if c, err := api.Dial(a.socket); err == nil {
				if err := c.Call(qctx, "Window.QuitApp", nil); err != nil {
					a.lg.Warn("quit the tray daemon", "err", err)
				}
			}
			cancel()
		case !a.life.IsHidden():
			// Opened again during the hand-over: a new window on the daemon.
			a.openLauncher()
		}
		return true
	}
	a.lg.Error("hand-over failed: the window keeps the engine and stays hidden", "err", err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		eng, locked, oerr := openEngine(a)
		if oerr == nil {
			eng.SetWindow(a)
			a.setEngine(eng)
			a.mu.Lock()
			t := a.tray
			a.mu.Unlock()
			t.Poke()
			a.lg.Info("the window's engine runs again", "took", time.Since(began).Round(time.Millisecond))
			return false
		}
		if !locked || time.Now().After(deadline) {
			a.lg.Error("hand-over failed and the engine cannot open again", "err", oerr)
			a.notice("Atelier stopped working", "Its engine could not move to the background ("+err.Error()+") nor open again ("+oerr.Error()+"). Quit Atelier and open it again.")
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openLauncher starts the desktop launcher on this data dir (a window
// attached to the engine's new home).
func (a *desktopApp) openLauncher() {
	var args []string
	if a.dataDir != "" {
		args = []string{"--data-dir", a.data}
	}
	c := exec.Command(desktop.FindProgram(desktop.LauncherName), args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		a.lg.Warn("open a window on the tray daemon", "err", err)
		return
	}
	go c.Wait()
}

func yield(lg *slog.Logger, background bool) {
	if err := desktop.Background(background); err != nil {
		lg.Warn("set the background priority", "background", background, "err", err)
		return
	}
	lg.Debug("background priority", "on", background)
}

// withLocal answers the window's own methods before the engine's registry.
func withLocal(call desktop.CallFunc, local map[string]desktop.LocalMethod) desktop.CallFunc {
	return func(ctx context.Context, method string, args []json.RawMessage) (any, error) {
		if fn, ok := local[method]; ok {
			return fn(ctx, args)
		}
		return call(ctx, method, args)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Atelier:", err)
	os.Exit(1)
}
