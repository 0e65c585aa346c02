package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func collect(t *testing.T, root string, opt Options) (<-chan Batch, context.CancelFunc) {
	t.Helper()
	w := New(root, opt)
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Batch, 1000)
	go w.Run(ctx, func(b Batch) { ch <- b })
	select {
	case b := <-ch:
		if !b.Full {
			t.Fatalf("first batch should be the full scan, got %+v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watcher did not start")
	}
	return ch, cancel
}

func waitFor(t *testing.T, ch <-chan Batch, what string, ok func(Batch) bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case b := <-ch:
			if ok(b) {
				return
			}
		case <-deadline:
			t.Fatalf("no batch with %s", what)
		}
	}
}

// Files created in a new directory before its watch exists are still reported:
// the new directory is walked once its watch is in place.
func TestNewDirectoryIsWalked(t *testing.T) {
	root := t.TempDir()
	ch, cancel := collect(t, root, Options{})
	defer cancel()
	deep := filepath.Join(root, "a", "b", "c")
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(deep, "early.wav"), []byte("x"), 0o644)
	waitFor(t, ch, "the new tree", func(b Batch) bool {
		return slices.ContainsFunc(b.Paths, func(p string) bool { return p == "a" || p == "a/b/c/early.wav" })
	})
	// A file created later inside the new tree comes as an event of its own.
	time.Sleep(100 * time.Millisecond)
	os.WriteFile(filepath.Join(deep, "late.wav"), []byte("x"), 0o644)
	waitFor(t, ch, "late.wav", func(b Batch) bool { return slices.Contains(b.Paths, "a/b/c/late.wav") })
}

// Many writes to one file within the debounce arrive as one path; a file
// written continuously is still reported within the maximum delay.
func TestDebounceAndMaxDelay(t *testing.T) {
	root := t.TempDir()
	ch, cancel := collect(t, root, Options{Debounce: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond})
	defer cancel()
	p := filepath.Join(root, "render.wav")
	stop := time.Now().Add(1500 * time.Millisecond)
	got := 0
	done := make(chan struct{})
	go func() {
		for time.Now().Before(stop) {
			os.WriteFile(p, []byte(time.Now().String()), 0o644)
			time.Sleep(20 * time.Millisecond)
		}
		close(done)
	}()
	<-done
	timeout := time.After(2 * time.Second)
loop:
	for {
		select {
		case b := <-ch:
			if slices.Contains(b.Paths, "render.wav") {
				got++
			}
		case <-timeout:
			break loop
		}
	}
	// ~75 writes in 1.5 s: reported every ~400 ms while busy, then once after.
	if got < 2 || got > 8 {
		t.Fatalf("render.wav reported %d times", got)
	}
}

// A storm of paths collapses to their directories.
func TestStormCollapsesToDirectories(t *testing.T) {
	w := New(t.TempDir(), Options{Storm: 100})
	now := time.Now().Add(-time.Hour)
	for i := range 1000 {
		w.mark(fmt.Sprintf("takes/day%d/t%04d.wav", i%3, i), now)
	}
	b, ok := w.due(time.Now())
	if !ok || len(b.Paths) > 25 {
		t.Fatalf("storm not collapsed: %d paths", len(b.Paths))
	}
	for _, p := range b.Paths {
		if p != "takes/day0" && p != "takes/day1" && p != "takes/day2" {
			t.Fatalf("unexpected path %q", p)
		}
	}
}

// When the kernel's event queue overflows (a busy consumer, a storm of
// changes), the watcher asks for a full rescan.
func TestKernelQueueOverflowRequestsRescan(t *testing.T) {
	root := t.TempDir()
	w := New(root, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	batches := make(chan Batch, 100)
	release := make(chan struct{})
	calls := 0
	go w.Run(ctx, func(b Batch) {
		calls++
		batches <- b
		if calls == 2 {
			<-release // a slow consumer: events pile up in the kernel queue
		}
	})
	<-batches
	os.WriteFile(filepath.Join(root, "wake"), nil, 0o644)
	<-batches
	// The default queue holds 16,384 events (fs.inotify.max_queued_events).
	for i := range 20000 {
		os.WriteFile(filepath.Join(root, fmt.Sprintf("f%05d", i)), []byte("x"), 0o644)
	}
	close(release)
	waitFor(t, batches, "a full rescan", func(b Batch) bool { return b.Full })
}

func TestPollingFallback(t *testing.T) {
	root := t.TempDir()
	w := New(root, Options{Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan Batch, 100)
	go w.Run(ctx, func(b Batch) { ch <- b })
	n := 0
	timeout := time.After(2 * time.Second)
	for n < 3 {
		select {
		case b := <-ch:
			if b.Full {
				n++
			}
		case <-timeout:
			t.Fatalf("polling gave %d full scans", n)
		}
	}
	if !w.Polling() {
		t.Fatal("Polling() is false")
	}
}

// The debounce ticker stops once nothing is pending (an idle watcher sleeps
// on the kernel's events) and starts again with the next change: changes
// after quiet spells are each reported, and nothing is reported between them.
func TestQuietWatcherWakesOnChange(t *testing.T) {
	root := t.TempDir()
	ch, cancel := collect(t, root, Options{Debounce: 40 * time.Millisecond})
	defer cancel()
	for i := range 3 {
		time.Sleep(300 * time.Millisecond) // quiet: the ticker stops
		select {
		case b := <-ch:
			t.Fatalf("a batch with nothing changing: %+v", b)
		default:
		}
		name := fmt.Sprintf("take%d.wav", i)
		os.WriteFile(filepath.Join(root, name), []byte("x"), 0o644)
		waitFor(t, ch, name, func(b Batch) bool { return slices.Contains(b.Paths, name) })
	}
}
