package localdb

import "testing"

// An opened database runs with Badger's background loops quieted (metrics
// off: no cache monitor), on disk and in memory, and still reads and writes.
func TestOpenQuietsBackgroundLoops(t *testing.T) {
	for _, o := range []Options{{Logger: quietLog}, {InMemory: true, Logger: quietLog}} {
		dir := ""
		if !o.InMemory {
			dir = t.TempDir()
		}
		db, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		if db.Badger().Opts().MetricsEnabled {
			t.Errorf("in memory %v: Badger's metrics (and cache monitor) are on", o.InMemory)
		}
		tbl := NewTable[string]("t/")
		if err := db.Update(func(tx *Tx) error { return tbl.Put(tx, "k", "v") }); err != nil {
			t.Fatal(err)
		}
		var got string
		db.View(func(tx *Tx) error { got, _, err = tbl.Get(tx, "k"); return err })
		if got != "v" {
			t.Errorf("read back %q", got)
		}
		db.Close()
	}
}
