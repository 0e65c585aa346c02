//go:build e2e

package e2e

// The desktop app as a background companion: a real window under Xvfb, its
// status icon on a private D-Bus session bus where a small watcher plays the
// panel (app/tray/traytest), and the engine behind it. Named TestDesktop* so
// `make test-window` runs them.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"atelier/app/api"
	"atelier/app/tray"
	"atelier/app/tray/traytest"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a started binary whose end the test can wait for.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{}
	err  error
}

// start runs a built binary with env added to the test's environment
// (ATELIER_HOME removed, so --data-dir or the XDG dirs decide). A hidden
// window stays resident (ATELIER_HIDDEN_EXIT_AFTER=0) unless env says
// otherwise: the hand-over has tests of its own.
func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin(t, name), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ATELIER_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ATELIER_HIDDEN_EXIT_AFTER=0")
	cmd.Env = append(cmd.Env, env...)
	p := &proc{name: name, cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("%s %s output:\n%s", name, strings.Join(args, " "), p.logs.String())
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits for the process to end and fails unless it ended cleanly.
func (p *proc) waitExit(t *testing.T, within time.Duration, what string) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("%s: %s ended with %v", what, p.name, p.err)
		}
	case <-time.After(within):
		t.Fatalf("%s: %s still runs after %s", what, p.name, within)
	}
}

func failShot(t *testing.T, name string) {
	if t.Failed() {
		exec.Command("import", "-window", "root", filepath.Join(artifacts(t), name)).Run()
	}
}

// atelierWindow is the window whose title ends in "— Atelier" (the page has
// loaded), visible or not; "" when there is none.
func atelierWindow(onlyVisible bool) string {
	args := []string{"search"}
	if onlyVisible {
		args = append(args, "--onlyvisible")
	}
	f := strings.Fields(xdotool(append(args, "--name", "— Atelier")...))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// closeWindow presses the window's close button: the window manager's
// WM_DELETE_WINDOW message, sent directly since no window manager runs
// under Xvfb (xdotool 3.2016 has no windowquit).
func closeWindow(t *testing.T, win string) {
	t.Helper()
	var id uint32
	if _, err := fmt.Sscan(win, &id); err != nil {
		t.Fatalf("window id %q: %v", win, err)
	}
	x, err := xgb.NewConn()
	if err != nil {
		t.Fatalf("connect to the X server %s: %v", os.Getenv("DISPLAY"), err)
	}
	defer x.Close()
	atom := func(name string) xproto.Atom {
		r, err := xproto.InternAtom(x, false, uint16(len(name)), name).Reply()
		if err != nil {
			t.Fatalf("intern %s: %v", name, err)
		}
		return r.Atom
	}
	protocols, del := atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW")
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: xproto.Window(id),
		Type:   protocols,
		Data:   xproto.ClientMessageDataUnionData32New([]uint32{uint32(del), uint32(xproto.TimeCurrentTime), 0, 0, 0}),
	}
	if err := xproto.SendEventChecked(x, false, xproto.Window(id), xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		t.Fatalf("send WM_DELETE_WINDOW to %s: %v", win, err)
	}
}

