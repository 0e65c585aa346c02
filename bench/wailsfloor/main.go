// Command wailsfloor is the floor of the tray benchmark's launch time: a
// Wails window (GTK and WebKit, as the desktop app builds them) whose page
// only sets its title, so bench/tray.sh can time what any Wails app pays on
// this machine beside what Atelier pays, in the same rounds. It logs its
// steps as the desktop app does (the page loaded is its "first answer"),
// and ignores its arguments. Its window's title is set once the page has
// loaded, as Atelier's page sets its own.
package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

const page = `<!doctype html><html><head><title>Floor — Atelier</title></head><body>floor</body></html>`

// started is when the process started (/proc/self/stat), else now: the
// floor's own copy of desktop.ProcessStarted, since it links nothing of
// Atelier's (whose package init it would then pay too).
func started() time.Time {
	b, err := os.ReadFile("/proc/self/stat")
	u, uerr := os.ReadFile("/proc/uptime")
	if err != nil || uerr != nil {
		return time.Now()
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ticks, err := strconv.ParseFloat(f[19], 64)
	up, uerr := strconv.ParseFloat(strings.Fields(string(u))[0], 64)
	if err != nil || uerr != nil {
		return time.Now()
	}
	return time.Now().Add(-time.Duration((up - ticks/100) * float64(time.Second)))
}

func main() {
	t0 := started()
	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	since := func() time.Duration { return time.Since(t0).Round(time.Millisecond) }
	lg.Info("window: main", "sinceLaunch", since())
	// The desktop app's start-up environment (app/desktop/startenv.go).
	os.Setenv("GDK_GL", "disable")
	os.Setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
	err := wails.Run(&options.App{
		Title: "Atelier", Width: 1200, Height: 800,
		AssetServer: &assetserver.Options{Assets: fstest.MapFS{"index.html": {Data: []byte(page)}}},
		OnStartup:   func(context.Context) { lg.Info("window: starting", "sinceLaunch", since()) },
		OnDomReady: func(ctx context.Context) {
			// The window's title (the benchmark waits for it) once the
			// page is there, as Atelier's page sets its own.
			runtime.WindowSetTitle(ctx, "Floor — Atelier")
			lg.Info("window: page loaded", "sinceLaunch", since())
			lg.Info("window: first answer", "sinceLaunch", since())
		},
		Linux: &linux.Options{ProgramName: "atelier", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
	})
	if err != nil {
		lg.Error("wailsfloor", "err", err)
		os.Exit(1)
	}
}
