package app

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"atelier/app/index"
)

// recordShell is a Shell that keeps the events it is sent.
type recordShell struct {
	mu     sync.Mutex
	events []ActivityBatch
}

func (r *recordShell) Emit(name string, data any) {
	if name != ActivityEvent {
		return
	}
	r.mu.Lock()
	r.events = append(r.events, data.(ActivityBatch))
	r.mu.Unlock()
}
func (r *recordShell) PickFolder(string) (string, error) { return "", nil }
func (r *recordShell) Show()                             {}
func (r *recordShell) Notify(string, string)             {}

func (r *recordShell) batches() []ActivityBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ActivityBatch(nil), r.events...)
}

// The activity stream is event-driven: a burst of changes goes out as one
// batch about ActivityBatchInterval after its first change, a quiet engine
// sends nothing, and a change after a quiet spell is sent again.
func TestActivityBatchesStartWithAChange(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), true)
	defer e.Close()
	sh := &recordShell{}
	e.SetShell(sh)
	change := func(p string) {
		e.Activity.publish(index.Change{Op: index.OpCreate, Record: index.FileRecord{Project: "p", Path: p}})
	}
	waitBatches := func(n int) []ActivityBatch {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if b := sh.batches(); len(b) >= n {
				return b
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%d activity batches after 10 s, want %d", len(sh.batches()), n)
		return nil
	}
	for i := range 600 {
		change(fmt.Sprintf("burst/%d.wav", i))
	}
	b := waitBatches(1)
	if len(b[0].Items) != maxActivityBatch || b[0].Dropped != 600-maxActivityBatch {
		t.Fatalf("first batch: %d items, %d dropped; want %d and %d", len(b[0].Items), b[0].Dropped, maxActivityBatch, 600-maxActivityBatch)
	}
	time.Sleep(3 * ActivityBatchInterval)
	if n := len(sh.batches()); n != 1 {
		t.Fatalf("%d batches with nothing changing, want the burst's 1", n)
	}
	change("later.wav")
	b = waitBatches(2)
	if len(b[1].Items) != 1 || b[1].Items[0].Path != "later.wav" || b[1].Items[0].Seq != 601 {
		t.Fatalf("second batch: %+v", b[1])
	}
}
