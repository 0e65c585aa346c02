package app

import (
	"log/slog"
	"net/http"

	"atelier/app/api"
)

// One engine per data dir, whoever started it: a desktop app launched while
// `atelier daemon` owns the data dir attaches to it. Its window's Bridge then
// forwards every call over the API socket (api.NewBridge with a CallFunc over an
// api.Client), events come from the API's event stream, and the files the
// window shows (previews, media) come through the socket's /files/.

// socketHandler is what the API socket (mode 0600) serves: the API, and
// /files/ for a desktop app attached to this engine, whose window shows
// previews and plays media through it (the same files the browser UI gets).
func (e *Engine) socketHandler(lg *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", api.Handler(api.NewRegistry(e.Services()), e.hub, "", lg))
	mux.Handle("/files/", e.FilesHandler())
	return mux
}
