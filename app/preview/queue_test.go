package preview

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func key(n int) Key {
	return Key{Hash: fmt.Sprintf("%064x", n), Kind: Audio, Params: DefaultParams(Audio)}
}

type fakeRenderer struct {
	mu      sync.Mutex
	order   []string
	running atomic.Int32
	maxRun  atomic.Int32
	gate    chan struct{} // each render waits for one token (nil: no wait)
}

func (f *fakeRenderer) render(ctx context.Context, j Job, _ int) (Meta, error) {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxRun.Load()
		if n <= m || f.maxRun.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.order = append(f.order, j.Tag)
	f.mu.Unlock()
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return Meta{}, ctx.Err()
		}
	}
	return Meta{ID: j.Key.ID(), Status: "ready"}, nil
}

func collectDone() (func(Done), func() []Done) {
	var mu sync.Mutex
	var ds []Done
	return func(d Done) {
			mu.Lock()
			ds = append(ds, d)
			mu.Unlock()
		}, func() []Done {
			mu.Lock()
			defer mu.Unlock()
			return append([]Done(nil), ds...)
		}
}

// startQueue starts a queue of workers running render and collects what it
// reports done; the queue is closed and its context cancelled after the test.
func startQueue(t *testing.T, workers int, render func(context.Context, Job, int) (Meta, error)) (*Queue, func() []Done) {
	t.Helper()
	done, got := collectDone()
	q := NewQueue(workers, render, done)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { q.Close(); cancel() })
	q.Start(ctx)
	return q, got
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestQueueBoundedParallelism(t *testing.T) {
	f := &fakeRenderer{gate: make(chan struct{})}
	q, got := startQueue(t, 2, f.render)
	for i := 0; i < 6; i++ {
		q.Add(Job{Key: key(i), Tag: fmt.Sprint(i)})
	}
	waitFor(t, "two running", func() bool { return f.running.Load() == 2 })
	if s := q.Stats(); s.Running != 2 || s.Pending != 4 {
		t.Fatalf("stats %+v", s)
	}
	for i := 0; i < 6; i++ {
		f.gate <- struct{}{}
	}
	waitFor(t, "all done", func() bool { return len(got()) == 6 })
	if m := f.maxRun.Load(); m != 2 {
		t.Fatalf("%d renders ran at once, want 2", m)
	}
	q.Close()
}

func TestQueuePrioritiesAndBump(t *testing.T) {
	f := &fakeRenderer{gate: make(chan struct{})}
	q, got := startQueue(t, 1, f.render)
	q.Add(Job{Key: key(0), Tag: "first"})
	waitFor(t, "first running", func() bool { return f.running.Load() == 1 })
	q.Add(Job{Key: key(1), Tag: "low", Priority: 0})
	q.Add(Job{Key: key(2), Tag: "high", Priority: 10})
	q.Add(Job{Key: key(3), Tag: "small", Priority: 0, Size: 1})
	q.Add(Job{Key: key(4), Tag: "visible", Priority: 0})
	if n := q.Bump([]string{"visible"}, 100); n != 1 {
		t.Fatalf("bumped %d", n)
	}
	for i := 0; i < 5; i++ {
		f.gate <- struct{}{}
	}
	waitFor(t, "all done", func() bool { return len(got()) == 5 })
	want := []string{"first", "visible", "high", "low", "small"}
	// equal priority: smaller first (Size 0 < 1), then age.
	want = []string{"first", "visible", "high", "low", "small"}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range want {
		if f.order[i] != want[i] {
			t.Fatalf("order %v, want %v", f.order, want)
		}
	}
}

func TestQueueDedupe(t *testing.T) {
	f := &fakeRenderer{gate: make(chan struct{})}
	q, got := startQueue(t, 2, f.render)
	if !q.Add(Job{Key: key(7), Tag: "a/x.wav"}) {
		t.Fatal("first add refused")
	}
	if q.Add(Job{Key: key(7), Tag: "a/copy.wav"}) {
		t.Fatal("duplicate pending job accepted")
	}
	waitFor(t, "running", func() bool { return f.running.Load() == 1 })
	if q.Add(Job{Key: key(7), Tag: "b/another.wav"}) {
		t.Fatal("duplicate in-flight job accepted")
	}
	f.gate <- struct{}{}
	waitFor(t, "done", func() bool { return len(got()) == 1 })
	d := got()[0]
	if len(d.Tags) != 3 {
		t.Fatalf("tags %v, want all three copies", d.Tags)
	}
	if len(f.order) != 1 {
		t.Fatalf("rendered %d times", len(f.order))
	}
}

