package modules

import (
	"context"
)

// Control is the engine's side of the modules feature: its life cycle.
// None of it is a bound route.
type Control struct{ s *Service }

// Start removes the staging folders a crash mid-install left behind.
func (c *Control) Start(ctx context.Context) { c.s.start(ctx) }

// Close has nothing to release today; the engine calls it in order.
func (c *Control) Close() error { return c.s.close() }
