package history_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"atelier/app/history"
	"atelier/internal/testchild"
	"atelier/localdb"
)

// TestMain doubles as the child of the crash test: with
// ATELIER_HISTORY_CHILD set, the test binary edits a project and takes
// versions and prunes in a loop until it is killed.
func TestMain(m *testing.M) {
	testchild.Main(m, "ATELIER_HISTORY_CHILD", child)
}

func child() int {
	seed, _ := strconv.ParseUint(os.Getenv("CHILD_SEED"), 10, 64)
	e := openEnvRaw(os.Getenv("CHILD_ROOT"), os.Getenv("CHILD_DB"), os.Getenv("CHILD_DIR"))
	if e == nil {
		fmt.Fprintln(os.Stderr, "child: open failed")
		return 2
	}
	r := rand.New(rand.NewPCG(seed, 3))
	e.h.SetBudget(history.Budget{CapBytes: 3 << 20})
	out := bufio.NewWriter(os.Stdout)
	for round := 0; ; round++ {
		editRound(e, r, round)
		if err := e.h.Flush(ctx, true); err != nil {
			fmt.Fprintln(os.Stderr, "child: flush:", err)
			return 2
		}
		if round%2 == 1 {
			// Restore an older version of a file in place.
			if paths, _ := e.h.Paths("song"); len(paths) > 0 {
				p := paths[r.IntN(len(paths))]
				if vs, _ := e.h.Versions("song", p); len(vs) > 1 && vs[len(vs)-1].Op != history.OpDelete {
					if _, err := e.h.Restore(ctx, "song", p, strconv.FormatInt(vs[len(vs)-1].Seq, 10)); err != nil && !errors.Is(err, history.ErrNotFound) {
						fmt.Fprintln(os.Stderr, "child: restore:", err)
						return 2
					}
				}
			}
		}
		if round%3 == 2 {
			if _, err := e.h.Prune(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "child: prune:", err)
				return 2
			}
		}
		fmt.Fprintln(out, "round", round)
		out.Flush()
	}
}

// editRound changes the project the way a session does: a few small files
// rewritten, one deleted, one renamed, a region of the big take rewritten.
func editRound(e *env, r *rand.Rand, round int) {
	for j := 0; j < 6; j++ {
		p := fmt.Sprintf("dir%d/f%02d.txt", r.IntN(3), r.IntN(20))
		writeAndTell(e, p, []byte(fmt.Sprintf("round %d file %d %d\n", round, j, r.Uint64())))
	}
	big := filepath.Join(e.root, "take.wav")
	b, err := os.ReadFile(big)
	if err != nil || len(b) != 2<<20 {
		b = make([]byte, 2<<20)
	}
	off := r.IntN(len(b) - 64<<10)
	for i := off; i < off+64<<10; i++ {
		b[i] = byte(r.Uint32())
	}
	writeAndTell(e, "take.wav", b)
	if ents, _ := os.ReadDir(filepath.Join(e.root, "dir1")); len(ents) > 2 {
		victim := "dir1/" + ents[r.IntN(len(ents))].Name()
		os.Remove(filepath.Join(e.root, filepath.FromSlash(victim)))
		e.h.Consider(history.Change{Project: "song", Op: history.OpDelete, Path: victim})
	}
	if ents, _ := os.ReadDir(filepath.Join(e.root, "dir2")); len(ents) > 0 {
		from := "dir2/" + ents[r.IntN(len(ents))].Name()
		to := fmt.Sprintf("moved/r%d.txt", round)
		os.MkdirAll(filepath.Join(e.root, "moved"), 0o755)
		if os.Rename(filepath.Join(e.root, filepath.FromSlash(from)), filepath.Join(e.root, filepath.FromSlash(to))) == nil {
			e.h.Consider(history.Change{Project: "song", Op: history.OpRename, Path: to, From: from})
		}
	}
}

func writeAndTell(e *env, p string, b []byte) {
	abs := filepath.Join(e.root, filepath.FromSlash(p))
	os.MkdirAll(filepath.Dir(abs), 0o755)
	os.WriteFile(abs, b, 0o644)
	fi, err := os.Stat(abs)
	if err != nil {
		return
	}
	e.h.Consider(history.Change{Project: "song", Op: history.OpModify, Path: p, Size: fi.Size(), ModTime: fi.ModTime(), SHA256: sha256.Sum256(b)})
}

