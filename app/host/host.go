// Package host is the vocabulary between the engine (package app) and the
// feature packages under app/ (projects, library, sync, modules, privacy):
// the narrow things a feature is given instead of the engine, in the spirit
// of Tailscale's ipnext.Host. Each feature declares the interface it needs
// from these parts; the engine, in app/wire.go, hands them over.
//
// host knows no feature: it imports only the file index's types.
package host

import (
	"context"
	"fmt"
	"sync"
	"time"

	"atelier/app/index"
)

// Runner runs background work for as long as the engine lives.
type Runner interface {
	// Go runs fn until the engine closes; Close waits for it.
	Go(fn func(ctx context.Context))
	// Context is cancelled when the engine closes.
	Context() context.Context
}

// Emitter sends an event to the desktop frontend and to API subscribers.
type Emitter interface {
	Emit(name string, data any)
}

// Notifier shows a desktop notification for something that needs the creator.
type Notifier interface {
	Notify(title, body string)
}

// Recorder stores a usage event of Atelier's own features (privacy.Usage):
// dropped unless analytics.local is granted.
type Recorder func(event string, fields map[string]any)

// Consent reports whether purpose is currently granted.
type Consent func(purpose string) bool

// Project is a registered project as other features see it.
type Project struct {
	ID   index.ProjectID
	Name string
	Root string // absolute folder
}

// CallContext is the context of one service call: cancelled when the
// caller's ctx ends (an API client that went away, the CLI's Ctrl-C) or
// when life (the engine's context) ends, whichever comes first. Call the
// returned func when done.
func CallContext(life, ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(life, func() { cancel(fmt.Errorf("%w: Atelier is shutting down", context.Canceled)) })
	return ctx, func() { stop(); cancel(nil) }
}

// Throttled returns a func that runs fn at most once per interval: the first
// call runs at once, calls during the interval coalesce into one run after it.
// fn runs on a goroutine of r, so it never outlives the engine.
func Throttled(r Runner, interval time.Duration, fn func()) func() {
	kick := make(chan struct{}, 1)
	var once sync.Once
	return func() {
		once.Do(func() {
			r.Go(func(ctx context.Context) {
				for {
					select {
					case <-ctx.Done():
						return
					case <-kick:
					}
					fn()
					select {
					case <-ctx.Done():
						return
					case <-time.After(interval):
					}
				}
			})
		})
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}
