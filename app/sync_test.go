package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	syncsvc "atelier/app/sync"

	"github.com/zalando/go-keyring"

	"atelier/sync/rules"
)

type memSecrets struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memSecrets) Get(n string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.m[n]; ok {
		return v, nil
	}
	return "", keyring.ErrNotFound
}
func (m *memSecrets) Set(n, s string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[n] = s
	return nil
}
func (m *memSecrets) Delete(n string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, n)
	return nil
}

func syncEngine(t *testing.T, device, remoteURL string) (*Engine, *memSecrets) {
	t.Helper()
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	t.Cleanup(func() { e.Close() })
	sec := &memSecrets{m: map[string]string{}}
	e.syncCtl.SetSecrets(sec)
	if _, err := e.Sync.Run(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "sync.cloud") {
		t.Fatalf("sync ran without consent: %v", err)
	}
	if _, err := e.Privacy.Grant("sync.cloud", "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync.SetDevice(device); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Sync.RemoteAdd(syncsvc.RemoteSpec{Name: "shared", URL: remoteURL, Kind: "vault", Passphrase: "pass phrase for tests", Default: true}); err != nil {
		t.Fatal(err)
	}
	return e, sec
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	for p, c := range files {
		abs := filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(abs), 0o755)
		if err := os.WriteFile(abs, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(root, p string) string {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func TestSyncTwoEngines(t *testing.T) {
	remoteURL := "file://" + filepath.ToSlash(t.TempDir())
	a, secA := syncEngine(t, "studio", remoteURL)
	b, _ := syncEngine(t, "laptop", remoteURL)
	if secA.m["shared"] == "" {
		t.Fatal("passphrase not in the keyring")
	}
	rootA := filepath.Join(t.TempDir(), "album")
	rootB := filepath.Join(t.TempDir(), "album")
	writeFiles(t, rootA, map[string]string{"mix.wav": "mix v1", "notes.txt": "notes v1", "renders/big.mov": "huge", "stems/drums.wav": "drums"})
	os.MkdirAll(rootB, 0o755)
	pa, err := a.Projects.Add(rootA)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Projects.Add(rootB)
	if err != nil {
		t.Fatal(err)
	}
	id := string(pa.ID)
	if string(pb.ID) != id {
		t.Fatalf("project ids %s and %s", pa.ID, pb.ID)
	}
	rules := syncsvc.SyncRules{Enabled: true, Remote: "shared"}
	rules.Exclude = []string{"renders/"}
	for _, e := range []*Engine{a, b} {
		if err := e.Sync.SetRules(id, rules); err != nil {
			t.Fatal(err)
		}
	}
	pv, err := a.Sync.Preview(id)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Files != 4 || pv.SelectedFiles != 3 || pv.SelectedBytes != int64(len("mix v1notes v1drums")) {
		t.Fatalf("preview: %+v", pv)
	}
	ra, err := a.Sync.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Projects[0].Uploaded != 3 || ra.Projects[0].Seq != 1 {
		t.Fatalf("first run: %+v", ra.Projects[0])
	}
	if p, _ := a.Sync.Preview(id); p.Pending != 0 {
		t.Fatalf("outbox not emptied after the commit: %d pending", p.Pending)
	}
	rb, err := b.Sync.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Projects[0].Pulled != 3 || readFile(rootB, "stems/drums.wav") != "drums" || readFile(rootB, "renders/big.mov") != "<missing>" {
		t.Fatalf("laptop pull: %+v", rb.Projects[0])
	}
	// Both edit mix.wav; the studio also edits notes.txt.
	writeFiles(t, rootA, map[string]string{"mix.wav": "mix studio", "notes.txt": "notes v2"})
	writeFiles(t, rootB, map[string]string{"mix.wav": "mix laptop"})
	a.Projects.Rescan(id)
	b.Projects.Rescan(id)
	if p, _ := a.Sync.Preview(id); p.Pending == 0 {
		t.Fatal("changes did not reach the outbox")
	}
	if _, err := a.Sync.Run(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	rb, err = b.Sync.Run(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := b.Sync.Conflicts()
	if len(cs) != 1 || cs[0].Path != "mix.wav" || cs[0].Device != "studio" {
		t.Fatalf("laptop conflicts: %+v", cs)
	}
	if readFile(rootB, "mix.wav") != "mix laptop" || readFile(rootB, cs[0].Copy) != "mix studio" || readFile(rootB, "notes.txt") != "notes v2" {
		t.Fatalf("laptop files after the conflict: mix %q copy %q notes %q", readFile(rootB, "mix.wav"), readFile(rootB, cs[0].Copy), readFile(rootB, "notes.txt"))
	}
	b.Projects.Rescan(id)
	if _, err := a.Sync.Run(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if readFile(rootA, cs[0].Copy) != "mix studio" || readFile(rootA, "mix.wav") != "mix laptop" {
		t.Fatal("the studio did not get the merge")
	}
	snaps, err := a.Sync.Snapshots(id)
	if err != nil || len(snaps) < 3 || !snaps[0].Current {
		t.Fatalf("history: %+v %v", snaps, err)
	}
	out := t.TempDir()
	rr, err := b.Sync.Restore(id, out, "1", syncsvc.RestoreOptions{})
	if err != nil || rr.Files != 3 || readFile(out, "mix.wav") != "mix v1" {
		t.Fatalf("restore of snapshot 1: %+v %v", rr, err)
	}
	vr, err := a.Sync.Verify(id)
	if err != nil || len(vr.Problems) != 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
	st, err := b.Sync.Status()
	if err != nil || st.Conflicts != 1 || len(st.Projects) != 1 || st.Projects[0].LastSeq == 0 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := a.Sync.Prune(""); err != nil {
		t.Fatal(err)
	}
	// A wrong passphrase is refused clearly.
	c, _ := syncEngine(t, "intruder", "file://"+filepath.ToSlash(t.TempDir()))
	_, err = c.Sync.RemoteAdd(syncsvc.RemoteSpec{Name: "theirs", URL: remoteURL, Passphrase: "not it"})
	if err == nil || !strings.Contains(err.Error(), "passphrase does not unlock") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	for _, r := range []string{"s3://user:secret@bucket", "s3://bucket?secret_key=x"} {
		if _, err := c.Sync.RemoteAdd(syncsvc.RemoteSpec{Name: "bad", URL: r}); err == nil {
			t.Fatalf("secret in URL %s accepted", r)
		}
	}
}

func TestSyncDefaultRemoteNeedsPassphrase(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	defer e.Close()
	e.syncCtl.SetSecrets(&memSecrets{m: map[string]string{}})
	e.Privacy.Grant("sync.cloud", "test")
	rs, err := e.Sync.RemoteList()
	if err != nil || len(rs) != 1 || rs[0].Name != "local" || !strings.HasPrefix(rs[0].URL, "file://") {
		t.Fatalf("default remote: %+v %v", rs, err)
	}
	root := filepath.Join(t.TempDir(), "p")
	writeFiles(t, root, map[string]string{"a.txt": "a"})
	p, _ := e.Projects.Add(root)
	t.Setenv("ATELIER_VAULT_PASSPHRASE", "")
	if _, err := e.Sync.Run(context.Background(), string(p.ID)); err == nil || !strings.Contains(err.Error(), "ATELIER_VAULT_PASSPHRASE") {
		t.Fatalf("run without passphrase: %v", err)
	}
	t.Setenv("ATELIER_VAULT_PASSPHRASE", "from the environment")
	r, err := e.Sync.Run(context.Background(), string(p.ID))
	if err != nil || r.Projects[0].Uploaded != 1 {
		t.Fatalf("run: %+v %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(e.Dirs.Data, "remote", "config")); err != nil {
		t.Fatalf("the default vault is not under the data dir: %v", err)
	}
}

// noKeyring fails every write, like a desktop session without a secret service.
type noKeyring struct{ memSecrets }

func (*noKeyring) Set(string, string) error { return keyring.ErrUnsupportedPlatform }

// Without a keyring the remote is still added (the command succeeds), the
// passphrase stays in memory only, and the result says so.
func TestRemoteAddWithoutKeyringWarnsButAdds(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	t.Cleanup(func() { e.Close() })
	e.syncCtl.SetSecrets(&noKeyring{memSecrets{m: map[string]string{}}})
	if _, err := e.Privacy.Grant("sync.cloud", "test"); err != nil {
		t.Fatal(err)
	}
	r, err := e.Sync.RemoteAdd(syncsvc.RemoteSpec{Name: "box", URL: "file://" + t.TempDir(), Passphrase: "pass phrase for tests"})
	if err != nil {
		t.Fatalf("add without a keyring failed: %v", err)
	}
	if !strings.Contains(r.Warning, "no OS keyring") || r.Passphrase != "session" {
		t.Fatalf("want a keyring warning and a session passphrase, got %+v", r)
	}
	rs, err := e.Sync.RemoteList()
	if err != nil || len(rs) == 0 {
		t.Fatalf("remote not listed: %v %v", rs, err)
	}
	for _, x := range rs {
		if x.Warning != "" {
			t.Fatalf("the warning was stored with the remote: %+v", x)
		}
	}
}

// An index pass of thousands of files reaches the outbox in a few batched
// transactions: every selected file once, the excluded ones not at all.
func TestOutboxTakesALargePassInBatches(t *testing.T) {
	e, _ := syncEngine(t, "studio", "file://"+t.TempDir())
	root := t.TempDir()
	p, err := e.Projects.Add(root)
	if err != nil {
		t.Fatal(err)
	}
	id := string(p.ID)
	if err := e.Sync.SetRules(id, syncsvc.SyncRules{Enabled: true, Remote: "shared", Rules: rules.Rules{Exclude: []string{"*.tmpx"}}}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for i := 0; i < 4500; i++ {
		files[fmt.Sprintf("takes/t%04d.wav", i)] = "x"
	}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("scratch/s%03d.tmpx", i)] = "y"
	}
	writeFiles(t, root, files)
	if _, err := e.Projects.Rescan(id); err != nil {
		t.Fatal(err)
	}
	pv, err := e.Sync.Preview(id)
	if err != nil {
		t.Fatal(err)
	}
	// 4,500 files and the whole-project entry SetRules queued.
	if pv.Pending != 4501 {
		t.Fatalf("%d outbox entries after indexing 4,500 selected and 300 excluded files, want 4501", pv.Pending)
	}
}

// A remote's bandwidth limit changes in place: stored, listed, and applied to
// the limiter running transfers use; a negative one is refused.
func TestRemoteSetLimit(t *testing.T) {
	e, _ := syncEngine(t, "studio", "file://"+t.TempDir())
	r, err := e.Sync.RemoteSetLimit("shared", 512)
	if err != nil || r.BandwidthKBps != 512 {
		t.Fatalf("set limit: %+v %v", r, err)
	}
	rs, _ := e.Sync.RemoteList()
	for _, x := range rs {
		if x.Name == "shared" && x.BandwidthKBps != 512 {
			t.Fatalf("listed with %d KiB/s", x.BandwidthKBps)
		}
	}
	if got := e.syncCtl.LimiterRate("shared"); got != 512*1024 {
		t.Fatalf("limiter at %d B/s, want %d", got, 512*1024)
	}
	if _, err := e.Sync.RemoteSetLimit("shared", 0); err != nil || e.syncCtl.LimiterRate("shared") != 0 {
		t.Fatalf("lifting the limit: %v, rate %d", err, e.syncCtl.LimiterRate("shared"))
	}
	if _, err := e.Sync.RemoteSetLimit("shared", -1); err == nil {
		t.Fatal("a negative limit was accepted")
	}
	if _, err := e.Sync.RemoteSetLimit("nowhere", 10); err == nil {
		t.Fatal("an unknown remote was accepted")
	}
}