// TestKill9DuringSnapshotAndPrune kills a process taking versions,
// restoring and pruning at random points; after each kill, history opens (finishing an
// interrupted prune), every point of the timeline is in the vault, every
// listed version reads back intact, the vault verifies, and once the
// project's current state is told again (as the index does at start) the
// newest version of every file equals the disk.
func TestKill9DuringSnapshotAndPrune(t *testing.T) {
	kills := 12
	if n, err := strconv.Atoi(os.Getenv("ATELIER_KILL_POINTS")); err == nil && n > 0 {
		kills = n
	}
	root, dbDir, dir := t.TempDir(), t.TempDir(), t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	killed, rounds, inPrune := 0, 0, 0
	for k := 0; k < kills; k++ {
		cmd := testchild.Command("ATELIER_HISTORY_CHILD", "CHILD_ROOT="+root, "CHILD_DB="+dbDir, "CHILD_DIR="+dir, "CHILD_SEED="+strconv.Itoa(k))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		// Let it run a few rounds, then kill it somewhere in the next.
		want := 1 + rng.IntN(4)
		n := 0
		for n < want && sc.Scan() {
			n++
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if n < want {
			t.Fatalf("child died by itself after %d rounds: %v\n%s", n, err, stderr.String())
		}
		rounds += n
		killed++
		if midPrune(t, dbDir) {
			inPrune++
		}
		check(t, root, dbDir, dir, false)
	}
	t.Logf("%d kills (%d in the middle of a prune), %d finished rounds", killed, inPrune, rounds)
	check(t, root, dbDir, dir, true)
}

func check(t *testing.T, root, dbDir, dir string, final bool) {
	t.Helper()
	e := openEnvRaw(root, dbDir, dir)
	if e == nil {
		t.Fatalf("history does not open after a kill: %v", openErr)
	}
	defer func() { e.h.Close(); e.db.Close() }()
	tl, err := e.h.Timeline("song")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tl {
		if _, err := e.h.Vault().SnapshotHeader(ctx, s.Snapshot); err != nil {
			t.Fatalf("point %d of the timeline is not in the vault: %v", s.Seq, err)
		}
	}
	paths, err := e.h.Paths("song")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		vs, _ := e.h.Versions("song", p)
		for _, v := range vs {
			if v.Op == history.OpDelete {
				continue
			}
			var buf bytes.Buffer
			if _, err := e.h.ReadVersion(ctx, "song", p, strconv.FormatInt(v.Seq, 10), &buf); err != nil {
				t.Fatalf("version %d of %s does not read after a kill: %v", v.Seq, p, err)
			}
		}
	}
	if vr, err := e.h.Vault().Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify after a kill: %+v %v", vr, err)
	}
	if !final {
		return
	}
	// What the index tells at start: every file as it is, and what is gone.
	onDisk := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			onDisk[filepath.ToSlash(rel)] = true
			b, _ := os.ReadFile(p)
			writeAndTell(e, filepath.ToSlash(rel), b)
		}
		return nil
	})
	for _, p := range paths {
		if !onDisk[p] {
			e.h.Consider(history.Change{Project: "song", Op: history.OpDelete, Path: p})
		}
	}
	if err := e.h.Flush(ctx, true); err != nil {
		t.Fatal(err)
	}
	for p := range onDisk {
		var buf bytes.Buffer
		if _, err := e.h.ReadVersion(ctx, "song", p, "", &buf); err != nil {
			t.Fatalf("newest version of %s: %v", p, err)
		}
		disk, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if !bytes.Equal(buf.Bytes(), disk) {
			t.Fatalf("newest version of %s differs from the disk", p)
		}
	}
	d, _ := e.h.Diff(ctx, "song", "", "")
	_ = d
}

// midPrune reports whether the kill interrupted a prune (its intent
// records are still there for Open to finish).
func midPrune(t *testing.T, dbDir string) bool {
	db, err := localdb.Open(dbDir, localdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := false
	db.View(func(tx *localdb.Tx) error {
		return localdb.NewTable[json.RawMessage]("history/pruning/").Keys(tx, "", func(string) error {
			found = true
			return localdb.ErrStop
		})
	})
	return found
}
