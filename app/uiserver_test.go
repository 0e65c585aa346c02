package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const uiTestToken = "0123456789abcdef0123456789abcdef"

func uiTestHandler(t *testing.T) http.Handler {
	t.Helper()
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	t.Cleanup(func() { e.Close() })
	return e.uiHandler(4242, uiTestToken, fstest.MapFS{"index.html": {Data: []byte("<html>atelier</html>")}})
}

type uiReq struct {
	method, target, host string
	header               map[string]string
}

func (q uiReq) do(h http.Handler) *httptest.ResponseRecorder {
	var body io.Reader
	if q.method == http.MethodPost {
		body = strings.NewReader("[]")
	}
	r := httptest.NewRequest(q.method, q.target, body)
	r.Host = q.host
	if r.Host == "" {
		r.Host = "127.0.0.1:4242"
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var bearer = map[string]string{"Authorization": "Bearer " + uiTestToken}

// Only loopback Host values for the UI's own port are served: a page on a
// name that resolves to 127.0.0.1 (DNS rebinding) is refused.
func TestUIServerRefusesForeignHost(t *testing.T) {
	h := uiTestHandler(t)
	for _, host := range []string{"evil.example:4242", "evil.example", "127.0.0.1:4243", "127.0.0.1", "10.0.0.1:4242", "localhost.evil.example:4242"} {
		for _, q := range []uiReq{
			{method: "GET", target: "/", host: host},
			{method: "POST", target: "/v1/call/Projects.Status", host: host, header: bearer},
			{method: "GET", target: "/?token=" + uiTestToken, host: host},
		} {
			if w := q.do(h); w.Code != http.StatusMisdirectedRequest {
				t.Errorf("%s %s with Host %s: %d, want 421", q.method, q.target, host, w.Code)
			}
		}
	}
	for _, host := range []string{"127.0.0.1:4242", "localhost:4242", "[::1]:4242", "LOCALHOST:4242"} {
		if w := (uiReq{method: "POST", target: "/v1/call/Projects.Status", host: host, header: bearer}).do(h); w.Code != http.StatusOK {
			t.Errorf("Host %s: %d %s", host, w.Code, w.Body)
		}
	}
}

// A state-changing request from another origin is refused even with the
// token (a cross-site page cannot read it, but must not act either).
func TestUIServerRefusesCrossOrigin(t *testing.T) {
	h := uiTestHandler(t)
	for _, hd := range []map[string]string{
		{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
		{"Origin": "http://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:4243"},
		{"Origin": "http://127.0.0.1:4243"},
	} {
		hd["Authorization"] = bearer["Authorization"]
		if w := (uiReq{method: "POST", target: "/v1/call/Projects.Status", header: hd}).do(h); w.Code != http.StatusForbidden {
			t.Errorf("POST with %v: %d, want 403", hd, w.Code)
		}
	}
	same := map[string]string{"Origin": "http://127.0.0.1:4242", "Sec-Fetch-Site": "same-origin", "Authorization": bearer["Authorization"]}
	if w := (uiReq{method: "POST", target: "/v1/call/Projects.Status", header: same}).do(h); w.Code != http.StatusOK {
		t.Errorf("same-origin POST: %d %s", w.Code, w.Body)
	}
}

// The token is never taken from the URL of an API call or a file.
func TestUIServerRefusesQueryToken(t *testing.T) {
	h := uiTestHandler(t)
	for _, q := range []uiReq{
		{method: "POST", target: "/v1/call/Projects.Status?token=" + uiTestToken},
		{method: "GET", target: "/v1/methods?token=" + uiTestToken},
		{method: "GET", target: "/files/?path=/etc/passwd&token=" + uiTestToken},
		{method: "POST", target: "/v1/call/Projects.Status", header: map[string]string{"Authorization": "Bearer " + strings.Repeat("0", 32)}},
		{method: "POST", target: "/v1/call/Projects.Status", header: map[string]string{"Authorization": uiTestToken}},
		{method: "POST", target: "/v1/call/Projects.Status", header: map[string]string{"Cookie": "atelier_ui_4242=wrong"}},
	} {
		if w := q.do(h); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s %v: %d, want 401", q.method, q.target, q.header, w.Code)
		}
	}
	if w := (uiReq{method: "GET", target: "/?token=wrong"}).do(h); w.Code != http.StatusForbidden || strings.Contains(w.Header().Get("Set-Cookie"), "atelier_ui") {
		t.Errorf("launch URL with a wrong token: %d %v", w.Code, w.Header())
	}
}

// Opening the launch URL sets an HttpOnly SameSite=Strict cookie and
// redirects to the same page without the token; the cookie then authorises
// API calls, the event stream and files.
func TestUIServerCookieFlow(t *testing.T) {
	h := uiTestHandler(t)
	w := (uiReq{method: "GET", target: "/?token=" + uiTestToken + "&onboarding=skip&view=projects"}).do(h)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("launch URL: %d %s", w.Code, w.Body)
	}
	loc, _ := url.Parse(w.Header().Get("Location"))
	if loc.Path != "/" || loc.Query().Has("token") || loc.Query().Get("view") != "projects" || loc.Query().Get("onboarding") != "skip" {
		t.Fatalf("redirect to %q: want / with the other parameters and without the token", loc)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Value != uiTestToken || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
		t.Fatalf("cookies %+v", cookies)
	}
	jar := map[string]string{"Cookie": cookies[0].Name + "=" + cookies[0].Value}
	if w := (uiReq{method: "GET", target: "/", header: jar}).do(h); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "atelier") {
		t.Fatalf("page: %d %s", w.Code, w.Body)
	}
	post := map[string]string{"Cookie": jar["Cookie"], "Origin": "http://127.0.0.1:4242", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}
	if w := (uiReq{method: "POST", target: "/v1/call/Projects.Status", header: post}).do(h); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "result") {
		t.Fatalf("call with the cookie: %d %s", w.Code, w.Body)
	}
	if w := (uiReq{method: "GET", target: "/files/?path=/etc/passwd", header: jar}).do(h); w.Code != http.StatusForbidden {
		t.Fatalf("files with the cookie: %d (want the file handler's 403 for a non-Atelier file)", w.Code)
	}
	// The event stream (EventSource cannot set headers) with the cookie.
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events", nil)
	r.Host = "127.0.0.1:4242"
	r.Header.Set("Cookie", jar["Cookie"])
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events with the cookie: %d %v", resp.StatusCode, resp.Header)
	}
}

// The launch URL's token is returned to the caller (the daemon prints it
// for the user), never logged.
func TestServeUIDoesNotLogToken(t *testing.T) {
	var logs bytes.Buffer
	e, err := Open(DirsUnder(t.TempDir()), Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.ServeUI("127.0.0.1:0", fstest.MapFS{"index.html": {Data: []byte("<html></html>")}})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	token := pu.Query().Get("token")
	resp, err := http.Get(u) // the launch, as a browser opens it
	if err == nil {
		resp.Body.Close()
	}
	e.Close()
	if len(token) != 32 || strings.Contains(logs.String(), token) {
		t.Fatalf("token %q in the logs:\n%s", token, logs.String())
	}
}
