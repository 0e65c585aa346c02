package syncsvc

import (
	"context"

	"atelier/app/index"
)

// Control is the engine's side of Sync: its life cycle, the changes it is
// told about and the erase of its data. None of it is a bound route.
type Control struct{ s *Service }

// Start runs the background loop that empties the outbox.
func (c *Control) Start(ctx context.Context) { c.s.start(ctx) }

// Close has nothing to release today; the engine calls it in order.
func (c *Control) Close() error { return c.s.close() }

// Consider adds the changes the projects' rules select to the outbox.
func (c *Control) Consider(changes []index.Change) { c.s.consider(changes) }

// EraseCloudData deletes what Sync keeps under the "sync.cloud" consent:
// the outbox, the remotes' local state, the last runs and the conflicts.
// The engine registers it as that purpose's erase hook.
func (c *Control) EraseCloudData(ctx context.Context) error {
	for _, p := range syncErasable() {
		if err := c.s.db.DropPrefix(p); err != nil {
			return err
		}
	}
	return nil
}

// SetPowerPaused holds transfers and background runs while the machine is
// on battery (on) or lets them go on (off), without touching the
// creator's own pause: sync resumes only when neither holds it.
func (c *Control) SetPowerPaused(on bool) {
	s := c.s
	_, was := s.pausedFor()
	if was == on {
		return
	}
	s.setPaused(func() { s.powerPaused = on })
	if !on {
		s.poke()
	}
	s.emitStatus()
}

// SetSecrets replaces the OS keyring (tests, and hosts without one).
func (c *Control) SetSecrets(st SecretStore) { c.s.secrets = st }

// SetGOOS makes files written here follow the file-name rules of goos (tests).
func (c *Control) SetGOOS(goos string) { c.s.goos = goos }

// LimiterRate is the bandwidth limit in force for remote's transfers, in
// bytes per second (0: none, or no transfer yet).
func (c *Control) LimiterRate(remote string) int64 {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if l := c.s.limiters[remote]; l != nil {
		return l.Rate()
	}
	return 0
}
