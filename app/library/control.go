package library

import (
	"context"

	"atelier/app/index"
)

// Control is the engine's side of the Library: its life cycle and the
// changes it is told about. None of it is a bound route.
type Control struct{ s *Service }

// Start runs the render queue and the periodic collection of stale previews.
func (c *Control) Start(ctx context.Context) { c.s.start(ctx) }

// Close stops the settle timers and the render queue.
func (c *Control) Close() error { return c.s.close() }

// Consider takes one index change of the project whose folder is root.
func (c *Control) Consider(root string, ch index.Change) { c.s.consider(root, ch) }

// CacheCleared forgets every stored preview: call it after emptying the cache dir.
func (c *Control) CacheCleared() error { return c.s.cacheCleared() }

// Idle waits until the render queue has nothing pending or running (tests).
func (c *Control) Idle(ctx context.Context) error { return c.s.queue.Idle(ctx) }
