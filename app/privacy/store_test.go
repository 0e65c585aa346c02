package privacy

import (
	"context"
	"errors"
	"testing"
	"time"

	"atelier/localdb"
)

// openStore opens the data dir ("" = in memory) and the store on it; the
// caller closes the db.
func openStore(t testing.TB, dir string) (*Store, *localdb.DB) {
	t.Helper()
	db, err := localdb.Open(dir, localdb.Options{InMemory: dir == "", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(db, Config{AppVersion: "test", Logger: quiet})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return st, db
}

// openTest is openStore closed after the test.
func openTest(t testing.TB, dir string) (*Store, *localdb.DB) {
	t.Helper()
	st, db := openStore(t, dir)
	t.Cleanup(func() { st.Flush(); db.Close() })
	return st, db
}

// reopen closes db and opens dir again, as a restart of the app would.
func reopen(t testing.TB, db *localdb.DB, dir string) (*Store, *localdb.DB) {
	t.Helper()
	db.Close()
	return openTest(t, dir)
}

func TestGrantWithdrawPersists(t *testing.T) {
	dir := t.TempDir()
	st, db := openStore(t, dir)
	ctx := context.Background()
	for _, p := range Purposes() {
		if st.Granted(p.Name) {
			t.Fatalf("%s granted by default", p.Name)
		}
	}
	if _, err := st.Decide(ctx, Decision{Purpose: SyncCloud, Kind: DecisionGrant, Where: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Decide(ctx, Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Decide(ctx, Decision{Purpose: AnalyticsLocal, Kind: DecisionWithdraw, Where: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Decide(ctx, Decision{Purpose: "nope", Kind: DecisionGrant}); err == nil {
		t.Fatal("unknown purpose accepted")
	}
	st, db = reopen(t, db, dir)
	if !st.Granted(SyncCloud) || st.Granted(AnalyticsLocal) {
		t.Fatalf("state after reopen: sync %v analytics %v", st.Granted(SyncCloud), st.Granted(AnalyticsLocal))
	}
	v, err := st.Verify()
	if err != nil || !v.OK || v.Records != 3 {
		t.Fatalf("verify: %+v %v", v, err)
	}
	h, _ := st.History("")
	if len(h) != 3 || h[2].Decision != DecisionWithdraw || h[2].Prev != h[1].Hash {
		t.Fatalf("history %+v", h)
	}
}

func TestRecordDroppedWhenNotGranted(t *testing.T) {
	st, _ := openTest(t, "")
	if err := st.Record("preview.rendered", map[string]any{"kind": "audio"}); !errors.Is(err, ErrNotGranted) {
		t.Fatalf("got %v", err)
	}
	st.Decide(context.Background(), Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant})
	if err := st.Record("preview.rendered", map[string]any{"kind": "audio", "size": 5 << 20, "ms": 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := st.Record("preview.rendered", map[string]any{"path": "/home/x"}); !errors.Is(err, ErrSchema) {
		t.Fatalf("path accepted: %v", err)
	}
	if err := st.Record("preview.rendered", map[string]any{"size": "big"}); !errors.Is(err, ErrSchema) {
		t.Fatalf("text size accepted: %v", err)
	}
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	d, _ := st.Dropped()
	if d[AnalyticsLocal] != 3 {
		t.Fatalf("dropped %v", d)
	}
	if n, _ := st.RawKeyCount(evPrefix); n != 1 {
		t.Fatalf("raw events %d", n)
	}
}

// TestRunWritesAfterAnEventArrives: Run sleeps while nothing arrives and
// writes an event (and a dropped count) FlushEvery after it arrived, with
// no Flush called; again for a second event after an idle spell.
func TestRunWritesAfterAnEventArrives(t *testing.T) {
	db, err := localdb.Open("", localdb.Options{InMemory: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := Open(db, Config{AppVersion: "test", Logger: quiet, FlushEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { st.Run(ctx); close(ran) }()
	defer func() { stop(); <-ran }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not written 10 s after it arrived", what)
			}
		}
	}
	st.Record("preview.rendered", map[string]any{"kind": "audio"}) // not granted: a dropped count
	waitFor("a dropped count", func() bool { d, _ := st.Dropped(); return d[AnalyticsLocal] == 1 })
	st.Decide(ctx, Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant})
	for i := 1; i <= 2; i++ {
		time.Sleep(100 * time.Millisecond) // idle
		if err := st.Record("preview.rendered", map[string]any{"kind": "audio"}); err != nil {
			t.Fatal(err)
		}
		waitFor("an event", func() bool { n, _ := st.RawKeyCount(evPrefix); return n == i })
	}
}