// trayBus is a private session bus with a panel's watcher on it.
func trayBus(t *testing.T, withWatcher bool) (env []string, w *traytest.Watcher) {
	bus := traytest.Bus(t)
	if withWatcher {
		var err error
		if w, err = traytest.NewWatcher(bus, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
	}
	return []string{"DBUS_SESSION_BUS_ADDRESS=" + bus}, w
}

func waitItem(t *testing.T, w *traytest.Watcher) traytest.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	it, err := w.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func hasLabel(w *traytest.Watcher, it traytest.Item, label string) bool {
	l, _ := w.Labels(it)
	return slices.Contains(l, label)
}

func tooltip(w *traytest.Watcher, it traytest.Item) string {
	tip, _ := w.Tooltip(it)
	return tip
}

func demoProject(t *testing.T) string {
	proj := filepath.Join(t.TempDir(), "Demo EP")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "notes.md"), []byte("# notes\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "lyrics.txt"), []byte("la la\n"), 0o644)
	return proj
}

// TestDesktopClosedWindowKeepsWorking: with a tray host, closing the window
// hides it and the engine goes on (socket, indexing); the tray shows the
// state, opens the window, pauses sync, and quits the app cleanly.
func TestDesktopClosedWindowKeepsWorking(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-tray-failure.png")
	env, w := trayBus(t, true)
	data := filepath.Join(t.TempDir(), "data")
	proj := demoProject(t)
	app := start(t, "atelier-desktop", env, "--data-dir", data, "--skip-onboarding")
	eventually(t, 90*time.Second, "the window with its page loaded", func() bool { return atelierWindow(true) != "" })
	it := waitItem(t, w)
	eventually(t, 20*time.Second, "the tray menu", func() bool {
		l, _ := w.Labels(it)
		return slices.Equal(l, []string{tray.LabelOpen, tray.LabelPause, "Not synced yet", tray.LabelQuit})
	})

	if out := cli(t, data, "project", "add", proj); !strings.Contains(out, "Demo EP") {
		t.Fatalf("project add said %q", out)
	}
	eventually(t, 30*time.Second, "the first index", func() bool { return strings.Contains(cli(t, data, "files", "demo-ep"), "lyrics.txt") })
	eventually(t, 30*time.Second, "the tray to show Atelier up to date", func() bool {
		return tooltip(w, it) == "Atelier: up to date"
	})

	// Close the window: it hides; the process, its socket and the work stay.
	closeWindow(t, atelierWindow(true))
	eventually(t, 10*time.Second, "the window to hide", func() bool { return atelierWindow(true) == "" })
	time.Sleep(time.Second)
	if app.exited() {
		t.Fatal("closing the window quit the app although a tray host runs")
	}
	if atelierWindow(false) == "" {
		t.Error("the hidden window is gone rather than hidden")
	}
	if _, err := os.Stat(filepath.Join(data, "atelier.sock")); err != nil {
		t.Fatalf("the socket went with the window: %v", err)
	}
	if st := status(t, data); st["running"] != true {
		t.Fatalf("the engine stopped with the window: %v", st)
	}
	os.WriteFile(filepath.Join(proj, "take-2.wav"), []byte("RIFF not really"), 0o644)
	eventually(t, 30*time.Second, "a file changed while hidden to be indexed", func() bool {
		return strings.Contains(cli(t, data, "files", "demo-ep"), "take-2.wav")
	})
	// ... and becomes a version in local history once it settled.
	eventually(t, 60*time.Second, "a file changed while hidden to be a history version", func() bool {
		var vs []struct {
			Path   string `json:"path"`
			Op     string `json:"op"`
			SHA256 string `json:"sha256"`
		}
		json.Unmarshal([]byte(cli(t, data, "history", "demo-ep", "take-2.wav", "--json")), &vs)
		return len(vs) == 1 && vs[0].Path == "take-2.wav" && vs[0].Op == "create" && vs[0].SHA256 != ""
	})

	// The tray: pause and resume sync, open the window.
	if err := w.Click(it, tray.LabelPause); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "Resume in the menu", func() bool { return hasLabel(w, it, tray.LabelResume) })
	if tip := tooltip(w, it); tip != "Atelier: sync paused" {
		t.Errorf("paused tooltip %q", tip)
	}
	var syncSt struct{ Paused bool }
	json.Unmarshal([]byte(cli(t, data, "sync", "status", "--json")), &syncSt)
	if !syncSt.Paused {
		t.Error("Pause in the tray did not pause the engine's sync")
	}
	if err := w.Click(it, tray.LabelResume); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "Pause in the menu", func() bool { return hasLabel(w, it, tray.LabelPause) })
	if err := w.Click(it, tray.LabelOpen); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the window to show again", func() bool { return atelierWindow(true) != "" })

	// Quit from the tray: the engine stops cleanly and lets go of the data dir.
	if err := w.Click(it, tray.LabelQuit); err != nil {
		t.Fatal(err)
	}
	app.waitExit(t, 60*time.Second, "Quit from the tray")
	if logs := app.logs.String(); !strings.Contains(logs, "stopped cleanly") {
		t.Errorf("the engine did not report a clean stop:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(data, "atelier.sock")); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the app: %v", err)
	}
	eventually(t, 10*time.Second, "the item to leave the bus", func() bool { return w.Gone(it) })
	st := status(t, data) // the CLI opens the data dir itself: the lock is free
	if st["running"] != false || !strings.Contains(cli(t, data, "files", "demo-ep"), "take-2.wav") {
		t.Errorf("after quit: status %v", st)
	}
}

