package vault_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"atelier/localdb"
	"atelier/sync/synctest"

	"atelier/sync/remote"
	"atelier/sync/vault"
)

// historyVault is a local-history-like vault: its own random passphrase,
// fine chunks.
func historyVault(t *testing.T) *vault.Vault {
	t.Helper()
	o := opts(fileRemote(t), vault.NewMemState(), "studio")
	o.Passphrase = []byte(historyPassphrase)
	o.Chunker = &vault.Chunker{Min: 8 << 10, Avg: 32 << 10, Max: 128 << 10}
	v, err := vault.Init(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func cloudVault(t *testing.T, s remote.Storage, st vault.State, device string) *vault.Vault {
	t.Helper()
	v, err := vault.Init(ctx, opts(s, st, device))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func commitAll(t *testing.T, v *vault.Vault, project, root string, put []string, del []string) vault.CommitResult {
	t.Helper()
	var files []vault.LocalFile
	all := scan(t, root)
	for _, p := range put {
		for _, f := range all {
			if f.Path == p || p == "*" {
				files = append(files, f)
			}
		}
	}
	res, err := v.Commit(ctx, vault.Commit{Project: project, Root: root, Put: files, Delete: del})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func restoreLatest(t *testing.T, v *vault.Vault, project string) string {
	t.Helper()
	snap, err := v.FindSnapshot(ctx, project, "")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCopyHistoryToCloud: the snapshots local history takes go to a cloud
// vault with other keys and coarser chunker settings by copying: the
// history's chunk boundaries carry over (nothing is cut again), a copy
// after one changed file stores that file's new chunks and the trees on
// its path, and the cloud restores byte for byte.
func TestCopyHistoryToCloud(t *testing.T) {
	root := t.TempDir()
	writeProject(t, root, 31, 40, 600<<10)
	hv := historyVault(t)
	commitAll(t, hv, "album", root, []string{"*"}, nil)

	cs := fileRemote(t)
	cv := cloudVault(t, cs, vault.NewMemState(), "studio")
	res, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"})
	if err != nil {
		t.Fatal(err)
	}
	if res.NoChange || res.Head.Seq != 1 || res.ChunksCopied == 0 || res.Head.Files != 40 {
		t.Fatalf("first copy: %+v", res)
	}
	sameTree(t, root, restoreLatest(t, cv, "album"))

	// Same chunk boundaries as the history (history cuts at 32 KiB average,
	// the cloud vault's own setting is 512 KiB).
	hsnap, _ := hv.FindSnapshot(ctx, "album", "")
	csnap, _ := cv.FindSnapshot(ctx, "album", "")
	for i, f := range hsnap.Files {
		g := csnap.Files[i]
		if f.Path != g.Path || len(f.Chunks) != len(g.Chunks) {
			t.Fatalf("%s: %d chunks in history, %d in the cloud copy", f.Path, len(f.Chunks), len(g.Chunks))
		}
		for j := range f.Chunks {
			if f.Chunks[j].Size() != g.Chunks[j].Size() {
				t.Fatalf("%s chunk %d: %d bytes in history, %d in the cloud", f.Path, j, f.Chunks[j].Size(), g.Chunks[j].Size())
			}
			if f.Chunks[j].ID == g.Chunks[j].ID {
				t.Fatalf("%s chunk %d has the same ID in both vaults: the cloud's IDs must be keyed with its own key", f.Path, j)
			}
		}
	}

	// Nothing new: no snapshot.
	if res, err = cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"}); err != nil || !res.NoChange || res.ChunksCopied != 0 || res.Trees != 0 {
		t.Fatalf("copy without a change: %+v %v", res, err)
	}

	// One file changes by a small edit.
	p := filepath.Join(root, "dir1", "file001.bin")
	b, _ := os.ReadFile(p)
	for len(b) < 200<<10 {
		b = append(b, b...)
	}
	copy(b[100<<10:], "one small edit in the middle")
	os.WriteFile(p, b, 0o644)
	commitAll(t, hv, "album", root, []string{"dir1/file001.bin"}, nil)
	before := objects(t, cs, "")
	res, err = cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Head.Seq != 2 || res.Trees != 2 || res.ChunksCopied > 3 {
		t.Fatalf("copy after one edit: %+v (want seq 2, the 2 trees on its path, a few chunks)", res)
	}
	after := objects(t, cs, "")
	var added int64
	for k, n := range after {
		if _, ok := before[k]; !ok {
			added += n
		}
	}
	if added > 512<<10 {
		t.Fatalf("copy after one small edit stored %d bytes", added)
	}
	sameTree(t, root, restoreLatest(t, cv, "album"))

	// A deletion is copied too.
	os.Remove(p)
	commitAll(t, hv, "album", root, nil, []string{"dir1/file001.bin"})
	if _, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, restoreLatest(t, cv, "album"))
}

// TestCopySelects: only the files the sync rules select go to the cloud,
// and a different selection is translated anew.
func TestCopySelects(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"mix.wav", "stems/bass.wav", "notes/todo.txt", "cover.png"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte("content of "+p), 0o644)
	}
	hv := historyVault(t)
	commitAll(t, hv, "ep", root, []string{"*"}, nil)
	cv := cloudVault(t, fileRemote(t), vault.NewMemState(), "studio")
	wav := func(p string, _ int64) bool { return strings.HasSuffix(p, ".wav") }
	res, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "ep", Select: wav, SelectKey: "wav"})
	if err != nil {
		t.Fatal(err)
	}
	got := tree(t, restoreLatest(t, cv, "ep"))
	if len(got) != 2 || res.Head.Files != 2 {
		t.Fatalf("selected copy holds %v (head %+v), want the two WAVs", got, res.Head)
	}
	if _, err := os.Stat(filepath.Join(root, "notes")); err != nil {
		t.Fatal(err)
	}
	res, err = cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "ep", SelectKey: "all"})
	if err != nil || res.Head.Files != 4 {
		t.Fatalf("copy of everything: %+v %v", res, err)
	}
	sameTree(t, root, restoreLatest(t, cv, "ep"))
}

