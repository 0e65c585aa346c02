package memlimit

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// TestAfterEachGC: the hook runs after collections (no timer) and stops with
// its context.
func TestAfterEachGC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	afterEachGC(ctx, func() { n.Add(1) })
	wait := func(want int32) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); n.Load() < want; {
			if time.Now().After(deadline) {
				t.Fatalf("the hook ran %d times after %d collections", n.Load(), want)
			}
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait(1)
	wait(3)
	cancel()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	before := n.Load()
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if n.Load() > before+1 { // at most the one already armed
		t.Fatalf("the hook ran %d more times after its context ended", n.Load()-before)
	}
}

// TestMemoryLimitFollowsLiveHeap: the daemon's soft limit is the floor while
// the live heap is small and grows with a larger one (so the collector never
// runs back to back); GOMEMLIMIT turns it off.
func TestMemoryLimitFollowsLiveHeap(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv("GOMEMLIMIT", "")
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	Start(ctx, lg)
	runtime.GC()
	if got := debug.SetMemoryLimit(-1); got != Floor {
		t.Fatalf("limit with a small heap: %d, want the floor %d", got, Floor)
	}
	big := make([][]byte, 100) // 200 MiB live
	for i := range big {
		big[i] = make([]byte, 2<<20)
		big[i][0] = 1
	}
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) < 250<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("limit with 200 MiB live: %d MiB, want ≥ 250 MiB", debug.SetMemoryLimit(-1)>>20)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(big)
	cancel()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)

	debug.SetMemoryLimit(old)
	t.Setenv("GOMEMLIMIT", "off")
	Start(context.Background(), lg)
	if got := debug.SetMemoryLimit(-1); got != old {
		t.Fatalf("GOMEMLIMIT set: the limit changed to %d", got)
	}
}

// TestMemoryLimitLeavesTheHeapRoom: the limit leaves the heap limitHeadroom
// × its live bytes above the runtime's own memory, so a heap of 73 MB live
// with 37 MB of fragmentation and metadata is not collected back to back
// (a limit of 1.5 × live alone left it a goal equal to its live bytes).
func TestMemoryLimitLeavesTheHeapRoom(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct{ live, overhead, want int64 }{
		{10 * mb, 5 * mb, Floor},
		{73 * mb, 37 * mb, 37*mb + 73*mb*3/2},
		{200 * mb, 0, 300 * mb},
	} {
		got := memoryLimitFor(c.live, c.overhead)
		if got != c.want {
			t.Errorf("live %d MiB, overhead %d MiB: limit %d MiB, want %d MiB", c.live/mb, c.overhead/mb, got/mb, c.want/mb)
		}
		if got-c.overhead < c.live*3/2 {
			t.Errorf("live %d MiB, overhead %d MiB: the heap's room under the limit is %d MiB", c.live/mb, c.overhead/mb, (got-c.overhead)/mb)
		}
	}
}
