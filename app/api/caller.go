package api

import (
	"context"
	"encoding/json"
	"fmt"
)

// Caller invokes "Service.Method" with args and decodes the result into out
// (nil: drop it). The HTTP Client of a running engine and Local, the
// registry of an engine in this process, both implement it, so the typed
// clients in app/client work the same over either.
type Caller interface {
	Call(ctx context.Context, method string, out any, args ...any) error
}

var (
	_ Caller = (*Client)(nil)
	_ Caller = Local{}
)

// Local calls the registry of an engine in this process with the same JSON
// encoding of arguments and results as the socket, so an in-process call and
// one through the API decode the same way.
type Local struct{ Registry *Registry }

// Call implements Caller.
func (l Local) Call(ctx context.Context, method string, out any, args ...any) error {
	raw := make([]json.RawMessage, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("%s argument %d: %w", method, i+1, err)
		}
		raw[i] = b
	}
	res, err := l.Registry.Call(ctx, method, raw)
	if err != nil {
		return err
	}
	if out == nil || res == nil {
		return nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
