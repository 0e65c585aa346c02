package localdb

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tableRSS is how much of the database's table files is resident in this
// process (kB, from /proc/self/smaps).
func tableRSS(t *testing.T, dir string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var kb int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && strings.HasPrefix(fields[5], dir) && strings.HasSuffix(fields[5], ".sst")
			continue
		}
		if in && len(fields) >= 2 && fields[0] == "Rss:" {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			kb += n
		}
	}
	return kb
}

// TestReleasePagesUnmapsWrittenTables: the tables Badger wrote (resident
// through their mappings) leave the process's RSS, and the data still
// reads back afterwards.
func TestReleasePagesUnmapsWrittenTables(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 500) // incompressible: the tables hold ~20 MB
	rand.Read(val)
	for i := 0; i < 40000; {
		b := db.Batch()
		for j := 0; j < 1000; j, i = j+1, i+1 {
			if err := b.SetRaw(fmt.Appendf(nil, "k/%06d", i), append(val[:500:500], strconv.Itoa(i)...)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var before int64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if before = tableRSS(t, dir); before >= 2<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d kB of tables resident after writing 20 MB", before)
		}
	}
	if n := db.ReleasePages(); n == 0 {
		t.Fatal("no table mapping released")
	}
	// A compaction may write a table meanwhile: it is released next time.
	for deadline := time.Now().Add(10 * time.Second); ; db.ReleasePages() {
		after := tableRSS(t, dir)
		if after <= before/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tables resident: %d kB before, %d kB after ReleasePages", before, after)
		}
		time.Sleep(100 * time.Millisecond)
	}
	err = db.View(func(tx *Tx) error {
		it, err := tx.Raw().Get([]byte("k/012345"))
		if err != nil {
			return err
		}
		v, err := it.ValueCopy(nil)
		if err != nil {
			return err
		}
		if string(v) != string(val)+"12345" {
			return fmt.Errorf("k/012345 reads %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunGCReleasesPagesOnceQuiet: RunGC releases the tables' pages once
// writes stopped for ReleaseAfter (and those compactions write afterwards).
func TestRunGCReleasesPagesOnceQuiet(t *testing.T) {
	old := ReleaseAfter
	ReleaseAfter = 100 * time.Millisecond
	defer func() { ReleaseAfter = old }()
	dir := t.TempDir()
	db, err := Open(dir, Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 500*1000) // incompressible: each key its own 500 bytes
	rand.Read(val)
	for i := 0; i < 40000; {
		b := db.Batch()
		for j := 0; j < 1000; j, i = j+1, i+1 {
			if err := b.SetRaw(fmt.Appendf(nil, "k/%06d", i), val[j*500:(j+1)*500]); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); tableRSS(t, dir) < 4<<10; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no tables resident after writing 20 MB")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { db.RunGC(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(20 * time.Second); tableRSS(t, dir) > 1<<10; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d kB of tables still resident 20 s after writes stopped", tableRSS(t, dir))
		}
	}
}
