package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"atelier/app"
	"atelier/app/api"
)

// call invokes a service method ("Projects.Add") with args and decodes the
// result into out. It goes through the running engine's socket when one
// answers, and otherwise opens the data directory itself for this one call:
// the same service code runs either way.
func call(ctx context.Context, method string, out any, args ...any) error {
	d, err := dirs()
	if err != nil {
		return err
	}
	if c, err := api.Dial(app.SocketPath(d)); err == nil {
		return c.Call(ctx, method, out, args...)
	}
	e, err := app.Open(d, app.Options{Logger: slog.Default()})
	if err != nil {
		return err
	}
	defer e.Close()
	return callEngine(ctx, e, method, out, args...)
}

// callEngine calls a method on an engine in this process through the same
// registry the API serves, so argument and result encoding match exactly.
func callEngine(ctx context.Context, e *app.Engine, method string, out any, args ...any) error {
	raw := make([]json.RawMessage, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("%s argument %d: %w", method, i+1, err)
		}
		raw[i] = b
	}
	res, err := api.NewRegistry(e.Services()).Call(ctx, method, raw)
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

// engineRunning reports whether an engine answers for the current data dir.
func engineRunning() bool {
	d, err := dirs()
	if err != nil {
		return false
	}
	_, err = api.Dial(app.SocketPath(d))
	return !errors.Is(err, api.ErrNoEngine) && err == nil
}
