package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"atelier/app/api"
)

// Sync.Run runs under its caller's context: cancelled (the CLI's Ctrl-C, an
// API caller that went away), it returns context.Canceled and commits no
// snapshot; the next run pushes everything.
func TestSyncRunCancelled(t *testing.T) {
	remoteURL := "file://" + filepath.ToSlash(t.TempDir())
	e, _ := syncEngine(t, "laptop", remoteURL)
	root := filepath.Join(t.TempDir(), "p")
	writeFiles(t, root, map[string]string{"a.txt": "a", "b/c.txt": "c"})
	p, err := e.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Sync.Run(ctx, id); !errors.Is(err, context.Canceled) {
		t.Fatalf("run with a cancelled context: %v", err)
	}
	if snaps, err := e.Sync.Snapshots(id); err == nil && len(snaps) != 0 {
		t.Fatalf("a cancelled run committed %d snapshot(s)", len(snaps))
	}
	r, err := e.Sync.Run(context.Background(), id)
	if err != nil || len(r.Projects) != 1 || r.Projects[0].Uploaded != 2 {
		t.Fatalf("the run after the cancelled one: %+v %v", r, err)
	}
}

// A call's context ends when the engine closes, even if the caller's does not.
func TestCallContextEndsWithEngine(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	ctx, done := e.callContext(context.Background())
	defer done()
	e.Close()
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
}

// The daemon's own fetches end when their caller goes away: an API client
// that gives up on Modules.RegistryAdd (a server trickling its index) makes
// the engine drop the fetch, instead of holding it until the server stops.
func TestAPICallerGoneCancelsFetch(t *testing.T) {
	serverDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(serverDone)
		w.WriteHeader(http.StatusOK)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
				w.Write([]byte(" "))
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer srv.Close()
	e := openEngine(t, DirsUnder(t.TempDir()), true)
	defer e.Close()
	c, err := api.Dial(e.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "Modules.RegistryAdd", nil, srv.URL); err == nil {
		t.Fatal("registry added from a trickling server")
	}
	select {
	case <-serverDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the engine kept fetching after its caller went away")
	}
}