// TestCopyOntoAnExistingCloudVault: a cloud vault written by syncs (its
// own chunking) and shared with another device keeps working: a copy
// commits on top of this device's last sync, another device's sync pulls
// what the copy brought, and a copy refuses to commit over changes made
// elsewhere (ErrNeedsMerge) until a sync has merged them.
func TestCopyOntoAnExistingCloudVault(t *testing.T) {
	cs := fileRemote(t)
	rootA, rootB := t.TempDir(), t.TempDir()
	writeProject(t, rootA, 5, 12, 300<<10)
	a := cloudVault(t, cs, vault.NewMemState(), "studio")
	push(t, a, "album", rootA)
	b := cloudVault(t, cs, vault.NewMemState(), "laptop")
	push(t, b, "album", rootB)
	sameTree(t, rootA, rootB)

	// Device A edits; history takes the version; sync copies it.
	hv := historyVault(t)
	commitAll(t, hv, "album", rootA, []string{"*"}, nil)
	os.WriteFile(filepath.Join(rootA, "dir0", "new take.wav"), []byte("recorded on the studio machine"), 0o644)
	commitAll(t, hv, "album", rootA, []string{"dir0/new take.wav"}, nil)
	res, err := a.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Head.Seq != 2 {
		t.Fatalf("copy on top of the first sync: %+v", res.Head)
	}
	// Files whose content the sync stored already are not stored again.
	if res.ChunksDeduped != 0 {
		t.Logf("%d chunks deduplicated against the sync's", res.ChunksDeduped)
	}
	// Device B syncs: pulls the new take.
	r := push(t, b, "album", rootB)
	if len(r.Pulled) != 1 || r.Pulled[0] != "dir0/new take.wav" {
		t.Fatalf("device B pulled %v, want the copied new take", r.Pulled)
	}
	sameTree(t, rootA, rootB)

	// B commits an edit; A's next copy must not overwrite it.
	os.WriteFile(filepath.Join(rootB, "lyrics.txt"), []byte("written on the laptop"), 0o644)
	push(t, b, "album", rootB)
	os.WriteFile(filepath.Join(rootA, "dir1", "another.wav"), []byte("another studio take"), 0o644)
	commitAll(t, hv, "album", rootA, []string{"dir1/another.wav"}, nil)
	if _, err := a.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"}); !errors.Is(err, vault.ErrNeedsMerge) {
		t.Fatalf("copy over another device's commit: %v, want ErrNeedsMerge", err)
	}
	// The sync merges (A gets lyrics.txt, B's next sync gets another.wav).
	push(t, a, "album", rootA)
	push(t, b, "album", rootB)
	sameTree(t, rootA, rootB)
	commitAll(t, hv, "album", rootA, []string{"lyrics.txt"}, nil)
	if res, err = a.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"}); err != nil || !res.NoChange {
		t.Fatalf("copy after the merge: %+v %v (want no change: history and cloud agree)", res, err)
	}
}

