// Atelier's desktop app: the engine's services bound to a Wails window.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"atelier/app"
	"atelier/app/api"
	"atelier/localdb"
)

//go:embed all:frontend/dist
var assets embed.FS

// wailsShell is the engine's view of the window; it exists only between
// OnStartup and OnShutdown, when the Wails runtime may be called.
type wailsShell struct{ ctx context.Context }

func (w wailsShell) Emit(event string, data any) { runtime.EventsEmit(w.ctx, event, data) }

func (w wailsShell) PickFolder(title string) (string, error) {
	return runtime.OpenDirectoryDialog(w.ctx, runtime.OpenDialogOptions{Title: title, CanCreateDirectories: true})
}

func (w wailsShell) Show() {
	runtime.WindowUnminimise(w.ctx)
	runtime.WindowShow(w.ctx)
}

// Notify uses the freedesktop notification service through notify-send when
// it is there; the frontend shows every notice in its status line either way.
func (w wailsShell) Notify(title, body string) {
	if p, err := exec.LookPath("notify-send"); err == nil {
		exec.Command(p, "--app-name=Atelier", title, body).Start()
	}
}

func main() {
	dataDir := flag.String("data-dir", "", "data directory (default: $ATELIER_HOME or the user config dir)")
	skipOnboarding := flag.Bool("skip-onboarding", false, "do not show the first-run introduction (scripted installs)")
	flag.Parse()
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(lg)

	dirs, err := app.DefaultDirs()
	if *dataDir != "" {
		dirs, err = app.DataDirFlag(*dataDir), nil
	}
	if err != nil {
		fail(err)
	}
	eng, err := app.Open(dirs, app.Options{Background: true, Serve: true, Logger: lg})
	if errors.Is(err, localdb.ErrLocked) {
		// One engine owns a data dir. If it is another Atelier window, bring
		// it forward instead of failing.
		if c, derr := api.Dial(app.SocketPath(dirs)); derr == nil {
			if c.Call(context.Background(), "Window.Focus", nil) == nil {
				lg.Info("Atelier is already running; brought its window forward")
				return
			}
		}
	}
	if err != nil {
		fail(err)
	}
	if *skipOnboarding {
		if err := eng.Settings.CompleteOnboarding(); err != nil {
			lg.Warn("skip onboarding", "err", err)
		}
	}
	err = wails.Run(&options.App{
		Title:     "Atelier",
		Width:     1200,
		Height:    800,
		MinWidth:  900,
		MinHeight: 600,
		AssetServer: &assetserver.Options{
			Assets: assets,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/files/") {
					eng.FilesHandler().ServeHTTP(w, r)
					return
				}
				http.NotFound(w, r)
			}),
		},
		BackgroundColour: &options.RGBA{R: 246, G: 245, B: 242, A: 255},
		OnStartup: func(ctx context.Context) {
			eng.SetShell(wailsShell{ctx: ctx})
		},
		OnShutdown: func(ctx context.Context) {
			eng.SetShell(nil)
			if err := eng.Close(); err != nil {
				lg.Error("shut down", "err", err)
			}
		},
		Bind:  eng.Bindings(),
		Linux: &linux.Options{ProgramName: "atelier", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
	})
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Atelier:", err)
	os.Exit(1)
}
