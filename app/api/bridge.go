package api

import (
	"context"
	"encoding/json"
)

// The desktop window's way into the services. Wails binds one Bridge,
// which the frontend calls as window.go.api.Bridge.Call("Service.Method",
// args) (Wails v2 cannot bind methods that take a context.Context, and
// long-running methods take one). Its CallFunc is the window's own engine's
// registry (Registry.Call) or, for a window attached to a running engine
// (`atelier daemon`), a call over that engine's socket. This package, not
// the engine's, holds it, so that the window program that only attaches
// (atelier-desktop-view) links no engine.

// CallFunc runs "Service.Method" with JSON-encoded arguments: an engine's
// own registry (Registry.Call), or a running engine over its socket.
type CallFunc = func(ctx context.Context, method string, args []json.RawMessage) (any, error)

// Bridge is the desktop frontend's binding (NewBridge).
type Bridge struct {
	ctx  context.Context
	call CallFunc
}

// NewBridge is the desktop frontend's binding over call, under ctx (a call
// ends when the app quits).
func NewBridge(ctx context.Context, call CallFunc) *Bridge {
	return &Bridge{ctx: ctx, call: call}
}

// Call invokes "Service.Method" with JSON-encoded args. It answers the
// local API's body, Reply, rather than a Go error (which Wails would hand
// the frontend as a bare string): the result, or the error with its kind
// and the message meant for the app, so both transports give the frontend
// one shape.
func (b *Bridge) Call(method string, args []json.RawMessage) Reply {
	res, err := b.call(b.ctx, method, args)
	if err != nil {
		return ErrorReply(err)
	}
	return Reply{Result: res}
}

// FocusEvent asks a desktop window attached to an engine to show itself:
// a second launch of the desktop app calls Window.Focus, and an engine with
// no window of its own (`atelier daemon`) passes it on to attached windows.
const FocusEvent = "window.focus"

// QuitEvent tells the desktop windows attached to an engine that shows its
// own status icon (`atelier daemon --tray`) that the app quits: they close.
const QuitEvent = "app.quit"

// WindowInfo (the Window.Info method) says what a window attached to an
// engine needs to know.
type WindowInfo struct {
	// Tray: the engine shows its own status icon and quits with the app
	// (`atelier daemon --tray`); false for a window's own engine and for a
	// plain `atelier daemon` the creator runs (e.g. the systemd unit).
	Tray bool `json:"tray"`
}