// TestCopyAfterCloudPrune: after the cloud vault was pruned and repacked
// (its epoch changed, the local chunk and tree index dropped), a copy
// still commits a complete snapshot.
func TestCopyAfterCloudPrune(t *testing.T) {
	root := t.TempDir()
	writeProject(t, root, 9, 20, 200<<10)
	hv := historyVault(t)
	commitAll(t, hv, "album", root, []string{"*"}, nil)
	cs := fileRemote(t)
	cv := cloudVault(t, cs, vault.NewMemState(), "studio")
	for i := range 3 {
		os.WriteFile(filepath.Join(root, "dir2", "take.wav"), []byte(strings.Repeat("take ", 1000*(i+1))), 0o644)
		commitAll(t, hv, "album", root, []string{"dir2/take.wav"}, nil)
		if _, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"}); err != nil {
			t.Fatal(err)
		}
	}
	other := cloudVault(t, cs, vault.NewMemState(), "laptop")
	if _, err := other.Prune(ctx, vault.Retention{KeepLast: 1}, 0, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "dir3", "after prune.txt"), []byte("after the prune"), 0o644)
	commitAll(t, hv, "album", root, []string{"dir3/after prune.txt"}, nil)
	if _, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "album"}); err != nil {
		t.Fatal(err)
	}
	fresh := cloudVault(t, cs, vault.NewMemState(), "new machine")
	sameTree(t, root, restoreLatest(t, fresh, "album"))
	if vr, err := fresh.Verify(ctx, []string{"album"}, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify after copy, prune, copy: %+v %v", vr, err)
	}
}

const historyPassphrase = "a local random key, not the cloud passphrase"

// TestKill9DuringCopy kills a process copying history's snapshots to the
// cloud vault at random points (local history commits a new version
// between rounds): a last copy commits the newest version, which restores
// byte for byte and verifies, without sending everything again.
func TestKill9DuringCopy(t *testing.T) {
	points := 20
	if n, err := strconv.Atoi(os.Getenv("ATELIER_KILL_POINTS")); err == nil && n > 0 {
		points = n
	}
	root := t.TempDir()
	for i := 0; i < 3; i++ {
		b := make([]byte, 4<<20)
		fill(b, uint64(700+i))
		os.WriteFile(filepath.Join(root, fmt.Sprintf("take%d.wav", i)), b, 0o644)
	}
	writeProject(t, root, 78, 150, 128<<10)
	histDir := t.TempDir()
	hs, err := remote.Open(ctx, "file://"+histDir, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	ho := opts(hs, vault.NewMemState(), "studio")
	ho.Passphrase = []byte(historyPassphrase)
	ho.Chunker = &vault.Chunker{Min: 8 << 10, Avg: 32 << 10, Max: 128 << 10}
	hv, err := vault.Init(ctx, ho)
	if err != nil {
		t.Fatal(err)
	}
	commitAll(t, hv, "big", root, []string{"*"}, nil)
	cloudDir := t.TempDir()
	dbDir := t.TempDir()
	env := []string{"CHILD_DB=" + dbDir, "CHILD_REMOTE=file://" + cloudDir, "CHILD_HISTORY=file://" + histDir}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	window := 800 * time.Millisecond
	killed := 0
	for i := 0; i < points; i++ {
		if i > 0 {
			name := fmt.Sprintf("take%d.wav", i%4)
			b := make([]byte, 1<<20+rng.IntN(2<<20))
			fill(b, uint64(30000+i))
			os.WriteFile(filepath.Join(root, name), b, 0o644)
			commitAll(t, hv, "big", root, []string{name}, nil)
		}
		delay := time.Duration(20+rng.Int64N(int64(window/time.Millisecond))) * time.Millisecond
		if _, ok := runChild(t, env, delay); ok {
			window = window * 7 / 10
		} else {
			killed++
			window = min(window*11/10, 20*time.Second)
		}
	}
	final, _ := runChild(t, env, 0)
	var total int64
	for _, f := range scan(t, root) {
		total += f.Size
	}
	t.Logf("%d rounds, %d killed mid-copy; the last copy sent %d new bytes of a %d-byte project", points, killed, final.BytesNew, total)
	if killed == 0 {
		t.Fatal("no copy was killed: the test proved nothing")
	}
	if final.BytesNew >= total {
		t.Fatalf("the copy after %d crashes sent everything again (%d bytes)", points, final.BytesNew)
	}
	db, err := localdb.Open(dbDir, localdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, err := remote.Open(ctx, "file://"+cloudDir, remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	cv, err := vault.Open(ctx, opts(cs, synctest.DBState{DB: db, Prefix: "sync/test/"}, "child"))
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, restoreLatest(t, cv, "big"))
	if res, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "big"}); err != nil || !res.NoChange {
		t.Fatalf("a copy after recovery: %+v %v", res, err)
	}
	if vr, err := cv.Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify after crashes: %+v %v", vr, err)
	}
	if _, err := cv.Prune(ctx, vault.DefaultRetention, 0, false); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, restoreLatest(t, cv, "big"))
}
