package app

import (
	"context"
	"os"
	"sync"
	"time"

	"atelier/power"
)

// powerPause holds heavy background work (sync's transfers, the render
// queue) while the machine runs on battery, when the creator asked for it
// in Settings. While the setting is on it reads the power source when the
// kernel announces a power supply change, and every PowerPoll (ten times
// that when the announcements arrive); while it is off, not at all. Sync
// and the Library keep this hold apart from the creator's own pause:
// neither sets nor clears the other.
type powerPause struct {
	dir  string
	poll time.Duration
	kick chan struct{}

	mu     sync.Mutex
	paused bool // the hold is on
}

func newPowerPause(o Options) *powerPause {
	dir := o.PowerSupplyDir
	if dir == "" {
		dir = os.Getenv("ATELIER_POWER_SUPPLY")
	}
	if dir == "" {
		dir = power.SysfsDir
	}
	poll := o.PowerPoll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	return &powerPause{dir: dir, poll: poll, kick: make(chan struct{}, 1)}
}

// start runs the loop in a background engine (the CLI's one-shot engine
// pauses nothing).
func (p *powerPause) start(e *Engine) {
	if !e.opts.Background {
		return
	}
	e.Go(func(ctx context.Context) { p.loop(ctx, e) })
}

// poke makes the loop read the setting and the power source now.
func (p *powerPause) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// onBattery reports whether the hold is on now.
func (p *powerPause) onBattery() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

func (p *powerPause) loop(ctx context.Context, e *Engine) {
	// While the setting is on, the kernel's uevents say when a charger is
	// plugged in or out; polling stays as a safety net (and is all there is
	// where the uevent socket cannot be opened, or for a test's folder).
	var changes <-chan struct{}
	watchFailed := false
	stopWatch := func() {}
	defer func() { stopWatch() }()
	for {
		want := false
		if st, err := e.Settings.stored(); err == nil {
			want = st.PauseOnBattery
		}
		hold := false
		if want {
			on, err := power.Check(p.dir)
			if err != nil {
				e.Log.Warn("power: read the power source", "err", err)
			}
			hold = on
		}
		p.set(e, hold)
		switch {
		case want && changes == nil && !watchFailed && p.dir == power.SysfsDir:
			wctx, cancel := context.WithCancel(ctx)
			c, err := power.Changes(wctx)
			if err != nil {
				cancel()
				watchFailed = true
				e.Log.Debug("power: polling the power source", "every", p.poll, "err", err)
				break
			}
			changes, stopWatch = c, cancel
		case !want && changes != nil:
			stopWatch()
			changes, stopWatch = nil, func() {}
		}
		var t *time.Timer
		var tick <-chan time.Time
		if want {
			every := p.poll
			if changes != nil {
				every = 10 * p.poll
			}
			t = time.NewTimer(every)
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-tick:
		case _, ok := <-changes:
			if !ok { // the socket failed: poll from now on
				stopWatch()
				changes, stopWatch, watchFailed = nil, func() {}, true
			}
		}
		if t != nil {
			t.Stop()
		}
	}
}

// set puts the hold on or off in Sync and the Library (only the loop calls
// it); onBattery says so once both hold.
func (p *powerPause) set(e *Engine, hold bool) {
	if p.onBattery() == hold {
		return
	}
	if hold {
		e.Log.Info("power: on battery; sync and previews paused until the machine is plugged in")
	} else {
		e.Log.Info("power: sync and previews resume")
	}
	e.syncCtl.SetPowerPaused(hold)
	e.libraryCtl.SetPowerPaused(hold)
	p.mu.Lock()
	p.paused = hold
	p.mu.Unlock()
}
