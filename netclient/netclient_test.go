package netclient

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A server that accepts the connection and then says nothing is cut off by
// the header time-out; one that sends headers and then stops, by the idle
// time-out.
func TestTimeouts(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer silent.Close()
	c := New(Timeouts{Header: 300 * time.Millisecond, Idle: 5 * time.Second})
	start := time.Now()
	if _, err := c.Get(silent.URL); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("silent server: %v after %s", err, time.Since(start))
	}
	stops := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer stops.Close()
	c = New(Timeouts{Idle: 300 * time.Millisecond})
	resp, err := c.Get(stops.URL)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	var ne net.Error
	if err == nil || time.Since(start) > 3*time.Second || !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("idle server: %v after %s", err, time.Since(start))
	}
}

// Watch stops a body that moves less than the minimum in a window.
func TestWatchStall(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 100; i++ {
			if _, err := pw.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		pw.Close()
	}()
	var cause error
	r := Watch(pr, "test body", 200*time.Millisecond, 100, func(err error) { cause = err; pr.CloseWithError(err) })
	defer r.Close()
	_, err := io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "test body") || cause == nil {
		t.Fatalf("stalled body: %v (cause %v)", err, cause)
	}
}
