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
	"atelier/app/apierr"
)

// ServeUI serves the frontend (from assets) and the API over HTTP on a
// loopback address, guarded by a random token: the browser UI that the
// end-to-end tests drive, with the same services the desktop app binds.
// It returns the URL to open (with the token) once listening.
func (e *Engine) ServeUI(addr string, assets fs.FS) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", apierr.Errorf(apierr.InvalidInput, "UI address %q: %w (use 127.0.0.1:PORT)", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", apierr.Errorf(apierr.InvalidInput, "UI address %q is not a loopback address: the UI is only served on this machine (use 127.0.0.1:PORT)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	h := e.uiHandler(l.Addr().(*net.TCPAddr).Port, token, assets)
	e.Go(func(ctx context.Context) {
		if err := api.Serve(ctx, l, h); err != nil {
			e.Log.Error("UI server stopped", "err", err)
		}
	})
	// The launch URL is for the user who started the daemon (it is printed
	// on its standard output); it is never logged.
	return fmt.Sprintf("http://%s/?token=%s", l.Addr().String(), token), nil
}

// uiHandler is the browser UI's HTTP surface on a loopback port:
//
//   - only loopback Host values for this port are served (127.0.0.1, localhost,
//     [::1]): a page on another name that resolves to 127.0.0.1 (DNS
//     rebinding) gets 421;
//   - state-changing requests must come from the UI's own origin
//     (Sec-Fetch-Site / Origin, http.CrossOriginProtection): 403 otherwise;
//   - the token comes from an `Authorization: Bearer` header or from an
//     HttpOnly, SameSite=Strict cookie, set when the launch URL /?token=… is
//     opened, which then redirects to the same page without the token; the
//     token is never accepted from the URL of an API call or a file;
//   - tokens are compared in constant time.
func (e *Engine) uiHandler(port int, token string, assets fs.FS) http.Handler {
	portS := fmt.Sprint(port)
	hosts := map[string]bool{"127.0.0.1:" + portS: true, "localhost:" + portS: true, "[::1]:" + portS: true}
	cookie := api.TokenCookie(portS)
	apiH := api.Handler(api.NewRegistry(e.Services()), e.hub, token, e.Log)
	files := e.FilesHandler()
	static := http.FileServerFS(assets)
	mux := http.NewServeMux()
	mux.Handle("/v1/", apiH)
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		if !api.Authorized(r, token) {
			http.Error(w, "missing or wrong token: open the UI from the link `atelier daemon --ui` printed", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Has("token") {
			// The launch URL: trade the token for the cookie, then drop it
			// from the address bar (and so from history and Referer).
			if r.Method != http.MethodGet || !api.SameToken(q.Get("token"), token) {
				http.Error(w, "wrong token: open the UI from the link `atelier daemon --ui` printed", http.StatusForbidden)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q.Del("token")
			u := *r.URL
			u.RawQuery = q.Encode()
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/wails/") {
			w.Header().Set("Content-Type", "application/javascript")
			return // the desktop runtime scripts: absent in the browser UI
		}
		static.ServeHTTP(w, r)
	})
	cop := http.NewCrossOriginProtection()
	guarded := cop.Handler(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hosts[strings.ToLower(r.Host)] {
			http.Error(w, "this UI is served on 127.0.0.1, localhost or [::1] only", http.StatusMisdirectedRequest)
			return
		}
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		guarded.ServeHTTP(w, r)
	})
}
