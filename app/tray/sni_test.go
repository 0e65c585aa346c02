package tray_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app/tray"
	"atelier/app/tray/traytest"
)

// The StatusNotifierItem is tested over a real (private) session bus with a
// small watcher playing the panel. fyne.io/systray keeps package state, so
// the item runs in a child process (this test binary, in helper mode) that
// prints the actions the menu asked for and takes states on stdin.

const helperEnv = "ATELIER_TRAY_HELPER"

// TestHelperTrayProcess is the child: not a test on its own.
func TestHelperTrayProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	eng := &lineEngine{st: tray.State{Status: tray.Idle}}
	tr, stop, err := tray.Start(context.Background(), tray.Options{Source: eng, Actions: eng, MinInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	eng.tray = tr
	fmt.Println("started")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 2)
		st := tray.State{}
		switch f[0] {
		case "working":
			st.Status = tray.Working
		case "attention":
			st.Status = tray.Attention
		case "idle":
			st.Status = tray.Idle
		case "synced":
			st.Status, st.LastSync = tray.Idle, time.Now().Add(-3*time.Minute)
		}
		if len(f) > 1 {
			st.Detail = f[1]
		}
		eng.set(st)
		tr.Poke()
	}
	stop()
	os.Exit(0)
}

// lineEngine prints the actions it is asked for.
type lineEngine struct {
	mu   sync.Mutex
	st   tray.State
	tray *tray.Tray
}

func (e *lineEngine) State(context.Context) (tray.State, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st, nil
}
func (e *lineEngine) set(st tray.State) { e.mu.Lock(); e.st = st; e.mu.Unlock() }
func (e *lineEngine) Open()             { fmt.Println("action open") }
func (e *lineEngine) Quit()             { fmt.Println("action quit") }
func (e *lineEngine) SetSyncPaused(_ context.Context, p bool) error {
	fmt.Println("action paused", p)
	e.mu.Lock()
	e.st.SyncPaused = p
	e.st.Status = tray.Paused
	if !p {
		e.st.Status = tray.Idle
	}
	e.mu.Unlock()
	return nil
}

type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

func startChild(t *testing.T, bus string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTrayProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "DBUS_SESSION_BUS_ADDRESS="+bus)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, in: in, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	c.expect(t, "started")
	return c
}

func (c *child) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("the tray process ended before saying %q", want)
			}
			if l == want {
				return
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("tray process: %s", l)
			}
		case <-deadline:
			t.Fatalf("the tray process did not say %q within 10 s", want)
		}
	}
}

func (c *child) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, got := cond()
		if ok {
			return
		}
		last = got
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last saw %s", what, last)
}

func TestStatusNotifierItemOnTheSessionBus(t *testing.T) {
	bus := traytest.Bus(t)
	w, err := traytest.NewWatcher(bus, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := startChild(t, bus)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	it, err := w.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(it.Service, ":") || it.Path != tray.ItemPath {
		t.Errorf("registered %+v, want the child's unique name and %s", it, tray.ItemPath)
	}
	if title, err := w.Property(it, "Title"); err != nil || title != "Atelier" {
		t.Errorf("Title = %v, %v", title, err)
	}
	if cat, _ := w.Property(it, "Category"); cat != "ApplicationStatus" {
		t.Errorf("Category = %v", cat)
	}
	_, width, height, err := w.IconPixels(it)
	if err != nil || width != 32 || height != 32 {
		t.Errorf("icon %dx%d, %v", width, height, err)
	}

	// The menu, as a panel reads it.
	want := []string{tray.LabelOpen, tray.LabelPause, "Not synced yet", tray.LabelQuit}
	eventually(t, "the menu", func() (bool, string) {
		got, err := w.Labels(it)
		return err == nil && slices.Equal(got, want), fmt.Sprint(got, err)
	})
	m, _ := w.Menu(it)
	for _, e := range m {
		if e.Label == "Not synced yet" && e.Enabled {
			t.Error("the last-sync line is clickable")
		}
	}

	// Status follows the engine: tooltip and icon change.
	idlePix, _, _, _ := w.IconPixels(it)
	c.send(t, "working Syncing Night Drive EP: 3 of 10 files")
	eventually(t, "the working tooltip", func() (bool, string) {
		tip, err := w.Tooltip(it)
		return tip == "Atelier: working — Syncing Night Drive EP: 3 of 10 files", fmt.Sprint(tip, err)
	})
	workPix, _, _, _ := w.IconPixels(it)
	if string(workPix) == string(idlePix) {
		t.Error("the icon did not change from idle to working")
	}
	c.send(t, "attention 1 sync conflict to resolve")
	eventually(t, "the attention tooltip", func() (bool, string) {
		tip, _ := w.Tooltip(it)
		return strings.HasPrefix(tip, "Atelier: needs attention — 1 sync conflict"), tip
	})
	c.send(t, "synced")
	eventually(t, "the last sync line", func() (bool, string) {
		got, _ := w.Labels(it)
		return slices.Contains(got, "Last sync: 3 minutes ago"), fmt.Sprint(got)
	})

	// Menu actions reach the engine.
	if err := w.Click(it, tray.LabelPause); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "action paused true")
	eventually(t, "Resume in the menu", func() (bool, string) {
		got, _ := w.Labels(it)
		return slices.Contains(got, tray.LabelResume), fmt.Sprint(got)
	})
	if err := w.Click(it, tray.LabelResume); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "action paused false")
	if err := w.Click(it, tray.LabelOpen); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "action open")
	if err := w.Activate(it); err != nil { // a left click on the icon opens too
		t.Fatal(err)
	}
	c.expect(t, "action open")
	if err := w.Click(it, tray.LabelQuit); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "action quit")
}

// A tray host that starts after the app (the panel loads late at login)
// still gets the item.
func TestItemRegistersWithALateHost(t *testing.T) {
	bus := traytest.Bus(t)
	startChild(t, bus)
	time.Sleep(300 * time.Millisecond)
	w, err := traytest.NewWatcher(bus, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.WaitItem(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestHostPresent(t *testing.T) {
	bus := traytest.Bus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	ctx := context.Background()
	if err := tray.HostPresent(ctx); !errors.Is(err, tray.ErrNoHost) {
		t.Errorf("no watcher: HostPresent = %v, want ErrNoHost", err)
	}
	w, err := traytest.NewWatcher(bus, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := tray.HostPresent(ctx); !errors.Is(err, tray.ErrNoHost) || !strings.Contains(err.Error(), "no tray host registered") {
		t.Errorf("watcher without a host: HostPresent = %v", err)
	}
	w.Close()
	w, err = traytest.NewWatcher(bus, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := tray.HostPresent(ctx); err != nil {
		t.Errorf("watcher with a host: HostPresent = %v", err)
	}

	// No session bus at all: no host, and no bus started to find out.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	if err := tray.HostPresent(ctx); !errors.Is(err, tray.ErrNoHost) {
		t.Errorf("no bus: HostPresent = %v", err)
	}
	if _, _, err := tray.Start(ctx, tray.Options{}); err == nil {
		t.Error("Start without a session bus succeeded")
	}
}
