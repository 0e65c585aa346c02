// Package pprofserve serves Go's profiles on a loopback address for the
// benchmarks: ATELIER_PPROF=127.0.0.1:6060 in the environment of the desktop
// app or `atelier daemon`, then `go tool pprof
// http://127.0.0.1:6060/debug/pprof/profile?seconds=60`. Off by default.
package pprofserve

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// FromEnv serves profiles on addr (the value of ATELIER_PPROF) if it is a
// loopback address; an empty addr serves nothing. Failures are logged, never
// fatal: profiles are a benchmark's aid, not the program's work.
func FromEnv(lg *slog.Logger, addr string) {
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		lg.Warn("ATELIER_PPROF must be a loopback address such as 127.0.0.1:6060; profiles not served", "addr", addr)
		return
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		lg.Warn("ATELIER_PPROF: cannot listen; profiles not served", "addr", addr, "err", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	lg.Info("serving Go profiles", "addr", l.Addr().String())
	go (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(l)
}
