// Package desktop is the desktop app's glue around the engine, whether the
// app owns the engine or is attached to a running `atelier daemon`: what the
// window's close button does, quitting once the work under way is safe, the
// tray's view of the engine, the one-desktop-per-data-dir lock, and the
// pieces of an attached window (calls, events and files over the socket).
//
// It knows the engine only through an api.Caller ("Service.Method" with
// JSON arguments: api.Local in process, api.Client over the socket), the
// same surface the CLI and the browser UI use.
package desktop

import (
	"context"
	"encoding/json"

	"atelier/app/api"
)

// CallFunc runs "Service.Method" with JSON-encoded arguments (what the
// window's api.Bridge calls).
type CallFunc = api.CallFunc

// LocalMethod answers one "Service.Method" in the desktop app itself
// instead of on the engine it is attached to (a native folder dialog must
// open where the window is, not in a headless daemon).
type LocalMethod = func(ctx context.Context, args []json.RawMessage) (any, error)

// Remote is the CallFunc of a window attached to the engine c reaches: each
// call goes over the socket, except the methods in local. The result is the
// engine's JSON as it came; errors keep their kind (api.ReplyError).
func Remote(c *api.Client, local map[string]LocalMethod) CallFunc {
	return func(ctx context.Context, method string, args []json.RawMessage) (any, error) {
		if fn, ok := local[method]; ok {
			return fn(ctx, args)
		}
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a
		}
		var out json.RawMessage
		if err := c.Call(ctx, method, &out, in...); err != nil {
			return nil, err
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
}
