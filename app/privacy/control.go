package privacy

import (
	"context"
	"errors"
)

// Control is the engine's side of the privacy feature: its life cycle and
// what the other features are handed (a usage recorder, a consent check)
// or register (erase hooks). None of it is a bound route.
type Control struct{ s *Service }

// Start runs the event store's background flushing and rollups.
func (c *Control) Start(ctx context.Context) { c.s.host.Go(c.s.store.Run) }

// Close writes the events still buffered.
func (c *Control) Close() error { return c.s.store.Flush() }

// Record stores a usage event of Atelier's own features when analytics.local
// is granted (dropped and counted otherwise). fields follow the event's
// allow-listed schema (Events): enums, booleans, and numbers that are
// bucketed; never names, paths or free text. A call that does not match
// the schema is logged once per event name.
func (c *Control) Record(event string, fields map[string]any) {
	s := c.s
	if err := s.store.Record(event, fields); err != nil && !errors.Is(err, ErrNotGranted) {
		if _, seen := s.warned.LoadOrStore(event, struct{}{}); !seen {
			s.log.Warn("usage event rejected (fix the call to match privacy.Events; counted as dropped)", "event", event, "err", err)
		}
	}
}

// Granted reports whether purpose is currently granted.
func (c *Control) Granted(purpose string) bool { return c.s.store.Granted(purpose) }

// OnErase registers fn to erase data another feature keeps under purpose.
func (c *Control) OnErase(purpose string, fn func(ctx context.Context) error) {
	c.s.store.OnErase(purpose, fn)
}

func (s *Service) record(event string, fields map[string]any) { (&Control{s: s}).Record(event, fields) }
