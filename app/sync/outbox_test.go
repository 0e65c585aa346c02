package syncsvc

import (
	"testing"
	"time"

	"atelier/localdb"
)

// Entries written before the outbox became a pending flag carry op, path
// and size: they must still count as pending and be cleared by a run.
func TestOutboxReadsOldEntries(t *testing.T) {
	db, err := localdb.Open("", localdb.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type oldEntry struct {
		Op   string    `json:"op"`
		Path string    `json:"path"`
		Size int64     `json:"size"`
		At   time.Time `json:"at"`
	}
	old := localdb.NewTable[oldEntry](syncKeys.outbox)
	queued := time.Now().UTC().Add(-time.Minute)
	if err := db.Update(func(tx *localdb.Tx) error {
		return old.Put(tx, "p1/a.txt", oldEntry{Op: "modify", Path: "a.txt", Size: 3, At: queued})
	}); err != nil {
		t.Fatal(err)
	}
	o := outbox{db}
	if n := o.pending("p1"); n != 1 {
		t.Fatalf("old entry: %d pending, want 1", n)
	}
	later := time.Now().UTC().Add(time.Hour)
	if _, _, err := o.mark([]outboxItem{{"p1", "b.txt"}, {"p2", ""}}, later); err != nil {
		t.Fatal(err)
	}
	if n := o.pending("p1"); n != 2 {
		t.Fatalf("%d pending, want 2", n)
	}
	if err := o.clear("p1", time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if n := o.pending("p1"); n != 1 {
		t.Fatalf("after clear: %d pending, want 1 (the entry queued after the cutoff)", n)
	}
	if n := o.pending("p2"); n != 1 {
		t.Fatalf("p2: %d pending, want 1", n)
	}
}
