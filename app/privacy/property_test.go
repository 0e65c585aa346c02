package privacy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"atelier/localdb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeClock is a settable clock for tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func openClock(t testing.TB, c *fakeClock) (*Store, *localdb.DB) {
	t.Helper()
	db, err := localdb.Open("", localdb.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(db, Config{AppVersion: "test", Logger: quiet, Now: c.now, FlushSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return st, db
}

// storedEvents decodes every raw event block.
func storedEvents(t testing.TB, st *Store) []RawEvent {
	t.Helper()
	var out []RawEvent
	err := st.db.ViewRaw(func(txn *badger.Txn) error {
		return iteratePrefix(txn, evPrefix, func(k, v []byte) error {
			p, base, err := blockKeyTime(k)
			if err != nil {
				return err
			}
			_, err = decodeBlock(p, base, v, func(e RawEvent) { out = append(out, e) })
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rollupTotal sums the daily totals of every metric of purpose.
func rollupTotal(t testing.TB, st *Store, purpose, gran string) uint64 {
	t.Helper()
	var n uint64
	err := st.db.ViewRaw(func(txn *badger.Txn) error {
		return iteratePrefix(txn, rollPrefix+purpose+"/"+gran+"/", func(k, v []byte) error {
			_, _, _, dim, _, ok := splitRollupKey(string(k))
			if !ok {
				return fmt.Errorf("bad key %q", k)
			}
			if dim == "" {
				rv, err := decodeRoll(v)
				if err != nil {
					return err
				}
				n += rv.Count
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type interval struct{ from, to time.Time }

// TestPropertyConsent: for random sequences of grants, withdrawals, erasures,
// events, experiment exposures and flushes, nothing is ever stored or rolled
// up for a purpose that was not granted when it happened, the stored counts
// match a model exactly, and erasing leaves no raw key under the prefixes.
func TestPropertyConsent(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { propertyRun(t, seed) })
	}
}

func propertyRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Hour)} // Badger TTLs follow the wall clock
	st, _ := openClock(t, clock)
	ctx := context.Background()
	granted := map[string]bool{}
	grantedAt := map[string][]interval{}
	open := map[string]time.Time{}
	var buffered, stored int // analytics.local events in the model
	var exposures int64      // experiment exposures in the model
	xpReady := false
	events := []string{"preview.rendered", "project.added", "view.opened", "sync.run", "module.installed"}
	purposes := []string{AnalyticsLocal, Experiments, AnalyticsShare, SyncCloud}
	for step := 0; step < 300; step++ {
		clock.t = clock.t.Add(time.Duration(rng.IntN(90)+1) * time.Minute)
		switch r := rng.IntN(100); {
		case r < 10: // grant
			p := purposes[rng.IntN(len(purposes))]
			if _, err := st.Decide(ctx, Decision{Purpose: p, Kind: DecisionGrant, Where: "test"}); err != nil {
				t.Fatal(err)
			}
			if !granted[p] {
				open[p] = clock.t
			}
			granted[p] = true
		case r < 18: // withdraw, sometimes erasing
			p := purposes[rng.IntN(len(purposes))]
			erase := rng.IntN(2) == 0
			if _, err := st.Decide(ctx, Decision{Purpose: p, Kind: DecisionWithdraw, Where: "test", Erase: erase}); err != nil {
				t.Fatal(err)
			}
			if granted[p] {
				grantedAt[p] = append(grantedAt[p], interval{open[p], clock.t})
			}
			granted[p] = false
			if p == AnalyticsLocal {
				buffered = 0
				if erase {
					stored = 0
				}
			}
			if p == Experiments && erase {
				exposures, xpReady = 0, false
			}
			if erase {
				checkErased(t, st, p)
			}
		case r < 21: // erase without withdrawing
			p := purposes[rng.IntN(len(purposes))]
			if _, err := st.Erase(ctx, p); err != nil {
				t.Fatal(err)
			}
			if p == AnalyticsLocal {
				buffered, stored = 0, 0
			}
			if p == Experiments {
				exposures, xpReady = 0, false
			}
			checkErased(t, st, p)
		case r < 30:
			if err := st.Flush(); err != nil {
				t.Fatal(err)
			}
			stored += buffered
			buffered = 0
		case r < 38: // experiments
			if !xpReady && granted[Experiments] {
				if _, err := st.CreateExperiment(NewExperiment{Name: "price", Variants: []Variant{{Name: "a"}, {Name: "b"}}}); err != nil {
					t.Fatal(err)
				}
				xpReady = true
			}
			if xpReady {
				a, err := st.Expose("price", fmt.Sprint(rng.IntN(1000)))
				if err != nil {
					t.Fatal(err)
				}
				if a.Recorded != granted[Experiments] {
					t.Fatalf("exposure recorded=%v while granted=%v", a.Recorded, granted[Experiments])
				}
				if a.Recorded {
					exposures++
				}
			}
		default: // a burst of events (may trigger inline flushes)
			n := rng.IntN(100) + 1
			for i := 0; i < n; i++ {
				clock.t = clock.t.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
				err := st.Record(events[rng.IntN(len(events))], map[string]any{})
				if granted[AnalyticsLocal] != (err == nil) {
					t.Fatalf("step %d: record while granted=%v returned %v", step, granted[AnalyticsLocal], err)
				}
				if err == nil {
					buffered++
					if buffered >= 64 { // FlushSize: flushed inline
						stored += buffered
						buffered = 0
					}
				}
			}
		}
		if step%25 == 0 || step == 299 {
			if err := st.Flush(); err != nil {
				t.Fatal(err)
			}
			stored += buffered
			buffered = 0
			checkModel(t, st, stored, exposures, xpReady, grantedAt[AnalyticsLocal], granted[AnalyticsLocal], open[AnalyticsLocal])
		}
	}
	v, err := st.Verify()
	if err != nil || !v.OK {
		t.Fatalf("ledger: %+v %v", v, err)
	}
}

func checkModel(t *testing.T, st *Store, stored int, exposures int64, xpReady bool, ivs []interval, grantedNow bool, since time.Time) {
	t.Helper()
	evs := storedEvents(t, st)
	if len(evs) != stored {
		t.Fatalf("stored %d events, model says %d", len(evs), stored)
	}
	for _, e := range evs {
		ok := grantedNow && !e.Time.Before(since)
		for _, iv := range ivs {
			ok = ok || (!e.Time.Before(iv.from) && e.Time.Before(iv.to))
		}
		if !ok {
			t.Fatalf("event %s at %s stored outside any grant of %s", e.Event, e.Time, AnalyticsLocal)
		}
	}
	for _, g := range []string{Hour, Day, Month} {
		if n := rollupTotal(t, st, AnalyticsLocal, g); n != uint64(stored) {
			t.Fatalf("%s rollups count %d events, model says %d", g, n, stored)
		}
	}
	if xpReady {
		x, err := st.ShowExperiment("price")
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range x.Results {
			n += r.Exposures
		}
		if n != exposures {
			t.Fatalf("experiment counts %d exposures, model says %d", n, exposures)
		}
	}
}

func checkErased(t *testing.T, st *Store, purpose string) {
	t.Helper()
	ps, err := ErasePrefixes(purpose)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		n, err := st.RawKeyCount(p)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("erase %s left %d raw keys under %s", purpose, n, p)
		}
	}
}
