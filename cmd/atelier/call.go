package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/app/client"
	"atelier/localdb"
)

// do runs fn with the typed client of the engine for the current data dir:
// the running engine's socket when one answers, and otherwise an engine
// opened in this process for this one command (closed when fn returns). The
// same service code runs either way, through the same registry.
func do(ctx context.Context, gopts *globalOptions, fn func(c *client.Client) error) error {
	d, err := dirs(gopts)
	if err != nil {
		return err
	}
	c, e, err := connect(ctx, d)
	if err != nil {
		return err
	}
	if c != nil {
		return fn(client.New(c))
	}
	defer e.Close()
	return fn(client.New(local(e)))
}

// local is the in-process caller of e: its registry, with the API's JSON
// encoding of arguments and results.
func local(e *app.Engine) api.Caller { return api.Local{Registry: api.NewRegistry(e.Services())} }

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

// engineRunning reports whether an engine answers for the current data dir.
func engineRunning(gopts *globalOptions) bool {
	d, err := dirs(gopts)
	if err != nil {
		return false
	}
	_, err = api.Dial(app.SocketPath(d))
	return !errors.Is(err, api.ErrNoEngine) && err == nil
}
