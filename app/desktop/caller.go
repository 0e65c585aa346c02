// Package desktop is the desktop app's glue around the engine, whether the
// app owns the engine or is attached to a running `atelier daemon`: what the
// window's close button does, quitting once the work under way is safe, the
// tray's view of the engine, the one-desktop-per-data-dir lock, and the
// pieces of an attached window (calls, events and files over the socket).
//
// It knows the engine only through a Caller ("Service.Method" with JSON
// arguments), the same surface the CLI and the browser UI use.
package desktop

import (
	"context"
	"encoding/json"
	"fmt"

	"atelier/app/api"
)

// CallFunc runs "Service.Method" with JSON-encoded arguments (the shape of
// api.Registry.Call and app.CallFunc).
type CallFunc = func(ctx context.Context, method string, args []json.RawMessage) (any, error)

// Caller runs "Service.Method" and decodes its result into out (may be nil).
// *api.Client is one; Local makes one of the engine's own registry.
type Caller interface {
	Call(ctx context.Context, method string, out any, args ...any) error
}

// Local is a Caller over an in-process CallFunc (the engine's registry).
func Local(call CallFunc) Caller { return localCaller{call} }

type localCaller struct{ call CallFunc }

func (l localCaller) Call(ctx context.Context, method string, out any, args ...any) error {
	raw := make([]json.RawMessage, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("call %s: argument %d: %w", method, i+1, err)
		}
		raw[i] = b
	}
	res, err := l.call(ctx, method, raw)
	if err != nil || out == nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("call %s: encode the result: %w", method, err)
	}
	return json.Unmarshal(b, out)
}

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
