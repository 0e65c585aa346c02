package traydaemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/app/desktop"
	"atelier/app/desktop/traydaemon"
	"atelier/app/tray"
	"atelier/app/tray/traytest"
)

// The tray daemon (`atelier daemon --tray`): its engine registers a
// StatusNotifierItem on the session bus; Open Atelier runs the launcher;
// an attached window learns that the engine is the app's (Window.Info) and
// is told to close when the app quits; Quit stops the daemon. A plain
// engine answers Window.Info with no tray and refuses QuitApp. (Once per
// process: fyne.io/systray keeps package state.)
func TestTrayDaemonShowsTheIconOpensAndQuits(t *testing.T) {
	addr := traytest.Bus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	w, err := traytest.NewWatcher(addr, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.PropertiesOnly = true // the icon runs in this -race process

	dirs := app.DirsUnder(t.TempDir())
	eng, err := app.Open(dirs, app.Options{Background: true, Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	c, err := api.Dial(app.SocketPath(dirs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var info api.WindowInfo
	if err := c.Call(ctx, "Window.Info", &info); err != nil || info.Tray {
		t.Fatalf("Window.Info of a plain engine: %+v, %v; want no tray", info, err)
	}
	if err := c.Call(ctx, "Window.QuitApp", nil); err == nil || !strings.Contains(err.Error(), "without --tray") {
		t.Fatalf("Window.QuitApp of a plain engine: %v; want a refusal naming --tray", err)
	}

	opened := filepath.Join(t.TempDir(), "opened")
	stopped := make(chan struct{})
	var stopOnce sync.Once
	stop, err := traydaemon.StartTray(ctx, eng, traydaemon.TrayOptions{
		Launcher: []string{"sh", "-c", `echo "$@" > "$0"`, opened, "--data-dir", dirs.Data},
		Stop:     func() { stopOnce.Do(func() { close(stopped) }) },
		Log:      eng.Log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	it, err := w.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := w.Labels(it)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{tray.LabelOpen, tray.LabelPause, tray.LabelQuit} {
		if !strings.Contains(strings.Join(labels, "|"), l) {
			t.Errorf("menu %q lacks %q", labels, l)
		}
	}
	if err := c.Call(ctx, "Window.Info", &info); err != nil || !info.Tray {
		t.Fatalf("Window.Info of the tray daemon: %+v, %v; want tray", info, err)
	}

	// Pause from the icon pauses the engine's sync.
	if err := w.Click(it, tray.LabelPause); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sync paused from the icon", func() bool {
		var st struct{ Paused bool }
		return c.Call(ctx, "Sync.Status", &st) == nil && st.Paused
	})
	waitFor(t, "the menu offering Resume", func() bool {
		l, _ := w.Labels(it)
		return strings.Contains(strings.Join(l, "|"), tray.LabelResume)
	})

	// Open Atelier runs the launcher on the engine's data dir.
	if err := w.Click(it, tray.LabelOpen); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the launcher to run", func() bool {
		b, _ := os.ReadFile(opened)
		return strings.TrimSpace(string(b)) == "--data-dir "+dirs.Data
	})

	// An attached window hears Focus (a second launch) and the app's quit.
	var mu sync.Mutex
	var events []string
	go desktop.Follow(ctx, app.SocketPath(dirs), func(name string, _ any) {
		mu.Lock()
		events = append(events, name)
		mu.Unlock()
	}, func(bool, error) {}, eng.Log)
	seen := func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			if e == name {
				return true
			}
		}
		return false
	}
	waitFor(t, "Window.Focus to reach the attached window", func() bool {
		c.Call(ctx, "Window.Focus", nil)
		return seen(api.FocusEvent)
	})
	if err := w.Click(it, tray.LabelQuit); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("Quit from the icon did not stop the daemon")
	}
	waitFor(t, "the quit to reach the attached window", func() bool { return seen(api.QuitEvent) })
	waitFor(t, "the icon to show quitting", func() bool {
		return strings.Contains(tooltipOf(w, it), "quitting")
	})
}

func tooltipOf(w *traytest.Watcher, it traytest.Item) string {
	s, _ := w.Tooltip(it)
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
