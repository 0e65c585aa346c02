package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"atelier/app/api"
)

// One engine per data dir, whoever started it: a desktop app launched while
// `atelier daemon` owns the data dir attaches to it. Its window's Bridge then
// forwards every call over the API socket (NewBridge with a CallFunc over an
// api.Client), events come from the API's event stream, and the files the
// window shows (previews, media) come through the socket's /files/.

// CallFunc runs "Service.Method" with JSON-encoded arguments: the engine's
// own registry (api.Registry.Call), or a running engine over its socket.
type CallFunc func(ctx context.Context, method string, args []json.RawMessage) (any, error)

// NewBridge is the desktop frontend's binding over call, under ctx (a call
// ends when the app quits).
func NewBridge(ctx context.Context, call CallFunc) *Bridge {
	return &Bridge{ctx: ctx, call: call}
}

// FocusEvent asks a desktop window attached to this engine to show itself:
// a second launch of the desktop app calls Window.Focus, and an engine with
// no window of its own (`atelier daemon`) passes it on to attached windows.
const FocusEvent = "window.focus"

// socketHandler is what the API socket (mode 0600) serves: the API, and
// /files/ for a desktop app attached to this engine, whose window shows
// previews and plays media through it (the same files the browser UI gets).
func (e *Engine) socketHandler(lg *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", api.Handler(api.NewRegistry(e.Services()), e.hub, "", lg))
	mux.Handle("/files/", e.FilesHandler())
	return mux
}
