package library

import (
	"context"
	"math"

	"atelier/app/index"
	"atelier/app/preview"
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

// SetPowerPaused holds renders back while the machine runs on battery (on;
// the one under way finishes) or lets them go on (off).
func (c *Control) SetPowerPaused(on bool) {
	if c.s.setPowerHold(on) {
		c.s.emitPr()
	}
}

// CacheCleared forgets every stored preview: call it after emptying the cache dir.
func (c *Control) CacheCleared() error { return c.s.cacheCleared() }

// Idle waits until the render queue has nothing pending or running (tests).
func (c *Control) Idle(ctx context.Context) error { return c.s.queue.Idle(ctx) }

// PreviewFacts is what the Library rendered of one content of a file (by
// its name and SHA-256, hex): its duration, integrated loudness (nil when
// silent or not measurable) and the absolute path of its PNG waveform; ok
// is false when nothing ready was rendered of that content. Local history
// asks it for the versions and diffs it shows.
func (c *Control) PreviewFacts(p, sha256 string) (duration float64, lufs *float64, waveform string, ok bool) {
	k := previewable(p)
	if k == "" || sha256 == "" {
		return 0, nil, "", false
	}
	m, found := c.s.metaOf(preview.Key{Hash: sha256, Kind: k, Params: preview.DefaultParams(k)})
	if !found || m.Status != "ready" {
		return 0, nil, "", false
	}
	if m.Audio != nil {
		duration = m.Audio.Duration
	}
	if m.Loudness != nil && !m.Loudness.Silent && m.Loudness.NotMeasurable == "" {
		v := math.Round(m.Loudness.Integrated*10) / 10
		lufs = &v
	}
	return duration, lufs, m.Files["waveform"], true
}
