package vault_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"atelier/internal/testchild"
	"atelier/localdb"
	"atelier/sync/remote"
	"atelier/sync/synctest"
	"atelier/sync/vault"
)

// TestMain doubles as the child of the crash test: with ATELIER_SYNC_CHILD
// set, the test binary pushes one project and exits, and the parent kills
// it with SIGKILL at random points.
func TestMain(m *testing.M) {
	testchild.Main(m, "ATELIER_SYNC_CHILD", child, synctest.Cleanup)
}

func child() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	db, err := localdb.Open(os.Getenv("CHILD_DB"), localdb.Options{})
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	r, err := remote.Open(ctx, os.Getenv("CHILD_REMOTE"), remote.Options{AccessKey: synctest.AccessKey, SecretKey: synctest.SecretKey})
	if err != nil {
		return fail(err)
	}
	s := remote.Stack(r, remote.RetryPolicy{}, nil, nil)
	o := opts(s, synctest.DBState{DB: db, Prefix: "sync/test/"}, "child")
	v, err := vault.Init(ctx, o)
	if err != nil {
		return fail(err)
	}
	if hist := os.Getenv("CHILD_HISTORY"); hist != "" {
		// TestKill9DuringCopy: copy the history vault's newest snapshot.
		hs, err := remote.Open(ctx, hist, remote.Options{})
		if err != nil {
			return fail(err)
		}
		ho := opts(hs, vault.NewMemState(), "child")
		ho.Passphrase = []byte(historyPassphrase)
		hv, err := vault.Open(ctx, ho)
		if err != nil {
			return fail(err)
		}
		res, err := v.CopyFrom(ctx, hv, vault.CopyOptions{Project: "big"})
		if err != nil {
			return fail(err)
		}
		json.NewEncoder(os.Stdout).Encode(vault.Result{Snapshot: res.Head.Snapshot, Seq: res.Head.Seq, NoChange: res.NoChange, BytesNew: res.BytesNew, BytesSent: res.BytesSent})
		return 0
	}
	root := os.Getenv("CHILD_ROOT")
	res, err := v.Sync(ctx, vault.Job{Project: "big", Root: root, Files: scan(nil, root)})
	if err != nil {
		return fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

func runChild(t *testing.T, env []string, killAfter time.Duration) (vault.Result, bool) {
	cmd := testchild.Command("ATELIER_SYNC_CHILD", env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var res vault.Result
	var decErr error
	go func() {
		decErr = json.NewDecoder(out).Decode(&res)
		close(done)
	}()
	if killAfter > 0 {
		select {
		case <-done:
		case <-time.After(killAfter):
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	<-done
	err = cmd.Wait()
	if killAfter == 0 && (err != nil || decErr != nil) {
		t.Fatalf("child push failed: %v %v", err, decErr)
	}
	return res, err == nil && decErr == nil
}

// TestKill9DuringPush kills the pushing process at random points, then lets
// a last run finish: the committed snapshot must equal the project byte for
// byte, finished packs must not be sent again, and nothing left behind may
// break later runs. ATELIER_KILL_POINTS sets the number of kills (default
// 50, as the issue asks; about a minute under -race).
func TestKill9DuringPush(t *testing.T) {
	points := 50
	if n, err := strconv.Atoi(os.Getenv("ATELIER_KILL_POINTS")); err == nil && n > 0 {
		points = n
	}
	srv := synctest.Server(t)
	u := srv.NewBucket(t)
	root := t.TempDir()
	// 4 × 4 MiB + 200 small files: ~28 MiB, a few dozen packs of 1 MiB.
	for i := 0; i < 4; i++ {
		b := make([]byte, 4<<20)
		fill(b, uint64(500+i))
		os.WriteFile(filepath.Join(root, fmt.Sprintf("take%d.wav", i)), b, 0o644)
	}
	writeProject(t, root, 77, 200, 128<<10)
	var total int64
	for _, f := range scan(t, root) {
		total += f.Size
	}
	dbDir := t.TempDir()
	env := []string{"CHILD_DB=" + dbDir, "CHILD_REMOTE=" + u, "CHILD_ROOT=" + root}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	// Every round changes the project (a new take, some edited samples, one
	// deleted) so every kill lands in a push with work to do; the window
	// adapts so kills fall during pushes rather than after them.
	window := 1500 * time.Millisecond
	killed, sent := 0, int64(0)
	for i := 0; i < points; i++ {
		if i > 0 {
			b := make([]byte, 1<<20+rng.IntN(3<<20))
			fill(b, uint64(10000+i))
			os.WriteFile(filepath.Join(root, fmt.Sprintf("take%d.wav", i%6)), b, 0o644)
			for j := 0; j < 10; j++ {
				b := make([]byte, rng.IntN(100<<10))
				fill(b, uint64(20000+i*100+j))
				os.WriteFile(filepath.Join(root, fmt.Sprintf("dir%d/file%03d.bin", j%4, rng.IntN(200))), b, 0o644)
			}
			ents, _ := os.ReadDir(filepath.Join(root, "dir1"))
			if len(ents) > 0 {
				os.Remove(filepath.Join(root, "dir1", ents[rng.IntN(len(ents))].Name()))
			}
		}
		delay := time.Duration(30+rng.Int64N(int64(window/time.Millisecond))) * time.Millisecond
		if res, ok := runChild(t, env, delay); ok {
			sent += res.BytesNew
			window = window * 7 / 10
		} else {
			killed++
			window = min(window*11/10, 20*time.Second)
		}
	}
	final, _ := runChild(t, env, 0)
	total = 0
	for _, f := range scan(t, root) {
		total += f.Size
	}
	t.Logf("%d rounds, %d killed mid-push; the last run sent %d new bytes of a %d-byte project", points, killed, final.BytesNew, total)
	if killed == 0 {
		t.Fatalf("no run was killed mid-push: the test proved nothing")
	}
	if final.BytesNew >= total {
		t.Fatalf("the run after %d crashes sent everything again (%d bytes): nothing resumed", points, final.BytesNew)
	}

	db, err := localdb.Open(dbDir, localdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := srv.Open(t, u, nil)
	v, err := vault.Open(ctx, opts(s, synctest.DBState{DB: db, Prefix: "sync/test/"}, "child"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := v.FindSnapshot(ctx, "big", "")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	if r := push(t, v, "big", root); !r.NoChange {
		t.Fatalf("a run after recovery found work: %+v", r)
	}
	vr, err := v.Verify(ctx, nil, nil)
	if err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify after crashes: %+v %v", vr, err)
	}
	// Packs orphaned by the crashes are what prune collects.
	pr, err := v.Prune(ctx, vault.DefaultRetention, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prune after crashes: %+v", pr)
	out2 := t.TempDir()
	if _, err := v.Restore(ctx, snap, out2, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out2)
}
