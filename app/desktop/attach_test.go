package desktop_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/app/apierr"
	"atelier/app/desktop"
	"atelier/app/projects"
	"atelier/app/tray"
)

// A window attached to a running engine (as to `atelier daemon`): its
// Bridge forwards calls over the socket with their error kinds, a folder
// dialog stays in the window, events arrive from the stream, and the
// window's files come through the socket.
func TestAttachedWindowUsesTheRunningEngine(t *testing.T) {
	dirs := app.DirsUnder(t.TempDir())
	eng, err := app.Open(dirs, app.Options{Background: true, Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	proj := filepath.Join(t.TempDir(), "Demo EP")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "notes.md"), []byte("# notes\n"), 0o644)

	// The desktop app finds the data dir locked and the socket answering.
	if _, err := app.Open(dirs, app.Options{}); !errors.Is(err, apierr.Locked) {
		t.Fatalf("a second engine on the data dir: %v, want Locked", err)
	}
	c, err := api.Dial(app.SocketPath(dirs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	var events []string
	connected := make(chan bool, 4)
	go desktop.Follow(ctx, app.SocketPath(dirs), func(name string, data any) {
		mu.Lock()
		events = append(events, name)
		mu.Unlock()
	}, func(ok bool, err error) { connected <- ok }, eng.Log)
	// The stream is up once an event comes through (Resume emits "sync").
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.Call(ctx, "Sync.Resume", nil)
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event reached the attached window's stream")
		}
	}

	picked := filepath.Join(t.TempDir(), "picked")
	bridge := api.NewBridge(ctx, desktop.Remote(c, map[string]desktop.LocalMethod{
		"Projects.PickFolder": func(context.Context, []json.RawMessage) (any, error) { return picked, nil },
	}))
	arg := func(v any) []json.RawMessage {
		b, _ := json.Marshal(v)
		return []json.RawMessage{b}
	}
	rep := bridge.Call("Projects.Add", arg(proj))
	if rep.Error != "" {
		t.Fatalf("Projects.Add through the attached bridge: %+v", rep)
	}
	var added struct{ ID, Name string }
	b, _ := json.Marshal(rep.Result)
	if json.Unmarshal(b, &added); added.Name != "Demo EP" {
		t.Fatalf("Projects.Add answered %s", b)
	}
	rep = bridge.Call("Projects.List", nil)
	if b, _ := json.Marshal(rep.Result); !strings.Contains(string(b), `"Demo EP"`) {
		t.Errorf("Projects.List: %s", b)
	}
	// An error keeps its kind and the app's wording.
	rep = bridge.Call("Projects.Remove", arg("no-such-project"))
	if rep.Kind != "notFound" || rep.Error == "" {
		t.Errorf("Projects.Remove of nothing: %+v", rep)
	}
	rep = bridge.Call("Projects.PickFolder", nil)
	if rep.Result != picked {
		t.Errorf("PickFolder ran on the engine: %+v", rep)
	}
	// Events come from the engine's stream.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(events, ",")
		mu.Unlock()
		if strings.Contains(got, projects.ProjectsEvent) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q event reached the attached window; got %s", projects.ProjectsEvent, got)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Files: a project file is served, anything else is refused.
	srv := httptest.NewServer(desktop.FilesProxy(app.SocketPath(dirs)))
	defer srv.Close()
	get := func(p string) (int, string) {
		res, err := http.Get(srv.URL + "/files/?path=" + url.QueryEscape(p))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, body := get(filepath.Join(proj, "notes.md")); code != 200 || body != "# notes\n" {
		t.Errorf("project file: %d %q", code, body)
	}
	if code, _ := get("/etc/passwd"); code != http.StatusForbidden {
		t.Errorf("/etc/passwd: %d, want 403", code)
	}

	// The tray reads the same engine.
	src := desktop.StatusSource{C: c}
	deadline = time.Now().Add(20 * time.Second)
	for {
		st, err := src.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == tray.Idle {
			if !st.LastSync.IsZero() || st.SyncPaused {
				t.Errorf("fresh engine: %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not settle: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.Call(ctx, "Sync.Pause", nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := src.State(ctx); st.Status != tray.Paused || !st.SyncPaused {
		t.Errorf("paused: %+v", st)
	}
	// And the same answers in-process.
	local := desktop.StatusSource{C: api.Local{Registry: api.NewRegistry(eng.Services())}}
	if st, err := local.State(ctx); err != nil || st.Status != tray.Paused {
		t.Errorf("in-process: %+v %v", st, err)
	}
	c.Call(ctx, "Sync.Resume", nil)
	if got := desktop.Busy(ctx, c); got != "" {
		t.Errorf("Busy with no sync running: %q", got)
	}

	// A second launch asks the engine to show its window; the daemon
	// passes it on to the attached window as an event.
	if err := c.Call(ctx, "Window.Focus", nil); err == nil {
		t.Error("Window.Focus on an engine without a window succeeded")
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(events, ",")
		mu.Unlock()
		if strings.Contains(got, api.FocusEvent) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q event; got %s", api.FocusEvent, got)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The engine goes away: the window hears of it.
	eng.Close()
	select {
	case ok := <-connected:
		if ok {
			t.Error("connected(true) before any loss")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the window was not told the engine went away")
	}
	if rep := bridge.Call("Projects.List", nil); rep.Error == "" {
		t.Error("a call to a stopped engine succeeded")
	}
}

func TestClaimOneWindowPerDataDir(t *testing.T) {
	dir := t.TempDir()
	if desktop.Held(dir) {
		t.Error("Held before any claim")
	}
	release, err := desktop.Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !desktop.Held(dir) {
		t.Error("not Held while claimed")
	}
	if _, err := desktop.Claim(dir); !errors.Is(err, desktop.ErrOtherWindow) {
		t.Errorf("second claim: %v, want ErrOtherWindow", err)
	}
	release()
	if desktop.Held(dir) {
		t.Error("Held after the release")
	}
	release2, err := desktop.Claim(dir)
	if err != nil {
		t.Errorf("claim after release: %v", err)
	} else {
		release2()
	}
}
