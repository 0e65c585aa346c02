package vault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"atelier/sync/remote"
	"atelier/sync/synctest"
	"atelier/sync/vault"
)

var ctx = context.Background()

func cheapKDF() *vault.KDFParams {
	return &vault.KDFParams{Alg: "argon2id", Time: 1, Memory: 8 << 10, Threads: 1, Salt: []byte("0123456789abcdef")}
}

func opts(s remote.Storage, st vault.State, device string) vault.Options {
	return vault.Options{Storage: s, State: st, Passphrase: []byte("correct horse battery staple"), Device: device, KDF: cheapKDF(), PackSize: 1 << 20}
}

func fileRemote(t *testing.T) remote.Storage { return fileRemoteB(t) }

func fileRemoteB(t testing.TB) remote.Storage {
	r, err := remote.Open(ctx, "file://"+t.TempDir(), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// writeProject fills dir with n files of random sizes up to max, with
// some shared content so dedup has something to find.
func writeProject(t testing.TB, dir string, seed uint64, n, maxSize int) {
	r := rand.New(rand.NewPCG(seed, 1))
	shared := make([]byte, 300<<10)
	fill(shared, seed+7777)
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("dir%d/file%03d.bin", i%4, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		size := r.IntN(maxSize)
		b := make([]byte, size)
		fill(b, seed*1000+uint64(i))
		if i%5 == 0 {
			b = shared // whole-file duplicates
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scan lists dir the way the index would.
func scan(t testing.TB, dir string) []vault.LocalFile {
	var out []vault.LocalFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		out = append(out, vault.LocalFile{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode(), SHA256: sha256.Sum256(b)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fill(b []byte, seed uint64) {
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)}).Read(b)
}

// tree maps path to content hash.
func tree(t testing.TB, dir string) map[string][32]byte {
	m := map[string][32]byte{}
	for _, f := range scan(t, dir) {
		m[f.Path] = f.SHA256
	}
	return m
}

func sameTree(t testing.TB, a, b string) {
	t.Helper()
	ta, tb := tree(t, a), tree(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%s has %d files, %s has %d", a, len(ta), b, len(tb))
	}
	for p, h := range ta {
		if tb[p] != h {
			t.Fatalf("%s differs between %s and %s", p, a, b)
		}
	}
}

func push(t testing.TB, v *vault.Vault, project, root string) vault.Result {
	t.Helper()
	res, err := v.Sync(ctx, vault.Job{Project: project, Root: root, Files: scan(t, root)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPushRestoreEditNoChange(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeProject(t, root, 1, 40, 600<<10)
	big := make([]byte, 6<<20)
	fill(big, 9)
	os.WriteFile(filepath.Join(root, "big.wav"), big, 0o644)
	res := push(t, v, "songs", root)
	if res.NoChange || res.Seq != 1 || len(res.Uploaded) != 41 {
		t.Fatalf("first push: %+v", res)
	}
	if res.BytesDeduped == 0 {
		t.Fatalf("shared content was not deduplicated: %+v", res)
	}
	// Small files are packed: far fewer objects than files.
	n := 0
	s.List(ctx, "data/", func(remote.Info) error { n++; return nil })
	if n == 0 || n > 20 {
		t.Fatalf("%d packs for 41 files", n)
	}
	again := push(t, v, "songs", root)
	if !again.NoChange || again.BytesSent != 0 {
		t.Fatalf("no-change push: %+v", again)
	}
	// Insert 10 bytes in the middle of the big file: only about a chunk goes out.
	edited := append(append(append([]byte{}, big[:3<<20]...), []byte("0123456789")...), big[3<<20:]...)
	os.WriteFile(filepath.Join(root, "big.wav"), edited, 0o644)
	ed := push(t, v, "songs", root)
	if len(ed.Uploaded) != 1 || ed.BytesNew > 2<<20 || ed.BytesNew == 0 {
		t.Fatalf("10-byte edit sent %d new bytes (%+v)", ed.BytesNew, ed)
	}
	out := t.TempDir()
	snap, err := v.FindSnapshot(ctx, "songs", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	// The first version is still there.
	old, err := v.FindSnapshot(ctx, "songs", "1")
	if err != nil {
		t.Fatal(err)
	}
	out1 := t.TempDir()
	if _, err := v.Restore(ctx, old, out1, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out1, "big.wav"))
	if !bytes.Equal(b, big) {
		t.Fatal("snapshot 1 does not restore the original big.wav")
	}
	hs, err := v.Heads(ctx, "songs")
	if err != nil || len(hs) != 2 {
		t.Fatalf("history: %v %v", hs, err)
	}
	vr, err := v.Verify(ctx, nil, nil)
	if err != nil || len(vr.Problems) != 0 || vr.Chunks == 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
}

func TestPrune(t *testing.T) {
	s := fileRemote(t)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for i := 0; i < 4; i++ {
		b := make([]byte, 200<<10)
		fill(b, uint64(i)+100)
		os.WriteFile(filepath.Join(root, "take.wav"), b, 0o644)
		push(t, v, "p", root)
	}
	res, err := v.Prune(ctx, vault.Retention{KeepLast: 2}, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.SnapshotsRemoved != 2 || res.PacksRemoved != 2 {
		t.Fatalf("prune: %+v", res)
	}
	// Pushing after a prune still works (the chunk index was reset) and restores.
	b := make([]byte, 100<<10)
	os.WriteFile(filepath.Join(root, "new.wav"), b, 0o644)
	push(t, v, "p", root)
	snap, _ := v.FindSnapshot(ctx, "p", "")
	out := t.TempDir()
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	if _, err := v.FindSnapshot(ctx, "p", "1"); err == nil || !strings.Contains(err.Error(), "pruned") {
		t.Fatalf("pruned snapshot: %v", err)
	}
}

// corrupting flips a byte in the first n reads of pack data.
type corrupting struct {
	remote.Storage
	left atomic.Int32
}

func (c *corrupting) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	b, err := c.Storage.GetRange(ctx, key, off, n)
	if err == nil && strings.HasPrefix(key, "data/") && len(b) > 0 && c.left.Add(-1) >= 0 {
		b[len(b)/2] ^= 0x40
	}
	return b, err
}

func TestCorruptDownloadIsFetchedAgainAndNeverWritten(t *testing.T) {
	s := fileRemote(t)
	st := vault.NewMemState()
	v, err := vault.Init(ctx, opts(s, st, "a"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeProject(t, root, 2, 10, 300<<10)
	push(t, v, "p", root)

	// Transient corruption: reported, fetched again, restore succeeds.
	c := &corrupting{Storage: s}
	c.left.Store(2)
	var reports atomic.Int32
	o := opts(c, st, "a")
	o.OnCorrupt = func(string, error) { reports.Add(1) }
	v2, err := vault.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := v2.FindSnapshot(ctx, "p", "")
	out := t.TempDir()
	if _, err := v2.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	if reports.Load() != 2 {
		t.Fatalf("%d corrupt downloads reported, want 2", reports.Load())
	}

	// Permanent corruption of a pack on the remote: error, nothing written.
	var pack string
	s.List(ctx, "data/", func(i remote.Info) error { pack = i.Key; return nil })
	b, _ := s.Get(ctx, pack)
	b[100] ^= 1
	s.Put(ctx, pack, b, remote.PutOptions{})
	out2 := t.TempDir()
	_, err = v2.Restore(ctx, snap, out2, nil)
	if !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("restore from a corrupt pack: %v, want ErrCorrupt", err)
	}
	for p, h := range tree(t, out2) {
		if tree(t, root)[p] != h {
			t.Fatalf("corrupt content written to %s", p)
		}
	}
	vr, err := v2.Verify(ctx, nil, nil)
	if err != nil || len(vr.Problems) == 0 || len(vr.Problems[0].Files) == 0 {
		t.Fatalf("verify did not report the corrupt pack: %+v %v", vr, err)
	}
}

func TestEncryptionS3(t *testing.T) {
	srv := synctest.Server(t)
	u := srv.NewBucket(t)
	s := srv.Open(t, u, nil)
	v, err := vault.Init(ctx, opts(s, vault.NewMemState(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	marker := "MARKER-7f3a-unmistakable-secret-lyrics"
	os.WriteFile(filepath.Join(root, "lyrics.txt"), []byte(strings.Repeat(marker+"\n", 50)), 0o644)
	os.MkdirAll(filepath.Join(root, "marker-folder-"+marker), 0o755)
	os.WriteFile(filepath.Join(root, "marker-folder-"+marker, marker+".wav"), bytes.Repeat([]byte(marker), 3000), 0o644)
	push(t, v, "secret-"+marker, root)
	n := 0
	err = s.List(ctx, "", func(i remote.Info) error {
		n++
		if strings.Contains(i.Key, "MARKER") {
			return fmt.Errorf("object name %s reveals the marker", i.Key)
		}
		b, err := s.Get(ctx, i.Key)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("MARKER")) {
			return fmt.Errorf("object %s contains the marker", i.Key)
		}
		return nil
	})
	if err != nil || n < 4 {
		t.Fatalf("%v (%d objects)", err, n)
	}
	if srv.Root != "" {
		filepath.WalkDir(srv.Root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("MARKER")) {
					t.Errorf("%s on the server's disk contains the marker", p)
				}
			}
			return nil
		})
	}
	o := opts(s, vault.NewMemState(), "a")
	o.Passphrase = []byte("wrong")
	_, err = vault.Open(ctx, o)
	if !errors.Is(err, vault.ErrWrongPassphrase) || !strings.Contains(err.Error(), "passphrase does not unlock") {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func TestFaultyNetworkS3(t *testing.T) {
	srv := synctest.Server(t)
	u := srv.NewBucket(t)
	proxy, err := synctest.NewProxy(srv.Endpoint, synctest.Faults{Err5xx: 0.08, Reset: 0.06, Stall: 0.03, Slow: 0.05, Truncate: 0.08, StallFor: 3 * time.Second, SlowBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	raw := srv.Open(t, strings.Replace(u, srv.Endpoint, proxy.URL, 1), nil)
	var retries atomic.Int32
	s := remote.Stack(raw, remote.RetryPolicy{Attempts: 30, Base: 5 * time.Millisecond, Max: 200 * time.Millisecond, OpTimeout: 1500 * time.Millisecond, MinRate: 4 << 20,
		OnRetry: func(string, string, int, error) { retries.Add(1) }}, nil, nil)
	st := vault.NewMemState()
	v, err := vault.Init(ctx, opts(s, st, "a"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeProject(t, root, 3, 30, 700<<10)
	push(t, v, "p", root)
	out := t.TempDir()
	snap, err := v.FindSnapshot(ctx, "p", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Restore(ctx, snap, out, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, root, out)
	vr, err := v.Verify(ctx, nil, nil)
	if err != nil || len(vr.Problems) != 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
	c := &proxy.Count
	t.Logf("requests %d: 5xx %d, resets %d, stalls %d, slow %d, truncated %d; retries %d", c.Requests.Load(), c.Err5xx.Load(), c.Reset.Load(), c.Stall.Load(), c.Slow.Load(), c.Truncate.Load(), retries.Load())
	if c.Err5xx.Load() == 0 || c.Reset.Load() == 0 || c.Truncate.Load() == 0 || retries.Load() == 0 {
		t.Fatalf("the proxy injected too few faults to mean anything")
	}
}

func TestTwoDevicesS3(t *testing.T) {
	srv := synctest.Server(t)
	u := srv.NewBucket(t)
	sa, sb := srv.Open(t, u, nil), srv.Open(t, u, nil)
	va, err := vault.Init(ctx, opts(sa, vault.NewMemState(), "studio"))
	if err != nil {
		t.Fatal(err)
	}
	vb, err := vault.Open(ctx, opts(sb, vault.NewMemState(), "laptop"))
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := t.TempDir(), t.TempDir()
	write := func(root, p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(root, p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return "<missing>"
		}
		return string(b)
	}
	write(ra, "mix.wav", "mix v1")
	write(ra, "notes.txt", "notes v1")
	write(ra, "same.txt", "same v1")
	write(ra, "gone.txt", "delete me")
	push(t, va, "album", ra)
	// The laptop pulls everything.
	r := push(t, vb, "album", rb)
	if len(r.Pulled) != 4 {
		t.Fatalf("laptop pulled %v", r.Pulled)
	}
	sameTree(t, ra, rb)
	// Both change mix.wav differently, same.txt identically; the studio
	// changes notes.txt, the laptop deletes gone.txt and adds a file.
	write(ra, "mix.wav", "mix studio edit")
	write(rb, "mix.wav", "mix laptop edit")
	write(ra, "same.txt", "same v2")
	write(rb, "same.txt", "same v2")
	write(ra, "notes.txt", "notes v2 studio")
	os.Remove(filepath.Join(rb, "gone.txt"))
	write(rb, "new/idea.txt", "laptop idea")
	push(t, va, "album", ra)
	rl := push(t, vb, "album", rb)
	if len(rl.Conflicts) != 1 || rl.Conflicts[0].Path != "mix.wav" || rl.Conflicts[0].Device != "studio" {
		t.Fatalf("laptop conflicts: %+v", rl.Conflicts)
	}
	cp := rl.Conflicts[0].Copy
	if !strings.HasPrefix(cp, "mix (conflict studio ") || !strings.HasSuffix(cp, ").wav") {
		t.Fatalf("conflict copy named %q", cp)
	}
	if read(rb, "mix.wav") != "mix laptop edit" || read(rb, cp) != "mix studio edit" {
		t.Fatalf("laptop: mix.wav %q, copy %q", read(rb, "mix.wav"), read(rb, cp))
	}
	if read(rb, "notes.txt") != "notes v2 studio" {
		t.Fatalf("studio's notes did not reach the laptop: %q", read(rb, "notes.txt"))
	}
	// The studio pulls the merge: nothing lost on either side.
	rs := push(t, va, "album", ra)
	if len(rs.Conflicts) != 0 {
		t.Fatalf("studio saw conflicts again: %+v", rs.Conflicts)
	}
	sameTree(t, ra, rb)
	for p, want := range map[string]string{"mix.wav": "mix laptop edit", cp: "mix studio edit", "same.txt": "same v2", "new/idea.txt": "laptop idea", "gone.txt": "<missing>"} {
		if got := read(ra, p); got != want {
			t.Fatalf("studio %s = %q, want %q", p, got, want)
		}
	}
	names := []string{}
	for p := range tree(t, ra) {
		names = append(names, p)
	}
	sort.Strings(names)
	if len(names) != 5 {
		t.Fatalf("studio has %v", names)
	}
	// Steady state: nothing more to do on either side.
	if r := push(t, va, "album", ra); !r.NoChange {
		t.Fatalf("studio not settled: %+v", r)
	}
	if r := push(t, vb, "album", rb); !r.NoChange {
		t.Fatalf("laptop not settled: %+v", r)
	}
}

func TestConflictName(t *testing.T) {
	tm := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for in, want := range map[string]string{
		"a/mix.wav":  "a/mix (conflict studio 2026-03-04 050607).wav",
		"README":     "README (conflict studio 2026-03-04 050607)",
		".gitignore": ".gitignore (conflict studio 2026-03-04 050607)",
	} {
		if got := vault.ConflictName(in, "studio", tm); got != want {
			t.Errorf("%s → %q, want %q", in, got, want)
		}
	}
}

func TestPauseResumeAndHonestProgress(t *testing.T) {
	s := fileRemote(t)
	gate := &vault.Gate{}
	o := opts(s, vault.NewMemState(), "a")
	o.Gate = gate
	v, err := vault.Init(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	b := make([]byte, 3<<20)
	fill(b, 42)
	os.WriteFile(filepath.Join(root, "a.wav"), b, 0o644)
	os.WriteFile(filepath.Join(root, "copy-of-a.wav"), b, 0o644)
	gate.Pause()
	pausedSeen := make(chan struct{}, 1)
	var last atomic.Value
	done := make(chan error, 1)
	go func() {
		_, err := v.Sync(ctx, vault.Job{Project: "p", Root: root, Files: scan(t, root), Progress: func(p vault.Progress) {
			last.Store(p)
			if p.Paused {
				select {
				case pausedSeen <- struct{}{}:
				default:
				}
			}
		}})
		done <- err
	}()
	<-pausedSeen
	select {
	case err := <-done:
		t.Fatalf("a paused sync finished: %v", err)
	default:
	}
	n := 0
	s.List(ctx, "data/", func(remote.Info) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d packs uploaded while paused", n)
	}
	gate.Resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p := last.Load().(vault.Progress)
	if p.Phase != "done" || p.ETASeconds != 0 {
		t.Fatalf("final progress %+v", p)
	}
	// The copy is deduplicated: it is not work, and is reported as such.
	if p.BytesDeduped != int64(len(b)) || p.BytesNew != int64(len(b)) || p.BytesTotal != 2*int64(len(b)) {
		t.Fatalf("progress does not separate new from deduplicated bytes: %+v", p)
	}
}