// TestDesktopWithoutTrayCloseQuits: no tray host, so the app says so and
// its close button quits (rather than hide it into nothing).
func TestDesktopWithoutTrayCloseQuits(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-notray-failure.png")
	env, _ := trayBus(t, false)
	data := filepath.Join(t.TempDir(), "data")
	app := start(t, "atelier-desktop", env, "--data-dir", data, "--skip-onboarding")
	eventually(t, 90*time.Second, "the window with its page loaded", func() bool { return atelierWindow(true) != "" })
	eventually(t, 20*time.Second, "the app to say there is no tray", func() bool {
		return strings.Contains(app.logs.String(), "no tray host: closing the window quits Atelier")
	})
	closeWindow(t, atelierWindow(true))
	app.waitExit(t, 60*time.Second, "closing the window without a tray")
	if n := strings.Count(app.logs.String(), "no tray host"); n != 1 {
		t.Errorf("the app said %d times that no tray runs", n)
	}
	if !strings.Contains(app.logs.String(), "stopped cleanly") {
		t.Error("the engine did not report a clean stop")
	}
}

// TestDesktopAttachesToDaemon: `atelier daemon` owns the data dir; the
// desktop app opens on it (events and calls over the socket) instead of
// failing on the lock; quitting the window leaves the daemon running; a
// second launch shows the hidden window.
func TestDesktopAttachesToDaemon(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-attach-failure.png")
	env, w := trayBus(t, true)
	data := filepath.Join(t.TempDir(), "data")
	proj := demoProject(t)
	daemon := start(t, "atelier", env, "--data-dir", data, "daemon")
	eventually(t, 30*time.Second, "the daemon's socket", func() bool {
		_, err := api.Dial(filepath.Join(data, "atelier.sock"))
		return err == nil
	})
	cli(t, data, "project", "add", proj)
	eventually(t, 30*time.Second, "the daemon's first index", func() bool { return strings.Contains(cli(t, data, "files", "demo-ep"), "lyrics.txt") })

	app := start(t, "atelier-desktop", env, "--data-dir", data, "--skip-onboarding")
	eventually(t, 90*time.Second, "the attached window with its page loaded", func() bool { return atelierWindow(true) != "" })
	if app.exited() {
		t.Fatal("the desktop app gave up on the locked data dir")
	}
	if !strings.Contains(app.logs.String(), "the window attaches to it") {
		t.Errorf("the app did not attach")
	}
	// With an engine running, the launcher starts the view program, which
	// links no engine (exec keeps the process).
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", app.cmd.Process.Pid)); err != nil || filepath.Base(exe) != "atelier-desktop-view" {
		t.Errorf("the window attached to the daemon runs %q (%v), want atelier-desktop-view", exe, err)
	}
	// Events come from the daemon: a change shows in the window's title.
	os.WriteFile(filepath.Join(proj, "take-3.wav"), []byte("RIFF not really"), 0o644)
	eventually(t, 30*time.Second, "the daemon's change in the window title", func() bool { return titleCount() >= 1 })
	// Calls go to the daemon: the tray reads its state and pauses its sync.
	it := waitItem(t, w)
	eventually(t, 30*time.Second, "the tray to show the daemon's state", func() bool { return tooltip(w, it) == "Atelier: up to date" })
	if err := w.Click(it, tray.LabelPause); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the daemon's sync to pause", func() bool {
		var st struct{ Paused bool }
		json.Unmarshal([]byte(cli(t, data, "sync", "status", "--json")), &st)
		return st.Paused
	})
	w.Click(it, tray.LabelResume)

	// Close (hide), then launch again: the second launch shows the window
	// and leaves.
	closeWindow(t, atelierWindow(true))
	eventually(t, 10*time.Second, "the window to hide", func() bool { return atelierWindow(true) == "" })
	second := start(t, "atelier-desktop", env, "--data-dir", data)
	second.waitExit(t, 30*time.Second, "a second launch")
	eventually(t, 10*time.Second, "the second launch to show the window", func() bool { return atelierWindow(true) != "" })

	// Ctrl+Q quits the window; the daemon goes on.
	win := atelierWindow(true)
	xdotool("windowfocus", "--sync", win)
	xdotool("key", "ctrl+q")
	app.waitExit(t, 30*time.Second, "Ctrl+Q in the attached window")
	if daemon.exited() {
		t.Fatal("quitting the attached window stopped the daemon")
	}
	if st := status(t, data); st["running"] != true {
		t.Errorf("the daemon no longer answers: %v", st)
	}
}

