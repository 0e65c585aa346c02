package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/localdb"
)

// call invokes a service method ("Projects.Add") with args and decodes the
// result into out. It goes through the running engine's socket when one
// answers, and otherwise opens the data directory itself for this one call:
// the same service code runs either way.
func call(ctx context.Context, gopts *globalOptions, method string, out any, args ...any) error {
	d, err := dirs(gopts)
	if err != nil {
		return err
	}
	c, e, err := connect(ctx, d)
	if err != nil {
		return err
	}
	if c != nil {
		return c.Call(ctx, method, out, args...)
	}
	defer e.Close()
	return callEngine(ctx, e, method, out, args...)
}

// lockWait is how long a CLI command waits for the socket of an engine that
// holds the data-dir lock but is still starting (`atelier daemon & atelier status`).
const lockWait = 10 * time.Second

// connect returns a client of the running engine, or an engine opened in this
// process under ctx (so Ctrl-C cancels its work; the caller closes it). When
// the data dir is locked by an engine that does not answer yet, it polls for
// its socket for up to lockWait before giving up.
func connect(ctx context.Context, d app.Dirs) (*api.Client, *app.Engine, error) {
	sock := app.SocketPath(d)
	deadline := time.Now().Add(lockWait)
	for {
		if c, err := api.Dial(sock); err == nil {
			return c, nil, nil
		}
		e, err := app.Open(d, app.Options{Logger: slog.Default(), Context: ctx})
		if err == nil {
			return nil, e, nil
		}
		if !errors.Is(err, localdb.ErrLocked) || time.Now().After(deadline) {
			return nil, nil, err
		}
		slog.Debug("data directory locked; waiting for the engine's socket", "socket", sock)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
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
func engineRunning(gopts *globalOptions) bool {
	d, err := dirs(gopts)
	if err != nil {
		return false
	}
	_, err = api.Dial(app.SocketPath(d))
	return !errors.Is(err, api.ErrNoEngine) && err == nil
}
