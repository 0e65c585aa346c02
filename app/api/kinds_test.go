package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"atelier/app/apierr"
)

var errSentinel = errors.New("sentinel")

type kindsSvc struct{}

func (kindsSvc) Fail(kind string) error {
	if kind == "plain" {
		return fmt.Errorf("plain failure: %w", errSentinel)
	}
	return apierr.Errorf(apierr.Kind(kind), "failed as %s: %w", kind, errSentinel)
}

func (kindsSvc) Refuse() error {
	return apierr.WithUI(apierr.Errorf(apierr.Conflict, "taken: see `atelier thing list`"), "That name is taken.")
}

func (kindsSvc) Wrapped() error {
	return fmt.Errorf("outer: %w", apierr.Errorf(apierr.NotFound, "no project %q", "x"))
}

func (kindsSvc) Echo(n int) (int, error) { return n, nil }

func kindsHandler() http.Handler {
	return Handler(NewRegistry(map[string]any{"K": kindsSvc{}}), NewHub(), "", slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func post(t *testing.T, h http.Handler, method, body string) (int, Reply) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/call/"+method, strings.NewReader(body)))
	var rep Reply
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("%s: body %q: %v", method, rec.Body.String(), err)
	}
	return rec.Code, rep
}

// Every kind maps to its HTTP status and travels in the body as "kind";
// the message is the error's own.
func TestHandlerMapsKindsToStatus(t *testing.T) {
	h := kindsHandler()
	for _, c := range []struct {
		kind   string
		status int
	}{
		{"notFound", 404}, {"invalidInput", 400}, {"needsConsent", 403},
		{"conflict", 409}, {"locked", 423}, {"internal", 500}, {"plain", 500},
	} {
		code, rep := post(t, h, "K.Fail", fmt.Sprintf("[%q]", c.kind))
		wantKind := c.kind
		wantMsg := "failed as " + c.kind + ": sentinel"
		if c.kind == "plain" {
			wantKind, wantMsg = "internal", "plain failure: sentinel"
		}
		if code != c.status || rep.Kind != wantKind || rep.Error != wantMsg || rep.UI != "" {
			t.Errorf("%s: got %d %+v, want %d kind %s message %q", c.kind, code, rep, c.status, wantKind, wantMsg)
		}
	}
	// The registry's own refusals have kinds too.
	for _, c := range []struct {
		method, body, kind string
		status             int
	}{
		{"K.Nope", "[]", "notFound", 404},
		{"K.Echo", "[]", "invalidInput", 400},
		{"K.Echo", `["one"]`, "invalidInput", 400},
		{"K.Echo", `{`, "invalidInput", 400},
	} {
		code, rep := post(t, h, c.method, c.body)
		if code != c.status || rep.Kind != c.kind || rep.Error == "" {
			t.Errorf("%s %s: got %d %+v, want %d %s", c.method, c.body, code, rep, c.status, c.kind)
		}
	}
	// The outermost kind counts, through fmt.Errorf wrapping.
	if code, rep := post(t, h, "K.Wrapped", "[]"); code != 404 || rep.Kind != "notFound" || rep.Error != `outer: no project "x"` {
		t.Errorf("wrapped: %d %+v", code, rep)
	}
	// The app's message travels beside the terminal one.
	if code, rep := post(t, h, "K.Refuse", "[]"); code != 409 || rep.Error != "taken: see `atelier thing list`" || rep.UI != "That name is taken." {
		t.Errorf("refuse: %d %+v", code, rep)
	}
}

// The client turns an error reply back into an error of the same kind, so
// the CLI through the socket sees what an in-process call returns.
func TestClientKeepsKinds(t *testing.T) {
	dir, err := os.MkdirTemp("", "apik")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	l, err := ListenSocket(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, l, kindsHandler())
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry(map[string]any{"K": kindsSvc{}})
	for _, kind := range []apierr.Kind{apierr.NotFound, apierr.InvalidInput, apierr.NeedsConsent, apierr.Conflict, apierr.Locked, apierr.Internal} {
		args, _ := json.Marshal(string(kind))
		_, local := reg.Call(ctx, "K.Fail", []json.RawMessage{args})
		remote := c.Call(ctx, "K.Fail", nil, string(kind))
		if remote == nil || remote.Error() != local.Error() {
			t.Fatalf("%s: remote %v, local %v", kind, remote, local)
		}
		if !errors.Is(local, kind) || !errors.Is(remote, kind) || apierr.KindOf(remote) != kind {
			t.Errorf("%s: errors.Is local %v remote %v", kind, errors.Is(local, kind), errors.Is(remote, kind))
		}
		if kind != apierr.NotFound && errors.Is(remote, apierr.NotFound) {
			t.Errorf("%s: remote error also reads as notFound", kind)
		}
	}
	err = c.Call(ctx, "K.Refuse", nil)
	if !errors.Is(err, apierr.Conflict) || err.Error() != "taken: see `atelier thing list`" || apierr.UIMessage(err) != "That name is taken." {
		t.Errorf("refuse through the socket: %v (ui %q)", err, apierr.UIMessage(err))
	}
	if err := c.Call(ctx, "K.Nope", nil); !errors.Is(err, apierr.NotFound) || !strings.Contains(err.Error(), "no such method") {
		t.Errorf("unknown method through the socket: %v", err)
	}
	var n int
	if err := c.Call(ctx, "K.Echo", &n, 7); err != nil || n != 7 {
		t.Errorf("echo: %d %v", n, err)
	}
}

// An error reply survives the trip through the client unchanged: message,
// kind (unknown kinds read as internal) and app wording.
func FuzzReplyRoundTrip(f *testing.F) {
	f.Add("no project \"x\"", "notFound", "")
	f.Add("refused", "conflict", "Choose an empty folder.")
	f.Add("boom", "weird", "x")
	f.Fuzz(func(t *testing.T, msg, kind, ui string) {
		if msg == "" {
			return
		}
		err := ReplyError(msg, kind, ui)
		rep := ErrorReply(err)
		if rep.Error != msg || rep.Kind != string(apierr.Parse(kind)) || !errors.Is(err, apierr.Parse(kind)) {
			t.Fatalf("%q %q %q -> %+v", msg, kind, ui, rep)
		}
		if ui != "" && ui != msg && rep.UI != ui {
			t.Fatalf("ui %q lost: %+v", ui, rep)
		}
		if !utf8.ValidString(msg) || !utf8.ValidString(ui) {
			return // JSON replaces invalid UTF-8; the engine's messages are text
		}
		b, _ := json.Marshal(rep)
		var back Reply
		if json.Unmarshal(b, &back) != nil || back.Error != rep.Error || back.Kind != rep.Kind || back.UI != rep.UI {
			t.Fatalf("json: %s", b)
		}
	})
}