// TestDesktopAutostartStartsHidden: the start-at-login entry the app writes
// starts it hidden, in the tray; the first launch afterwards shows the window.
func TestDesktopAutostartStartsHidden(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-autostart-failure.png")
	busEnv, w := trayBus(t, true)
	home := t.TempDir()
	env := append(busEnv, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	data := filepath.Join(home, ".config", "atelier")

	// Turn start at login on, as the Settings view does.
	first := start(t, "atelier-desktop", env, "--skip-onboarding")
	eventually(t, 90*time.Second, "the window", func() bool { return atelierWindow(true) != "" })
	c, err := api.Dial(filepath.Join(data, "atelier.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), "Settings.SetStartAtLogin", nil, true); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(home, ".config", "autostart", "atelier.desktop")
	if out, err := exec.Command("desktop-file-validate", entry).CombinedOutput(); err != nil {
		t.Fatalf("autostart entry invalid: %v\n%s", err, out)
	}
	var execLine []string
	f, _ := os.Open(entry)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Exec="); ok {
			execLine = strings.Fields(v)
		}
	}
	f.Close()
	if len(execLine) < 2 || execLine[len(execLine)-1] != "--hidden" {
		t.Fatalf("autostart Exec %q does not start hidden", execLine)
	}
	w.Click(waitItem(t, w), tray.LabelQuit)
	first.waitExit(t, 60*time.Second, "quit before the login")

	// Log in: the entry's command starts the engine with its status icon
	// (the launcher execs `atelier daemon --tray`) and no window at all.
	before := len(w.Items())
	login := start(t, "atelier-desktop", env, execLine[1:]...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	it, err := w.WaitItemAfter(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the tray to show the engine's state", func() bool { return strings.HasPrefix(tooltip(w, it), "Atelier: ") })
	time.Sleep(2 * time.Second)
	if atelierWindow(false) != "" {
		t.Fatal("start at login started a window")
	}
	if !strings.Contains(login.logs.String(), "status icon shown") {
		t.Errorf("start at login did not run the tray daemon:\n%s", login.logs.String())
	}
	// The first launch afterwards shows a window, attached to that engine.
	again := start(t, "atelier-desktop", env)
	eventually(t, 90*time.Second, "the window after the launch", func() bool { return atelierWindow(true) != "" })
	if !strings.Contains(again.logs.String(), "trayDaemon=true") {
		t.Errorf("the window did not attach to the tray daemon:\n%s", again.logs.String())
	}
	if login.exited() {
		t.Fatal("the app started at login quit")
	}
	// Quit from the icon: the engine stops cleanly, and its window closes.
	if err := w.Click(it, tray.LabelQuit); err != nil {
		t.Fatal(err)
	}
	login.waitExit(t, 60*time.Second, "Quit from the tray daemon's icon")
	again.waitExit(t, 30*time.Second, "the attached window when the app quits")
	if !strings.Contains(login.logs.String(), "stopped cleanly") {
		t.Errorf("the tray daemon did not stop cleanly:\n%s", login.logs.String())
	}
	eventually(t, 10*time.Second, "the item to leave the bus", func() bool { return w.Gone(it) })
}

// TestDesktopPausesOnBattery: with "pause on battery" set and the machine on
// battery (a fake power supply folder through $ATELIER_POWER_SUPPLY), the
// tray says "paused: on battery" while its menu still offers the creator's
// own Pause; plugged in, it is up to date again.
func TestDesktopPausesOnBattery(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-battery-failure.png")
	supply := t.TempDir()
	power := func(plugged bool) {
		online, status := "0", "Discharging"
		if plugged {
			online, status = "1", "Charging"
		}
		for name, attrs := range map[string]map[string]string{
			"AC":   {"type": "Mains", "online": online},
			"BAT0": {"type": "Battery", "status": status},
		} {
			os.MkdirAll(filepath.Join(supply, name), 0o755)
			for k, v := range attrs {
				os.WriteFile(filepath.Join(supply, name, k), []byte(v+"\n"), 0o644)
			}
		}
	}
	power(false)
	env, w := trayBus(t, true)
	data := filepath.Join(t.TempDir(), "data")
	start(t, "atelier-desktop", append(env, "ATELIER_POWER_SUPPLY="+supply), "--data-dir", data, "--skip-onboarding")
	eventually(t, 90*time.Second, "the window with its page loaded", func() bool { return atelierWindow(true) != "" })
	it := waitItem(t, w)
	eventually(t, 30*time.Second, "the tray to show Atelier up to date", func() bool { return tooltip(w, it) == "Atelier: up to date" })

	c, err := api.Dial(filepath.Join(data, "atelier.sock"))
	if err != nil {
		t.Fatal(err)
	}
	setting := func() {
		if err := c.Call(context.Background(), "Settings.SetPauseOnBattery", nil, true); err != nil {
			t.Fatal(err)
		}
	}
	setting()
	eventually(t, 30*time.Second, "the tray to say paused: on battery", func() bool { return tooltip(w, it) == "Atelier: paused: on battery" })
	if !hasLabel(w, it, tray.LabelPause) {
		t.Error("on battery, the menu should still offer the creator's own Pause sync")
	}
	power(true)
	setting() // read the power source now, not at the next 30 s poll
	eventually(t, 30*time.Second, "the tray to be up to date once plugged in", func() bool { return tooltip(w, it) == "Atelier: up to date" })
}

// TestDesktopSecondLaunchShowsHiddenWindow: with the app running hidden in
// the tray on its own engine, a second launch brings that same window
// forward and leaves (one window, one engine, the first process goes on),
// while a second `--hidden` launch (start at login again) shows nothing.
// The time the second launch takes is a benchmark (bench/tray.sh).
func TestDesktopSecondLaunchShowsHiddenWindow(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-second-launch-failure.png")
	env, w := trayBus(t, true)
	data := filepath.Join(t.TempDir(), "data")
	// Opened, then closed into the tray (a start at login runs the tray
	// daemon instead: TestDesktopAutostartStartsHidden).
	first := start(t, "atelier-desktop", env, "--data-dir", data, "--skip-onboarding")
	waitItem(t, w)
	eventually(t, 90*time.Second, "the window's page to load", func() bool { return atelierWindow(true) != "" })
	win := atelierWindow(true)
	closeWindow(t, win)
	eventually(t, 10*time.Second, "the window to hide", func() bool { return atelierWindow(true) == "" })

	again := start(t, "atelier-desktop", env, "--data-dir", data, "--hidden")
	again.waitExit(t, 30*time.Second, "a second hidden launch")
	time.Sleep(time.Second)
	if atelierWindow(true) != "" {
		t.Error("a second --hidden launch showed the window")
	}

	second := start(t, "atelier-desktop", env, "--data-dir", data)
	second.waitExit(t, 30*time.Second, "a second launch")
	eventually(t, 10*time.Second, "the second launch to show the hidden window", func() bool { return atelierWindow(true) != "" })
	if got := atelierWindow(true); got != win {
		t.Errorf("the second launch showed window %s, not the hidden one (%s)", got, win)
	}
	if all := strings.Fields(xdotool("search", "--name", "— Atelier")); len(all) != 1 {
		t.Errorf("%d Atelier windows after the second launch, want 1: %v", len(all), all)
	}
	if !strings.Contains(second.logs.String(), `msg="window: brought forward"`) {
		t.Errorf("the second launch did not say it brought the window forward:\n%s", second.logs.String())
	}
	if strings.Contains(second.logs.String(), "window: starting") {
		t.Error("the second launch opened a window of its own")
	}
	// The launcher (cmd/atelier-desktop) brought it forward without
	// loading the window program, GTK and WebKit.
	if strings.Contains(second.logs.String(), `msg="window: main"`) {
		t.Error("the second launch started the window program only to bring the window forward")
	}
	if first.exited() {
		t.Fatal("the first app quit when the second launch came")
	}
	if st := status(t, data); st["running"] != true {
		t.Errorf("the first app's engine no longer answers: %v", st)
	}

	// Closed into the tray again, a third launch brings it back again.
	closeWindow(t, win)
	eventually(t, 10*time.Second, "the window to hide", func() bool { return atelierWindow(true) == "" })
	third := start(t, "atelier-desktop", env, "--data-dir", data)
	third.waitExit(t, 30*time.Second, "a third launch")
	eventually(t, 10*time.Second, "the third launch to show the window", func() bool { return atelierWindow(true) == win })
}

// TestDesktopViewWithoutEngineStartsTheWindowProgram: the view program started
// for an engine that is gone by then (or by hand) does not fail: it execs
// the window program, which opens its own engine.
func TestDesktopViewWithoutEngineStartsTheWindowProgram(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	defer failShot(t, "desktop-view-fallback-failure.png")
	env, _ := trayBus(t, true)
	data := filepath.Join(t.TempDir(), "data")
	app := start(t, "atelier-desktop-view", env, "--data-dir", data, "--skip-onboarding")
	eventually(t, 90*time.Second, "the window with its page loaded", func() bool { return atelierWindow(true) != "" })
	if !strings.Contains(app.logs.String(), "no engine answers: starting the window program that runs its own") {
		t.Errorf("the view program did not say it hands over to the window program:\n%s", app.logs.String())
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", app.cmd.Process.Pid)); err != nil || filepath.Base(exe) != "atelier-desktop-window" {
		t.Errorf("the window runs %q (%v), want atelier-desktop-window", exe, err)
	}
	if st := status(t, data); st["running"] != true {
		t.Errorf("no engine runs in the window: %v", st)
	}
}