func TestQueueCancel(t *testing.T) {
	f := &fakeRenderer{gate: make(chan struct{})}
	q, got := startQueue(t, 1, f.render)
	q.Add(Job{Key: key(1), Tag: "running"})
	waitFor(t, "running", func() bool { return f.running.Load() == 1 })
	q.Add(Job{Key: key(2), Tag: "pending"})
	q.Add(Job{Key: key(2), Tag: "pending-copy"})
	q.Forget(key(2), "pending")
	if !q.Pending(key(2)) {
		t.Fatal("job dropped while a copy still wants it")
	}
	q.Forget(key(2), "pending-copy")
	if q.Pending(key(2)) {
		t.Fatal("job nobody wants is still pending")
	}
	q.Forget(key(1), "running") // the file changed again: cancel the render
	waitFor(t, "cancelled", func() bool { return len(got()) == 1 })
	if d := got()[0]; !errors.Is(d.Err, context.Canceled) {
		t.Fatalf("running job ended with %v, want cancellation", d.Err)
	}
	if s := q.Stats(); s.Canceled != 2 || s.Pending != 0 || s.Running != 0 {
		t.Fatalf("stats %+v", s)
	}
	q.Close()
	if q.Add(Job{Key: key(3), Tag: "late"}) {
		t.Fatal("closed queue accepted a job")
	}
}

func TestQueueRecoversPanics(t *testing.T) {
	q, got := startQueue(t, 1, func(context.Context, Job, int) (Meta, error) { panic("boom") })
	q.Add(Job{Key: key(1), Tag: "x"})
	waitFor(t, "done", func() bool { return len(got()) == 1 })
	if got()[0].Err == nil {
		t.Fatal("panic not reported as an error")
	}
	q.Close()
}

// A job cancelled while running (its file changed) and wanted again before it
// ends is rendered anew, not joined to the cancelled run that ends without a result.
func TestReAddAfterCancelRendersAgain(t *testing.T) {
	f := &fakeRenderer{gate: make(chan struct{})}
	q, got := startQueue(t, 1, f.render)
	k := key(7)
	q.Add(Job{Key: k, Tag: "p/a.wav", Priority: 1})
	for f.running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	q.Forget(k, "p/a.wav")
	if !q.Add(Job{Key: k, Tag: "p/a.wav", Priority: 1}) {
		t.Fatal("re-adding a cancelled running job joined it instead of queueing a new one")
	}
	close(f.gate)
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds := got()
		ok := false
		for _, d := range ds {
			if d.Err == nil && d.Meta.Status == "ready" {
				ok = true
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful render after re-add: %+v", ds)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The queue never runs more estimated decode memory at once than its limit
// (issue 11, item 12): big jobs wait for each other, a job over the limit
// runs alone, small ones run beside each other.
func TestQueueBoundsMemory(t *testing.T) {
	cost := map[string]int64{"a": 600, "b": 600, "c": 300, "d": 300, "e": 5000, "f": 100}
	var mu sync.Mutex
	var inUse, peak int64
	render := func(ctx context.Context, j Job, _ int) (Meta, error) {
		c := min(cost[j.Tag], 1000)
		mu.Lock()
		inUse += c
		peak = max(peak, inUse)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inUse -= c
		mu.Unlock()
		return Meta{ID: j.Key.ID(), Status: "ready"}, nil
	}
	var done atomic.Int32
	q := NewQueue(6, render, func(Done) { done.Add(1) })
	q.LimitMemory(1000, func(j Job) int64 { return cost[j.Tag] })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q.Start(ctx)
	i := 0
	for tag := range cost {
		i++
		q.Add(Job{Key: key(i), Tag: tag})
	}
	if err := q.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); done.Load() < int32(len(cost)) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if done.Load() != int32(len(cost)) {
		t.Fatalf("%d of %d jobs done", done.Load(), len(cost))
	}
	if peak > 1000 {
		t.Fatalf("running jobs held %d bytes at once, over the limit of 1000", peak)
	}
	if peak < 400 {
		t.Fatalf("peak %d: small jobs never ran side by side", peak)
	}
}
