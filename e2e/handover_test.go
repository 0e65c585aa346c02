//go:build e2e

package e2e

// The window is only a view (issue 16): hidden for a while, the window
// process hands its engine to `atelier daemon --tray` and exits, so the
// hidden app costs no more than its engine; the daemon's icon opens a new
// window on it, and quitting there quits the whole app. A hand-over that
// cannot start the daemon keeps the engine in the window process.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"atelier/app/tray"
	"atelier/internal/testchild"
)

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// a zombie is gone for our purposes
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

func TestDesktopHandsTheEngineToTheTrayDaemon(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-handover-failure.png")
	busEnv, w := trayBus(t, true)
	env := append(busEnv, "ATELIER_HIDDEN_EXIT_AFTER=3s")
	data := filepath.Join(t.TempDir(), "data")
	proj := demoProject(t)
	win := start(t, "atelier-desktop", env, "--data-dir", data, "--skip-onboarding")
	t.Cleanup(func() {
		for _, pid := range testchild.PidsWith(data, "daemon", "--tray") {
			syscall.Kill(pid, syscall.SIGTERM)
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(data, "daemon.log"))
			t.Logf("daemon.log:\n%s", b)
		}
	})
	eventually(t, 90*time.Second, "the window with its page loaded", func() bool { return atelierWindow(true) != "" })
	waitItem(t, w)
	cli(t, data, "project", "add", proj)
	eventually(t, 30*time.Second, "the first index", func() bool { return strings.Contains(cli(t, data, "files", "demo-ep"), "lyrics.txt") })

	// Close: hidden; after ATELIER_HIDDEN_EXIT_AFTER the window process
	// hands over and exits.
	before := len(w.Items())
	closeWindow(t, atelierWindow(true))
	eventually(t, 10*time.Second, "the window to hide", func() bool { return atelierWindow(true) == "" })
	win.waitExit(t, 90*time.Second, "the hidden window process after the hand-over")
	if logs := win.logs.String(); !strings.Contains(logs, "hand-over done") || !strings.Contains(logs, "stopped cleanly") {
		t.Errorf("the window did not stop its engine cleanly and hand it over:\n%s", logs)
	}
	if atelierWindow(false) != "" {
		t.Error("a window outlived the window process")
	}
	daemons := testchild.PidsWith(data, "daemon", "--tray")
	if len(daemons) != 1 {
		t.Fatalf("tray daemons on the data dir: %v", daemons)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	it, err := w.WaitItemAfter(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the daemon's icon to show its state", func() bool { return strings.HasPrefix(tooltip(w, it), "Atelier: ") })
	// The engine goes on: the socket answers, a change is indexed.
	if st := status(t, data); st["running"] != true {
		t.Fatalf("no engine after the hand-over: %v", st)
	}
	os.WriteFile(filepath.Join(proj, "take-2.wav"), []byte("RIFF not really"), 0o644)
	eventually(t, 30*time.Second, "a change after the hand-over to be indexed", func() bool {
		return strings.Contains(cli(t, data, "files", "demo-ep"), "take-2.wav")
	})

	// Open Atelier in the daemon's icon: a window attached to it.
	if err := w.Click(it, tray.LabelOpen); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "a window from the daemon's icon", func() bool { return atelierWindow(true) != "" })
	// The tray daemon answers, so the launcher starts the view program.
	windows := testchild.PidsWith("atelier-desktop-view", data)
	if len(windows) != 1 {
		t.Fatalf("window processes on the data dir: %v", windows)
	}
	eventually(t, 10*time.Second, "the window to say it attached to the tray daemon", func() bool {
		b, _ := os.ReadFile(filepath.Join(data, "daemon.log"))
		return strings.Contains(string(b), "trayDaemon=true")
	})
	if n := len(w.Items()); n != before+1 {
		t.Errorf("%d items registered, want %d: the attached window must leave the icon to the daemon", n, before+1)
	}

	// Ctrl+Q in that window quits the whole app: the daemon too, cleanly.
	xdotool("windowfocus", "--sync", atelierWindow(true))
	xdotool("key", "ctrl+q")
	eventually(t, 60*time.Second, "the daemon and its window to quit", func() bool {
		return !alive(daemons[0]) && !alive(windows[0])
	})
	b, _ := os.ReadFile(filepath.Join(data, "daemon.log"))
	if !strings.Contains(string(b), "stopped cleanly") {
		t.Errorf("the tray daemon did not stop cleanly:\n%s", b)
	}
	if st := status(t, data); st["running"] != false || !strings.Contains(cli(t, data, "files", "demo-ep"), "take-2.wav") {
		t.Errorf("after quit: %v", st)
	}
}

func TestDesktopHandOverFailureKeepsTheEngine(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-handover-fails-failure.png")
	busEnv, w := trayBus(t, true)
	broken := filepath.Join(t.TempDir(), "atelier")
	os.WriteFile(broken, []byte("#!/bin/sh\necho 'atelier: cannot start' >&2\nexit 1\n"), 0o755)
	env := append(busEnv, "ATELIER_HIDDEN_EXIT_AFTER=2s", "ATELIER_DAEMON_PROGRAM="+broken)
	data := filepath.Join(t.TempDir(), "data")
	proj := demoProject(t)
	app := start(t, "atelier-desktop", env, "--data-dir", data, "--skip-onboarding")
	eventually(t, 90*time.Second, "the window with its page loaded", func() bool { return atelierWindow(true) != "" })
	it := waitItem(t, w)
	cli(t, data, "project", "add", proj)
	closeWindow(t, atelierWindow(true))
	eventually(t, 10*time.Second, "the window to hide", func() bool { return atelierWindow(true) == "" })
	eventually(t, 60*time.Second, "the failed hand-over to give the engine back", func() bool {
		return strings.Contains(app.logs.String(), "the window's engine runs again")
	})
	if !strings.Contains(app.logs.String(), "hand-over failed") || app.exited() {
		t.Fatalf("the window process after a failed hand-over:\n%s", app.logs.String())
	}
	os.WriteFile(filepath.Join(proj, "take-2.wav"), []byte("RIFF not really"), 0o644)
	eventually(t, 30*time.Second, "a change after the failed hand-over to be indexed", func() bool {
		return strings.Contains(cli(t, data, "files", "demo-ep"), "take-2.wav")
	})
	eventually(t, 30*time.Second, "the tray to show Atelier up to date", func() bool { return tooltip(w, it) == "Atelier: up to date" })
	if err := w.Click(it, tray.LabelOpen); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the window to show again", func() bool { return atelierWindow(true) != "" })
	if err := w.Click(it, tray.LabelQuit); err != nil {
		t.Fatal(err)
	}
	app.waitExit(t, 60*time.Second, "Quit from the tray")
	if !strings.Contains(app.logs.String(), "stopped cleanly") {
		t.Error("the engine did not stop cleanly")
	}
}
