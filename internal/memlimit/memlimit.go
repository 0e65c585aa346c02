// Package memlimit keeps a long-running engine's Go memory near its live
// heap: a soft memory limit (runtime/debug.SetMemoryLimit) that follows the
// live heap after every collection, without a timer. The daemon and the
// desktop app (hidden in the tray) use it.
package memlimit

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Floor is the floor of the soft memory limit (Go's
// heap, stacks and runtime; not the binary's pages or Badger's mmaps): the
// collector runs sooner as the heap nears it and returns to the OS what an
// indexing peak left behind, so an idle engine with 100,000 files stays near
// its live heap instead of twice it. The limit follows the live heap
// (limitHeadroom × live plus the runtime's own memory, never below the
// floor): a fixed 100 MiB made the collector run back to back while a long
// job held more than that live (the first local-history version of 100,000
// files: the Library's browser test took 192 s instead of 58), and so did
// 1.5 × live alone once the heap's fragmentation and the runtime's metadata
// (~35 MB after that version) left the heap no room above its live bytes
// (a collection every 20 ms, 58% of a core, idle). GOMEMLIMIT in the
// environment turns this off.
const (
	Floor         = 100 << 20
	limitHeadroom = 1.5
)

// memoryLimitFor is the soft limit for live heap bytes and overhead, the
// Go memory that is neither heap objects nor free pages the scavenger can
// return (fragmentation, metadata, stacks).
func memoryLimitFor(live, overhead int64) int64 {
	return max(Floor, overhead+int64(float64(live)*limitHeadroom))
}

// memorySamples are what setMemoryLimit reads after each collection.
var memorySamples = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
}

// Start sets the soft limit and follows the live heap until ctx ends.
// GOMEMLIMIT in the environment turns it off.
func Start(ctx context.Context, lg *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := make([]metrics.Sample, len(memorySamples))
	for i, n := range memorySamples {
		sample[i].Name = n
	}
	adjust := func() {
		metrics.Read(sample)
		var v [5]int64
		for i := range sample {
			if sample[i].Value.Kind() == metrics.KindUint64 {
				v[i] = int64(sample[i].Value.Uint64())
			}
		}
		live, total, released, free, objects := v[0], v[1], v[2], v[3], v[4]
		debug.SetMemoryLimit(memoryLimitFor(live, max(0, total-released-free-objects)))
	}
	adjust()
	lg.Debug("soft memory limit", "floor", Floor)
	afterEachGC(ctx, adjust) // no timer: an idle daemon does not wake for it
}

// gcSentinel is garbage on purpose: its finalizer runs after a collection.
type gcSentinel struct{ _ [16]byte }

// afterEachGC runs fn after every garbage collection until ctx ends.
func afterEachGC(ctx context.Context, fn func()) {
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
			if ctx.Err() != nil {
				return
			}
			fn()
			arm()
		})
	}
	arm()
}
