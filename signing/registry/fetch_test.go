package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"atelier/netclient"
)

// trickleServer sends one byte every interval and never finishes.
func trickleServer(t *testing.T, interval time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for {
			w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A server that trickles an index (a byte every 50 ms: never idle) used to
// hold a fetch forever; FetchTimeout now bounds the whole fetch and the error
// says why.
func TestFetchFromTricklingServerEnds(t *testing.T) {
	old := FetchTimeout
	FetchTimeout = time.Second
	defer func() { FetchTimeout = old }()
	srv := trickleServer(t, 50*time.Millisecond)
	start := time.Now()
	_, err := Fetch(context.Background(), srv.URL, IndexName, MaxIndex)
	if err == nil || !strings.Contains(err.Error(), "too slow or stuck") {
		t.Fatalf("fetch from a trickling server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

// An archive download that moves less than StallMin bytes per StallWindow is
// stopped with ErrStalled, and no partial archive is left.
func TestDownloadStallIsStopped(t *testing.T) {
	oldW, oldM := StallWindow, StallMin
	StallWindow, StallMin = 300*time.Millisecond, 1024
	defer func() { StallWindow, StallMin = oldW, oldM }()
	srv := trickleServer(t, 50*time.Millisecond)
	dir := t.TempDir()
	_, err := Download(context.Background(), srv.URL, Entry{Name: "@me/x", Version: "1.0.0", Archive: "x.tgz", SHA256: strings.Repeat("0", 64), Size: 1 << 20}, dir, 1<<30)
	if !errors.Is(err, netclient.ErrStalled) {
		t.Fatalf("download from a stalled server: %v", err)
	}
}

// The caller's context cancels a fetch (the CLI's Ctrl-C, an API caller
// that went away).
func TestFetchCancelledByCaller(t *testing.T) {
	srv := trickleServer(t, 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Fetch(ctx, srv.URL, IndexName, MaxIndex)
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
}
