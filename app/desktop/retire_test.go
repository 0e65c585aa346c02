package desktop

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A window hidden for HiddenExitAfter asks Retire; when the work is handed
// over the window process quits without a finishing notice, when it is not
// the window stays hidden, and an Open within the spell keeps it.
func TestHiddenWindowRetiresAfterASpell(t *testing.T) {
	newLife := func(win *fakeWindow, ns *notices, retire func(context.Context) bool) *Lifecycle {
		return &Lifecycle{
			Win:             win,
			Host:            func(context.Context) error { return nil },
			Busy:            func(context.Context) string { return "" },
			Notice:          ns.add,
			HiddenExitAfter: 50 * time.Millisecond,
			Retire:          retire,
		}
	}
	ctx := context.Background()
	waitQuits := func(win *fakeWindow, want int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			if _, _, q := win.counts(); q == want {
				return
			}
			if time.Now().After(deadline) {
				_, _, q := win.counts()
				t.Fatalf("window quits %d, want %d", q, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Handed over: the window process quits, and its close finishes nothing.
	win, ns := &fakeWindow{}, &notices{}
	var asked atomic.Int32
	l := newLife(win, ns, func(context.Context) bool { asked.Add(1); return true })
	if !l.BeforeClose(ctx) {
		t.Fatal("closing with a tray host quit the app")
	}
	waitQuits(win, 1)
	if asked.Load() != 1 || !l.IsRetired() || !l.IsQuitting() {
		t.Fatalf("retire asked %d times, retired %v", asked.Load(), l.IsRetired())
	}
	if l.BeforeClose(ctx) || len(ns.list()) != 0 {
		t.Fatalf("a retired window's close: notices %q", ns.list())
	}

	// Reopened within the spell: it stays.
	win, ns = &fakeWindow{}, &notices{}
	asked.Store(0)
	l = newLife(win, ns, func(context.Context) bool { asked.Add(1); return true })
	l.BeforeClose(ctx)
	l.Open()
	time.Sleep(200 * time.Millisecond)
	if _, _, q := win.counts(); q != 0 || asked.Load() != 0 {
		t.Fatalf("a window opened again within the spell: quits %d, retire asked %d", q, asked.Load())
	}

	// The hand-over failed: the window stays hidden with its work.
	win, ns = &fakeWindow{}, &notices{}
	asked.Store(0)
	l = newLife(win, ns, func(context.Context) bool { asked.Add(1); return false })
	l.BeforeClose(ctx)
	for deadline := time.Now().Add(5 * time.Second); asked.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Retire was never asked")
		}
	}
	time.Sleep(100 * time.Millisecond)
	if _, _, q := win.counts(); q != 0 || !l.IsHidden() || l.IsQuitting() {
		t.Fatalf("a failed hand-over: quits %d, hidden %v, quitting %v", q, l.IsHidden(), l.IsQuitting())
	}

	// Started hidden (at login) counts as hidden too.
	win, ns = &fakeWindow{}, &notices{}
	asked.Store(0)
	l = newLife(win, ns, func(context.Context) bool { asked.Add(1); return true })
	l.Started(ctx, true, time.Second)
	waitQuits(win, 1)

	// Work under way (a sync, a history version): the hand-over waits for
	// a spell in which there is none.
	win, ns = &fakeWindow{}, &notices{}
	asked.Store(0)
	l = newLife(win, ns, func(context.Context) bool { asked.Add(1); return true })
	var busyAsked atomic.Int32
	l.Busy = func(context.Context) string {
		if busyAsked.Add(1) <= 3 {
			return "the sync of Demo EP"
		}
		return ""
	}
	l.BeforeClose(ctx)
	waitQuits(win, 1)
	if b := busyAsked.Load(); b != 4 || asked.Load() != 1 {
		t.Fatalf("busy asked %d times (want 4: three busy spells, then free), retire asked %d", b, asked.Load())
	}
}

func TestHiddenExitAfterFromTheEnvironment(t *testing.T) {
	t.Setenv(HiddenExitAfterEnv, "")
	if d := HiddenExitAfter(nil); d != DefaultHiddenExitAfter {
		t.Errorf("unset: %v", d)
	}
	t.Setenv(HiddenExitAfterEnv, "3s")
	if d := HiddenExitAfter(nil); d != 3*time.Second {
		t.Errorf("3s: %v", d)
	}
	t.Setenv(HiddenExitAfterEnv, "0")
	if d := HiddenExitAfter(nil); d != 0 {
		t.Errorf("0: %v", d)
	}
	t.Setenv(HiddenExitAfterEnv, "soon")
	if d := HiddenExitAfter(nil); d != DefaultHiddenExitAfter {
		t.Errorf("soon: %v", d)
	}
}
