package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"atelier/app/apierr"
)

// SocketName is the API socket's file name inside the data directory.
const SocketName = "atelier.sock"

// Event is one message on the event stream.
type Event struct {
	Name string `json:"name"`
	Data any    `json:"data"`
}

// Hub fans events out to stream subscribers. Slow subscribers lose events
// rather than stall the engine.
type Hub struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan Event]struct{}{}} }

// Publish sends ev to every subscriber that has room.
func (h *Hub) Publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- ev:
		default:
		}
	}
}

// Subscribe returns a channel of events and a cancel func.
func (h *Hub) Subscribe() (<-chan Event, func()) {
	c := make(chan Event, 256)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}
}

// Reply is the body of every answer to a call, over the socket and through
// the desktop Bridge alike: the result, or the error's message, its kind
// (see apierr) and, when the message's advice only fits a terminal, the
// sentence the app shows instead (ui).
type Reply struct {
	Result any    `json:"result"`
	Error  string `json:"error,omitempty"`
	Kind   string `json:"kind,omitempty"`
	UI     string `json:"ui,omitempty"`
}

// ErrorReply is the Reply for err (a failed call).
func ErrorReply(err error) Reply {
	rep := Reply{Error: err.Error(), Kind: string(apierr.KindOf(err))}
	if ui := apierr.UIMessage(err); ui != rep.Error {
		rep.UI = ui
	}
	return rep
}

// Handler returns the HTTP handler for the API: calls, method list, events.
// token, when set, must be presented as an `Authorization: Bearer` header or
// in the browser UI's cookie (see Authorized); never in the URL. It is used
// by the TCP listener for the browser UI; the unix socket relies on its file
// mode.
func Handler(reg *Registry, hub *Hub, token string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/call/{method}", func(w http.ResponseWriter, r *http.Request) {
		var args []json.RawMessage
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err == nil && len(strings.TrimSpace(string(body))) > 0 {
			err = json.Unmarshal(body, &args)
		}
		if err != nil {
			err = apierr.Errorf(apierr.InvalidInput, "request body must be a JSON array of arguments: %w", err)
		} else {
			var res any
			res, err = reg.Call(r.Context(), r.PathValue("method"), args)
			if err == nil {
				writeJSON(w, http.StatusOK, Reply{Result: res})
				return
			}
		}
		rep := ErrorReply(err)
		writeJSON(w, apierr.Parse(rep.Kind).Status(), rep)
	})
	mux.HandleFunc("GET /v1/methods", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, reg.Methods())
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		ch, cancel := hub.Subscribe()
		defer cancel()
		fmt.Fprint(w, ": connected\n\n")
		fl.Flush()
		ping := time.NewTicker(15 * time.Second)
		defer ping.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-ping.C:
				fmt.Fprint(w, ": ping\n\n")
				fl.Flush()
			case ev := <-ch:
				b, err := json.Marshal(ev)
				if err != nil {
					log.Warn("event not encodable", "event", ev.Name, "err", err)
					continue
				}
				fmt.Fprintf(w, "data: %s\n\n", b)
				fl.Flush()
			}
		}
	})
	if token == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && !Authorized(r, token) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"kind": "unauthorized", "error": "missing or wrong API token: open the UI from the link `atelier daemon --ui` printed, or send Authorization: Bearer TOKEN"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// TokenCookie names the cookie that carries the browser UI's token (one
// name per port: cookies are shared by every port of a host).
func TokenCookie(port string) string { return "atelier_ui_" + port }

// Authorized says whether r presents token: as an `Authorization: Bearer`
// header, or in the HttpOnly cookie the UI server sets from its launch URL.
// A token in the URL's query is not accepted (URLs end up in logs, history
// and Referer headers). Comparisons take constant time.
func Authorized(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	if h := r.Header.Get("Authorization"); h != "" {
		got, ok := strings.CutPrefix(h, "Bearer ")
		return ok && SameToken(got, token)
	}
	_, port, _ := net.SplitHostPort(r.Host)
	if c, err := r.Cookie(TokenCookie(port)); err == nil {
		return SameToken(c.Value, token)
	}
	return false
}

// SameToken compares two tokens in constant time.
func SameToken(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ListenSocket listens on the unix socket at path with mode 0600, replacing a
// stale socket left by a crashed engine (a live one refuses: the caller should
// already hold the data-dir lock, so a socket that answers is someone else's).
func ListenSocket(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("another engine already serves %s", path)
	}
	os.Remove(path)
	old := umask(0o177)
	l, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Serve serves h on l until ctx ends.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	// Requests live under ctx: an event stream ends when the engine closes
	// (Shutdown alone waits for it), so an attached window hears of it.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
