package desktop

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"time"

	"atelier/app/api"
)

// ErrOtherWindow means another desktop app already shows this data dir.
var ErrOtherWindow = errors.New("another Atelier window is open on this data directory")

// Follow forwards the events of the engine at socket to emit until ctx
// ends: an attached window's frontend gets the same events it would from an
// engine of its own. When the stream breaks (the daemon was restarted or
// stopped) it calls connected(false, err) once, tries again every second,
// and calls connected(true, nil) when the engine is back.
func Follow(ctx context.Context, socket string, emit func(name string, data any), connected func(ok bool, err error), lg *slog.Logger) {
	up := true
	for ctx.Err() == nil {
		c, err := api.Dial(socket)
		if err == nil {
			if !up {
				up = true
				lg.Info("the engine answers again", "socket", socket)
				connected(true, nil)
			}
			err = c.Events(ctx, func(ev api.Event) { emit(ev.Name, ev.Data) })
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("the engine closed its event stream")
			}
		}
		if up {
			up = false
			lg.Warn("lost the engine's event stream; reconnecting", "socket", socket, "err", err)
			connected(false, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// FilesProxy serves the window's /files/ requests (previews, media for
// playback) from the engine at socket, which decides what may be served.
func FilesProxy(socket string) http.Handler {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = "engine"
			r.Out.Host = "engine"
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "the Atelier engine does not answer: "+err.Error(), http.StatusBadGateway)
		},
	}
}
