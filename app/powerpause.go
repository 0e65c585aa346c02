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
// in Settings. It reads the power source every PowerPoll while the setting
// is on and not at all while it is off. Sync and the Library keep this hold
// apart from the creator's own pause: neither sets nor clears the other.
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
		var t *time.Timer
		var tick <-chan time.Time
		if want {
			t = time.NewTimer(p.poll)
			tick = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-tick:
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
