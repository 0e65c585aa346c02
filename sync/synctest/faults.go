package synctest

import (
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the probabilities (0..1) of each fault per request.
type Faults struct {
	Err5xx    float64 // answer 500/503 without forwarding
	Reset     float64 // close the connection without an answer
	Stall     float64 // hold the request for StallFor, then drop it
	Slow      float64 // forward, but send the response body slowly
	Truncate  float64 // forward, but cut the response body short
	StallFor  time.Duration
	SlowBytes int // bytes per 10 ms for slow bodies
}

// Proxy is a fault-injecting HTTP proxy in front of a server.
type Proxy struct {
	URL    string // http://127.0.0.1:PORT
	srv    *http.Server
	faults atomic.Pointer[Faults]
	Count  struct{ Requests, Err5xx, Reset, Stall, Slow, Truncate atomic.Int64 }
	mu     sync.Mutex
}

// NewProxy starts a proxy to target on 127.0.0.1.
func NewProxy(target string, f Faults) (*Proxy, error) {
	tu, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{URL: "http://" + l.Addr().String()}
	p.SetFaults(f)
	rp := httputil.NewSingleHostReverseProxy(tu)
	rp.ErrorLog = nil
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Count.Requests.Add(1)
		f := p.faults.Load()
		x := rand.Float64()
		switch {
		case x < f.Err5xx:
			p.Count.Err5xx.Add(1)
			io.Copy(io.Discard, r.Body)
			code := http.StatusInternalServerError
			if rand.IntN(2) == 0 {
				code = http.StatusServiceUnavailable
			}
			w.WriteHeader(code)
			return
		case x < f.Err5xx+f.Reset:
			p.Count.Reset.Add(1)
			hijackClose(w)
			return
		case x < f.Err5xx+f.Reset+f.Stall:
			p.Count.Stall.Add(1)
			select {
			case <-time.After(f.StallFor):
			case <-r.Context().Done():
			}
			hijackClose(w)
			return
		case x < f.Err5xx+f.Reset+f.Stall+f.Slow:
			p.Count.Slow.Add(1)
			rp.ServeHTTP(&slowWriter{ResponseWriter: w, n: max(f.SlowBytes, 1024)}, r)
			return
		case x < f.Err5xx+f.Reset+f.Stall+f.Slow+f.Truncate:
			if r.Method == http.MethodGet {
				p.Count.Truncate.Add(1)
				rp.ServeHTTP(&truncWriter{ResponseWriter: w, left: -1}, r)
				return
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go p.srv.Serve(l)
	return p, nil
}

// SetFaults changes the fault mix live.
func (p *Proxy) SetFaults(f Faults) {
	if f.StallFor == 0 {
		f.StallFor = 5 * time.Second
	}
	p.faults.Store(&f)
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

type slowWriter struct {
	http.ResponseWriter
	n int
}

func (s *slowWriter) Write(b []byte) (int, error) {
	done := 0
	for len(b) > 0 {
		k := min(len(b), s.n)
		n, err := s.ResponseWriter.Write(b[:k])
		done += n
		if err != nil {
			return done, err
		}
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		b = b[k:]
		time.Sleep(10 * time.Millisecond)
	}
	return done, nil
}

// truncWriter sends the headers (with the full Content-Length) and about
// half the body, then kills the connection.
type truncWriter struct {
	http.ResponseWriter
	left int
}

func (t *truncWriter) Write(b []byte) (int, error) {
	if t.left < 0 {
		t.left = len(b) / 2
	}
	if t.left == 0 {
		panic(http.ErrAbortHandler)
	}
	k := min(len(b), t.left)
	n, err := t.ResponseWriter.Write(b[:k])
	t.left -= n
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if t.left == 0 {
		panic(http.ErrAbortHandler)
	}
	return n, err
}
