package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"

	"atelier/app/api"
)

// ServeUI serves the frontend (from assets) and the API over HTTP on a
// loopback address, guarded by a random token: the browser UI that the
// end-to-end tests drive, with the same services the desktop app binds.
// It returns the URL to open (with the token) once listening.
func (e *Engine) ServeUI(addr string, assets fs.FS) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("UI address %q: %w (use 127.0.0.1:PORT)", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("UI address %q is not a loopback address: the UI is only served on this machine (use 127.0.0.1:PORT)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	apiH := api.Handler(api.NewRegistry(e.Services()), e.hub, token, e.Log)
	files := e.FilesHandler()
	static := http.FileServerFS(assets)
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiH)
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != token {
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/wails/") {
			w.Header().Set("Content-Type", "application/javascript")
			return // the desktop runtime scripts: absent in the browser UI
		}
		static.ServeHTTP(w, r)
	})
	e.Go(func(ctx context.Context) {
		if err := api.Serve(ctx, l, mux); err != nil {
			e.Log.Error("UI server stopped", "err", err)
		}
	})
	return fmt.Sprintf("http://%s/?token=%s", l.Addr().String(), token), nil
}
