package localdb

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"atelier/internal/testchild"
)

// TestMain doubles as the child of TestKill9DuringIdleCloses: with
// ATELIER_LOCALDB_CHILD set, the test binary writes keys while RunGC closes
// and reopens the database between them, until it is killed.
func TestMain(m *testing.M) { testchild.Main(m, "ATELIER_LOCALDB_CHILD", killChild) }

var killKeys = NewTable[int]("kill/")

func killChild() int {
	CloseAfter = time.Millisecond
	db, err := Open(os.Getenv("CHILD_DIR"), Options{Logger: quietLog})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		return 2
	}
	go db.RunGC(context.Background(), time.Hour)
	start, _ := strconv.Atoi(os.Getenv("CHILD_START"))
	out := bufio.NewWriter(os.Stdout)
	for i := start; ; i++ {
		k := fmt.Sprintf("%08d", i)
		if i%5 == 0 {
			b := db.Batch()
			err = b.SetRaw(killKeys.Key(k), []byte(strconv.Itoa(i)))
			if err == nil {
				err = b.Flush()
			}
		} else {
			err = db.Update(func(tx *Tx) error { return killKeys.Put(tx, k, i) })
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "child: write:", err)
			return 2
		}
		fmt.Fprintln(out, i) // acknowledged: it must survive the kill
		out.Flush()
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond) // quiet spells: closes
	}
}

// TestKill9DuringIdleCloses kills a process whose database closes when
// unused for a millisecond and reopens on the next write, at random points
// (in a write, a close or a reopen): every write it acknowledged reads back,
// and the database opens each time.
func TestKill9DuringIdleCloses(t *testing.T) {
	dir := t.TempDir()
	next := 0
	for round := range 5 {
		cmd := testchild.Command("ATELIER_LOCALDB_CHILD", "CHILD_DIR="+dir, "CHILD_START="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want := 10 + rand.IntN(40)
		acked := -1
		sc := bufio.NewScanner(stdout)
		for n := 0; n < want && sc.Scan(); n++ {
			acked, _ = strconv.Atoi(sc.Text())
		}
		cmd.Process.Kill()
		cmd.Wait()
		if acked < next {
			t.Fatalf("round %d: the child acknowledged no write (last %d)", round, acked)
		}
		db, err := Open(dir, Options{Logger: quietLog})
		if err != nil {
			t.Fatalf("round %d: open after kill -9: %v", round, err)
		}
		have := map[int]bool{}
		err = db.View(func(tx *Tx) error {
			return rawTable.Scan(tx, "kill/", func(k string, v []byte) error {
				n, err := strconv.Atoi(string(v))
				if err != nil {
					return fmt.Errorf("key %s holds %q", k, v)
				}
				have[n] = true
				return nil
			})
		})
		db.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i := 0; i <= acked; i++ {
			if !have[i] {
				t.Fatalf("round %d: acknowledged write %d lost (acknowledged up to %d)", round, i, acked)
			}
		}
		next = acked + 1
		for have[next] {
			next++ // written, not yet acknowledged when killed
		}
	}
}
