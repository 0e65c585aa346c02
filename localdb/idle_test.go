package localdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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
		if db.bdb.Opts().MetricsEnabled {
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

// closeSoon makes RunGC close a database unused for a millisecond.
func closeSoon(t *testing.T) {
	old := CloseAfter
	CloseAfter = time.Millisecond
	t.Cleanup(func() { CloseAfter = old })
}

// TestIdleCloseUnderConcurrency: goroutines read, write (nested in reads,
// and in batches) while RunGC closes the database whenever it is unused for
// a millisecond: no use fails, none deadlocks, and every write is there.
func TestIdleCloseUnderConcurrency(t *testing.T) {
	closeSoon(t)
	dir := t.TempDir()
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	gcDone := make(chan struct{})
	go func() { db.RunGC(ctx, time.Hour); close(gcDone) }()
	tbl := NewTable[int]("c/")
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				k := fmt.Sprintf("%d/%03d", w, i)
				var err error
				switch i % 3 {
				case 0:
					err = db.Update(func(tx *Tx) error { return tbl.Put(tx, k, i) })
				case 1: // a write inside a read (the read's use nests)
					err = db.View(func(tx *Tx) error {
						_, _, err := tbl.Get(tx, k)
						if err != nil {
							return err
						}
						return db.Update(func(tx *Tx) error { return tbl.Put(tx, k, i) })
					})
				case 2:
					b := db.Batch()
					if err = b.SetRaw(tbl.Key(k), []byte(fmt.Sprint(i))); err == nil {
						time.Sleep(2 * time.Millisecond) // longer than CloseAfter
						err = b.Flush()
					}
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d write %d: %w", w, i, err)
					return
				}
				time.Sleep(time.Duration(i%4) * time.Millisecond) // quiet spells
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Idle now: RunGC closes it; a read reopens it and finds every write.
	for deadline := time.Now().Add(10 * time.Second); db.IsOpen(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the idle database was never closed")
		}
	}
	n := 0
	err = db.View(func(tx *Tx) error {
		return tbl.Scan(tx, "", func(k string, v int) error { n++; return nil })
	})
	cancel()
	<-gcDone
	if err != nil || n != workers*each {
		t.Fatalf("after the idle closes: %d of %d writes read back (%v)", n, workers*each, err)
	}
	if db.Reopens() == 0 {
		t.Error("the database was never closed and reopened while in use")
	}
	t.Logf("%d reopens", db.Reopens())
}

// TestBatchKeepsDatabaseOpen: a write batch holds the database open for its
// whole life, however long the caller takes between its writes.
func TestBatchKeepsDatabaseOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := db.Batch()
	if err := b.SetRaw([]byte("b/1"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if db.closeIdle(time.Millisecond) || !db.IsOpen() {
		t.Fatal("the database was closed under a pending batch")
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	b.Cancel() // after Flush: nothing, and the use is not given back twice
	time.Sleep(5 * time.Millisecond)
	if !db.closeIdle(time.Millisecond) || db.IsOpen() {
		t.Fatal("the database stayed open after the batch was flushed")
	}
	if err := b.SetRaw([]byte("b/2"), []byte("2")); err == nil {
		t.Error("a flushed batch took another write")
	}
	var v []byte
	if err := db.View(func(tx *Tx) error {
		it, err := tx.Raw().Get([]byte("b/1"))
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		return err
	}); err != nil || string(v) != "1" {
		t.Fatalf("after reopening: %q, %v", v, err)
	}
}

// TestReopenFailureIsClearAndRecovers: a data directory moved away while the
// database was closed makes the next use fail naming it and the fix (never
// an empty database in its place); once it is back, the next use works.
func TestReopenFailureIsClearAndRecovers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := NewTable[string]("t/")
	if err := db.Update(func(tx *Tx) error { return tbl.Put(tx, "k", "v") }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if !db.closeIdle(time.Millisecond) {
		t.Fatal("not closed when idle")
	}
	lsm, vlog := db.Size()
	if lsm+vlog == 0 {
		t.Error("Size of the closed database is 0")
	}
	if db.IsOpen() {
		t.Fatal("Size reopened the database")
	}
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *Tx) error { return nil })
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "put it back") {
		t.Fatalf("use with the directory gone: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("the failed reopen created a new directory")
	}
	if err := db.Update(func(tx *Tx) error { return tbl.Put(tx, "k2", "v") }); err == nil {
		t.Fatal("a write succeeded with the directory gone")
	}
	if b := db.Batch(); b.SetRaw([]byte("x"), nil) == nil || b.Flush() == nil {
		t.Fatal("a batch succeeded with the directory gone")
	}
	if err := os.Rename(dir+".moved", dir); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.View(func(tx *Tx) error { got, _, err = tbl.Get(tx, "k"); return err }); err != nil || got != "v" {
		t.Fatalf("after the directory came back: %q, %v", got, err)
	}
	db.Close()
	if err := db.View(func(tx *Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("use after Close: %v", err)
	}
}

// An in-memory database is never closed when idle (its data would be lost).
func TestInMemoryNeverClosed(t *testing.T) {
	db, err := Open("", Options{InMemory: true, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	time.Sleep(2 * time.Millisecond)
	if db.closeIdle(time.Nanosecond) || !db.IsOpen() || !db.InMemory() {
		t.Fatal("an in-memory database was closed when idle")
	}
}

// TestIdleCloseKeepsDirectoryLocked: while its handle is released, the
// database still holds the directory: another process opening it is told
// it is in use (ErrLocked), and after Close it may.
func TestIdleCloseKeepsDirectoryLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if !db.closeIdle(time.Millisecond) {
		t.Fatal("not closed when idle")
	}
	if !lockedByOther(dir) {
		t.Fatal("the idle database's directory is not locked")
	}
	if other, err := Open(dir, Options{Logger: quietLog}); !errors.Is(err, ErrLocked) {
		if other != nil {
			other.Close()
		}
		t.Fatalf("a second open of the idle database: %v", err)
	}
	if err := db.View(func(tx *Tx) error { return nil }); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db.Close()
	if lockedByOther(dir) {
		t.Fatal("the directory is still locked after Close")
	}
	other, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
}
