// Package netclient is the one place Atelier builds HTTP clients: every
// network client (registry fetches, S3 remotes) gets connect, TLS handshake,
// response-header and idle time-outs, so a dead or stalled server is noticed
// instead of holding a command (and the data-dir lock) forever.
//
// Idle here means "no byte moved in either direction for Idle": the
// connection's read deadline is pushed forward on every read and write, so a
// long upload on a slow link keeps going while a server that stops answering
// is cut off. A server that trickles bytes (one every few seconds) is not idle;
// Watch bounds such transfers by a minimum rate over a window.
package netclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Timeouts bound each phase of a request. Zero fields take the defaults.
type Timeouts struct {
	Connect time.Duration // TCP connect
	TLS     time.Duration // TLS handshake
	Header  time.Duration // from the request written to the response headers
	Idle    time.Duration // no byte read or written on the connection
}

// Defaults are the time-outs for every Atelier network client.
var Defaults = Timeouts{Connect: 15 * time.Second, TLS: 15 * time.Second, Header: 60 * time.Second, Idle: 60 * time.Second}

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect <= 0 {
		t.Connect = Defaults.Connect
	}
	if t.TLS <= 0 {
		t.TLS = Defaults.TLS
	}
	if t.Header <= 0 {
		t.Header = Defaults.Header
	}
	if t.Idle <= 0 {
		t.Idle = Defaults.Idle
	}
	return t
}

// Transport returns an http.Transport with t's time-outs (proxy settings from
// the environment, HTTP/2 where the server offers it).
func Transport(t Timeouts) *http.Transport {
	t = t.withDefaults()
	d := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, idle: t.Idle}, nil
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   t.TLS,
		ResponseHeaderTimeout: t.Header,
		ExpectContinueTimeout: time.Second,
	}
}

// New returns a client with t's time-outs and no overall time-out, so large
// transfers on slow links finish; bound small fetches with a context deadline
// or Watch.
func New(t Timeouts) *http.Client { return &http.Client{Transport: Transport(t)} }

// idleConn fails a read or write once nothing has moved for idle. The read
// deadline also moves on writes: the transport reads the response while the
// request body is still being sent.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	dl := time.Now().Add(c.idle)
	c.Conn.SetReadDeadline(dl)
	c.Conn.SetWriteDeadline(dl)
	return c.Conn.Write(p)
}

// ErrStalled means a transfer moved fewer bytes than the minimum in a window.
var ErrStalled = errors.New("transfer stalled")

// Watch guards a response body: if fewer than min bytes arrive in any window,
// cancel is called with an ErrStalled cause naming what, and reads return that
// error. cancel must cancel the request's context. Close stops the watchdog.
func Watch(body io.ReadCloser, what string, window time.Duration, min int64, cancel context.CancelCauseFunc) io.ReadCloser {
	w := &watched{rc: body, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(window)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				n := w.n.Load()
				if n-last < min {
					err := fmt.Errorf("%w: %s sent %d bytes in %s (less than %d): the server is too slow or stuck; try again later", ErrStalled, what, n-last, window, min)
					w.err.Store(&err)
					cancel(err)
					return
				}
				last = n
			}
		}
	}()
	return w
}

type watched struct {
	rc     io.ReadCloser
	n      atomic.Int64
	err    atomic.Pointer[error]
	done   chan struct{}
	closed atomic.Bool
}

func (w *watched) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	w.n.Add(int64(n))
	if err != nil && err != io.EOF {
		if e := w.err.Load(); e != nil {
			err = *e
		}
	}
	return n, err
}

func (w *watched) Close() error {
	if w.closed.CompareAndSwap(false, true) {
		close(w.done)
	}
	return w.rc.Close()
}
