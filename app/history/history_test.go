package history_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app/apierr"
	"atelier/app/history"
	"atelier/diskspace"
	"atelier/localdb"
	"atelier/sync/vault"
)

var ctx = context.Background()

// folders is a FileSource over real folders; Files walks them the way the
// index would have recorded them.
type folders map[string]string

func (f folders) Root(project string) (string, error) {
	r, ok := f[project]
	if !ok {
		return "", errors.New("no project " + project)
	}
	return r, nil
}

func (f folders) Files(project string) ([]history.File, error) {
	var out []history.File
	root := f[project]
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, _ := d.Info()
		out = append(out, history.File{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode()})
		return nil
	})
	return out, err
}

type notices struct {
	mu  sync.Mutex
	all []history.Notice
}

func (n *notices) Notify(x history.Notice) {
	n.mu.Lock()
	n.all = append(n.all, x)
	n.mu.Unlock()
}

func (n *notices) kinds() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var k []string
	for _, x := range n.all {
		k = append(k, x.Kind)
	}
	return strings.Join(k, ",")
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	h     *history.History
	root  string
	clk   *clock
	notes *notices
	db    *localdb.DB
	dir   string
}

func cheapKDF() *vault.KDFParams {
	return &vault.KDFParams{Alg: "argon2id", Time: 1, Memory: 8 << 10, Threads: 1, Salt: []byte("0123456789abcdef")}
}

var openErr error

// openEnvRaw opens history on real time without a test (the crash
// child); nil when it cannot.
func openEnvRaw(root, dbDir, dir string) *env {
	db, err := localdb.Open(dbDir, localdb.Options{})
	if err != nil {
		openErr = err
		return nil
	}
	n := &notices{}
	h, err := history.Open(ctx, history.Options{Dir: dir, DB: db, Files: folders{"song": root}, Notify: n, KDF: cheapKDF(), MinFree: 1})
	if err != nil {
		openErr = err
		db.Close()
		return nil
	}
	return &env{h: h, root: root, clk: &clock{t: time.Now()}, notes: n, db: db, dir: dir}
}

func openEnv(t testing.TB, root, dbDir, dir string, clk *clock) *env {
	t.Helper()
	db, err := localdb.Open(dbDir, localdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := &notices{}
	h, err := history.Open(ctx, history.Options{Dir: dir, DB: db, Files: folders{"song": root}, Notify: n, Now: clk.Now, KDF: cheapKDF(), MinFree: 1})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	e := &env{h: h, root: root, clk: clk, notes: n, db: db, dir: dir}
	t.Cleanup(func() { h.Close(); db.Close() })
	return e
}

func newEnv(t testing.TB) *env {
	return openEnv(t, t.TempDir(), t.TempDir(), t.TempDir(), &clock{t: time.Now()})
}

// save writes a file and tells history, as the index would.
func (e *env) save(t testing.TB, p, content string) {
	t.Helper()
	abs := filepath.Join(e.root, filepath.FromSlash(p))
	os.MkdirAll(filepath.Dir(abs), 0o755)
	if err := os.WriteFile(abs, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(abs)
	if err := e.h.Consider(history.Change{Project: "song", Op: history.OpModify, Path: p, Size: fi.Size(), ModTime: fi.ModTime(), SHA256: sha256.Sum256([]byte(content))}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) remove(t testing.TB, p string) {
	t.Helper()
	os.Remove(filepath.Join(e.root, filepath.FromSlash(p)))
	e.h.Consider(history.Change{Project: "song", Op: history.OpDelete, Path: p})
}

func (e *env) rename(t testing.TB, from, to string) {
	t.Helper()
	dst := filepath.Join(e.root, filepath.FromSlash(to))
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.Rename(filepath.Join(e.root, filepath.FromSlash(from)), dst); err != nil {
		t.Fatal(err)
	}
	e.h.Consider(history.Change{Project: "song", Op: history.OpRename, Path: to, From: from})
}

// settle lets the files settle and takes the version.
func (e *env) settle(t testing.TB) {
	t.Helper()
	e.clk.Add(4 * time.Second)
	if err := e.h.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
}

func (e *env) read(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *env) versionContent(t testing.TB, p, at string) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.h.ReadVersion(ctx, "song", p, at, &buf); err != nil {
		t.Fatalf("read version %s of %s: %v", at, p, err)
	}
	return buf.String()
}

func contents(t testing.TB, e *env, p string) []string {
	t.Helper()
	vs, err := e.h.Versions("song", p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		if v.Op == history.OpDelete {
			out = append(out, "<deleted>")
			continue
		}
		out = append(out, e.versionContent(t, p, itoa(v.Seq)))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestVersionsOnSave: a saved change becomes a version once it settled,
// with no consent of any kind (history has no consent check to pass).
func TestVersionsOnSave(t *testing.T) {
	e := newEnv(t)
	e.save(t, "mix.wav", "take one")
	if err := e.h.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	if vs, _ := e.h.Versions("song", "mix.wav"); len(vs) != 0 {
		t.Fatalf("a version before the file settled: %+v", vs)
	}
	e.settle(t)
	e.save(t, "mix.wav", "take two, longer")
	e.clk.Add(time.Second)
	e.save(t, "mix.wav", "take three") // saved again before settling: one version
	e.settle(t)
	got := contents(t, e, "mix.wav")
	if strings.Join(got, "|") != "take three|take one" {
		t.Fatalf("versions of mix.wav: %q", got)
	}
	vs, _ := e.h.Versions("song", "mix.wav")
	if vs[0].Size != 10 || vs[0].Op != history.OpModify || vs[1].Op != history.OpCreate {
		t.Fatalf("versions: %+v", vs)
	}
	// Touching without changing the content is not a version.
	e.save(t, "mix.wav", "take three")
	e.settle(t)
	if vs, _ := e.h.Versions("song", "mix.wav"); len(vs) != 2 {
		t.Fatalf("an unchanged save made a version: %d", len(vs))
	}
	// History off: no versions.
	e.h.SetSettings("song", history.Settings{Off: true})
	e.save(t, "mix.wav", "while off")
	e.settle(t)
	if vs, _ := e.h.Versions("song", "mix.wav"); len(vs) != 2 {
		t.Fatalf("a version while history was off: %d", len(vs))
	}
}

// TestRestoreInPlaceKeepsCurrent: the content replaced by a restore is a
// version first, even when it had not settled yet; restoring it back works.
func TestRestoreInPlaceKeepsCurrent(t *testing.T) {
	e := newEnv(t)
	e.save(t, "mix.wav", "monday")
	e.settle(t)
	e.save(t, "mix.wav", "tuesday")
	e.settle(t)
	vs, _ := e.h.Versions("song", "mix.wav")
	monday := vs[1].Seq
	e.save(t, "mix.wav", "unsaved wednesday") // not settled
	res, err := e.h.Restore(ctx, "song", "mix.wav", itoa(monday))
	if err != nil {
		t.Fatal(err)
	}
	if e.read(t, "mix.wav") != "monday" || res.From != monday || res.Before == 0 || res.Version == 0 {
		t.Fatalf("after restore: %q %+v", e.read(t, "mix.wav"), res)
	}
	got := contents(t, e, "mix.wav")
	if strings.Join(got, "|") != "monday|unsaved wednesday|tuesday|monday" {
		t.Fatalf("versions after restore: %q", got)
	}
	vs, _ = e.h.Versions("song", "mix.wav")
	if vs[0].Op != history.OpRestore {
		t.Fatalf("the restore is not recorded: %+v", vs[0])
	}
	// Undo: restore the pre-restore content.
	if _, err := e.h.Restore(ctx, "song", "mix.wav", itoa(vs[1].Seq)); err != nil {
		t.Fatal(err)
	}
	if e.read(t, "mix.wav") != "unsaved wednesday" {
		t.Fatalf("undo: %q", e.read(t, "mix.wav"))
	}
	// Save as copy leaves the file alone.
	cp, err := e.h.RestoreAs(ctx, "song", "mix.wav", itoa(monday), "")
	if err != nil {
		t.Fatal(err)
	}
	if cp.As != "mix (version "+itoa(monday)+").wav" || e.read(t, cp.As) != "monday" || e.read(t, "mix.wav") != "unsaved wednesday" {
		t.Fatalf("save as copy: %+v", cp)
	}
}

// TestHistoryFollowsRename: after a rename or move, the file's versions
// are listed under its new path and still read.
func TestHistoryFollowsRename(t *testing.T) {
	e := newEnv(t)
	e.save(t, "vocals.wav", "v1")
	e.settle(t)
	e.save(t, "vocals.wav", "v2")
	e.settle(t)
	e.rename(t, "vocals.wav", "stems/lead vocals.wav")
	e.settle(t)
	e.save(t, "stems/lead vocals.wav", "v3")
	e.settle(t)
	got := contents(t, e, "stems/lead vocals.wav")
	if strings.Join(got, "|") != "v3|v2|v2|v1" {
		t.Fatalf("versions after the move: %q", got)
	}
	if vs, _ := e.h.Versions("song", "vocals.wav"); len(vs) != 0 {
		t.Fatalf("the old path still has versions: %+v", vs)
	}
	if d, _ := e.h.DeletedFiles("song"); len(d) != 0 {
		t.Fatalf("a moved file is listed as deleted: %+v", d)
	}
	vs, _ := e.h.Versions("song", "stems/lead vocals.wav")
	if vs[1].Op != history.OpRename || vs[1].From != "vocals.wav" || vs[3].SnapPath != "vocals.wav" {
		t.Fatalf("rename entries: %+v", vs)
	}
	// Restoring an old version writes it at the new path.
	if _, err := e.h.Restore(ctx, "song", "stems/lead vocals.wav", itoa(vs[3].Seq)); err != nil {
		t.Fatal(err)
	}
	if e.read(t, "stems/lead vocals.wav") != "v1" {
		t.Fatal("restore after a move wrote the wrong content")
	}
}

// TestDeletedFileRestores: a deleted file is listed and comes back with
// its last content.
func TestDeletedFileRestores(t *testing.T) {
	e := newEnv(t)
	e.save(t, "keep.txt", "k")
	e.save(t, "drums/loop.wav", "loop 1")
	e.settle(t)
	e.save(t, "drums/loop.wav", "loop 2")
	e.settle(t)
	e.remove(t, "drums/loop.wav")
	e.settle(t)
	d, err := e.h.DeletedFiles("song")
	if err != nil || len(d) != 1 || d[0].Path != "drums/loop.wav" || d[0].Size != 6 {
		t.Fatalf("deleted: %+v %v", d, err)
	}
	res, err := e.h.Restore(ctx, "song", "drums/loop.wav", "")
	if err != nil {
		t.Fatal(err)
	}
	if e.read(t, "drums/loop.wav") != "loop 2" || len(res.Paths) != 1 {
		t.Fatalf("restored %q %+v", e.read(t, "drums/loop.wav"), res)
	}
	if d, _ := e.h.DeletedFiles("song"); len(d) != 0 {
		t.Fatalf("still listed as deleted after the restore: %+v", d)
	}
	// A folder restores as a whole.
	e.remove(t, "drums/loop.wav")
	e.settle(t)
	pt, _ := e.h.Point("song", itoa(res.Version))
	if _, err := e.h.Restore(ctx, "song", "drums", itoa(pt.Seq)); err != nil {
		t.Fatal(err)
	}
	if e.read(t, "drums/loop.wav") != "loop 2" {
		t.Fatal("folder restore")
	}
}

// TestDiffBetweenMilestones: the diff of two milestones is exactly what
// changed, renames included, and a past state browses as a tree.
func TestDiffBetweenMilestones(t *testing.T) {
	e := newEnv(t)
	e.save(t, "a.txt", "aaaa")
	e.save(t, "b.txt", "bbbb")
	e.save(t, "c.txt", "cccc")
	e.save(t, "dir/d.txt", "dddd")
	e.settle(t)
	if _, err := e.h.Milestone("song", "rough mix", ""); err != nil {
		t.Fatal(err)
	}
	e.save(t, "a.txt", "aaaa changed")
	e.remove(t, "b.txt")
	e.rename(t, "c.txt", "moved/c.txt")
	e.save(t, "new.txt", "n")
	e.settle(t)
	e.save(t, "dir/d.txt", "dd") // changed and changed back? no: changed
	e.settle(t)
	if _, err := e.h.Milestone("song", "sent to mastering", ""); err != nil {
		t.Fatal(err)
	}
	d, err := e.h.Diff(ctx, "song", "rough mix", "sent to mastering")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range d.Entries {
		s := x.Status + " " + x.Path
		if x.From != "" {
			s += " from " + x.From
		}
		got = append(got, s+" "+itoa(x.SizeDelta))
	}
	want := "changed a.txt 8|removed b.txt -4|changed dir/d.txt -2|renamed moved/c.txt from c.txt 0|added new.txt 1"
	if strings.Join(got, "|") != want {
		t.Fatalf("diff:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	if d.Added != 1 || d.Removed != 1 || d.Changed != 2 || d.Renamed != 1 || d.SizeDelta != 3 {
		t.Fatalf("diff counts: %+v", d)
	}
	_, ents, err := e.h.Browse(ctx, "song", "rough mix", "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range ents {
		names = append(names, x.Name)
	}
	if strings.Join(names, ",") != "a.txt,b.txt,c.txt,dir" || !ents[3].Dir {
		t.Fatalf("browse: %+v", ents)
	}
	tl, _ := e.h.Timeline("song")
	if len(tl) != 3 || len(tl[0].Milestones) != 1 || tl[2].Milestones[0] != "rough mix" {
		t.Fatalf("timeline: %+v", tl)
	}
}

// TestFullDiskPausesHistory: with the disk full, history pauses with a
// notice naming the fix, takes nothing and corrupts nothing; it resumes
// by itself once there is room.
func TestFullDiskPausesHistory(t *testing.T) {
	e := newEnv(t)
	e.save(t, "a.txt", "one")
	e.settle(t)
	real := diskspace.Statfs
	t.Cleanup(func() { diskspace.Statfs = real })
	diskspace.Statfs = func(string) (diskspace.Usage, error) {
		return diskspace.Usage{Free: 0, Total: 1 << 30, Mount: "/full"}, nil
	}
	e.save(t, "a.txt", "two")
	e.clk.Add(4 * time.Second)
	err := e.h.Flush(ctx, false)
	if !errors.Is(err, history.ErrPaused) || !strings.Contains(err.Error(), "budget") || !strings.Contains(err.Error(), "Free some space") {
		t.Fatalf("full disk: %v", err)
	}
	if p, _, _ := e.h.Status("song"); p == "" {
		t.Fatal("status does not say history is paused")
	}
	if got := contents(t, e, "a.txt"); len(got) != 1 {
		t.Fatalf("a version was taken on a full disk: %q", got)
	}
	diskspace.Statfs = real
	e.settle(t)
	if got := contents(t, e, "a.txt"); strings.Join(got, "|") != "two|one" {
		t.Fatalf("after room came back: %q", got)
	}
	if k := e.notes.kinds(); k != "paused,resumed" {
		t.Fatalf("notices: %s", k)
	}
	if vr, err := e.h.Vault().Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
}

// TestServiceKinds: the service tags refusals for the API.
func TestServiceKinds(t *testing.T) {
	e := newEnv(t)
	s := history.NewService(e.h)
	e.save(t, "a.txt", "a")
	e.settle(t)
	_, err := s.Restore(ctx, history.RestoreRequest{Project: "song", Path: "nothing.txt", At: ""})
	if !errors.Is(err, apierr.NotFound) {
		t.Fatalf("restore of an unknown file: %v", err)
	}
	if _, err := s.Milestone("song", "", ""); !errors.Is(err, apierr.InvalidInput) {
		t.Fatalf("empty milestone: %v", err)
	}
	if _, err := s.SetBudget(ctx, history.Budget{SharePercent: 95}); !errors.Is(err, apierr.InvalidInput) {
		t.Fatalf("budget: %v", err)
	}
	bi, err := s.SetBudget(ctx, history.Budget{CapBytes: 1 << 30})
	if err != nil || bi.CapBytes != 1<<30 || len(bi.Projects) != 1 {
		t.Fatalf("budget: %+v %v", bi, err)
	}
	if err := s.SetEnabled("song", false); err != nil {
		t.Fatal(err)
	}
	if _, off, _ := e.h.Status("song"); !off {
		t.Fatal("history still on")
	}
	br, err := s.Browse(ctx, "song", "", "")
	if err != nil || len(br.Entries) != 1 || br.Entries[0].Path != "a.txt" {
		t.Fatalf("browse: %+v %v", br, err)
	}
}

// TestPlayVersionWithRanges: a version is served for playback with byte
// ranges (an A/B switch seeks to the same playhead) without a restore.
func TestPlayVersionWithRanges(t *testing.T) {
	e := newEnv(t)
	old := strings.Repeat("0123456789", 50000) // 500 KB: many chunks
	e.save(t, "mix.wav", old)
	e.settle(t)
	e.save(t, "mix.wav", "new")
	e.settle(t)
	srv := httptest.NewServer(history.Handler(e.h))
	defer srv.Close()
	vs, _ := e.h.Versions("song", "mix.wav")
	req, _ := http.NewRequest("GET", srv.URL+"/?project=song&path=mix.wav&at="+itoa(vs[1].Seq), nil)
	req.Header.Set("Range", "bytes=300000-300009")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(body) != old[300000:300010] || resp.Header.Get("Content-Type") != "audio/vnd.wave" && resp.Header.Get("Content-Type") != "audio/wav" && resp.Header.Get("Content-Type") != "audio/x-wav" {
		t.Fatalf("range: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	resp, err = http.Get(srv.URL + "/?project=song&path=mix.wav&at=" + itoa(vs[1].Seq))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != old {
		t.Fatalf("whole version: %d bytes", len(body))
	}
	if e.read(t, "mix.wav") != "new" {
		t.Fatal("playing a version changed the file")
	}
	resp, _ = http.Get(srv.URL + "/?project=song&path=nothing.wav")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown file: %d", resp.StatusCode)
	}
}

// TestFirstVersionOfALargeProject: the first version of a project waits on
// one pending change per file, more than one Badger transaction takes
// ("Txn is too big": with localdb's 8 MiB memtables a transaction holds about
// 13,000 entries): it is recorded anyway and nothing stays pending.
func TestFirstVersionOfALargeProject(t *testing.T) {
	e := newEnv(t)
	const n = 20000
	for i := range n {
		e.save(t, fmt.Sprintf("d%02d/f%05d.txt", i%50, i), strconv.Itoa(i))
	}
	e.settle(t)
	tl, err := e.h.Timeline("song")
	if err != nil || len(tl) != 1 || tl[0].Files != n {
		t.Fatalf("timeline after the first version: %+v, %v", tl, err)
	}
	if vs, _ := e.h.Versions("song", "d07/f12357.txt"); len(vs) != 1 {
		t.Fatalf("versions of one of the files: %+v", vs)
	}
	// Nothing left pending: another flush takes no version.
	e.settle(t)
	if tl, _ := e.h.Timeline("song"); len(tl) != 1 {
		t.Fatalf("a second version with nothing changed: %d versions", len(tl))
	}
}

// blockingFiles holds the first version of a project in its file listing
// until released: a version in flight.
type blockingFiles struct {
	folders
	listing chan struct{}
	release chan struct{}
}

func (b blockingFiles) Files(project string) ([]history.File, error) {
	b.listing <- struct{}{}
	<-b.release
	return b.folders.Files(project)
}

// TestTakingNamesTheVersionInFlight: while a version is being taken,
// Taking names its project (the desktop app's quit notice says so), and ""
// otherwise.
func TestTakingNamesTheVersionInFlight(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "mix.wav"), []byte("take one"), 0o644)
	db, err := localdb.Open(t.TempDir(), localdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := blockingFiles{folders{"song": root}, make(chan struct{}), make(chan struct{})}
	h, err := history.Open(ctx, history.Options{Dir: t.TempDir(), DB: db, Files: src, KDF: cheapKDF(), MinFree: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	svc := history.NewService(h)
	if got := svc.Taking(); got != "" {
		t.Fatalf("Taking before any version: %q", got)
	}
	done := make(chan error, 1)
	go func() { _, err := h.FlushProject(ctx, "song"); done <- err }()
	<-src.listing
	if got := svc.Taking(); got != "song" {
		t.Errorf("Taking while the first version is taken: %q, want song", got)
	}
	close(src.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := svc.Taking(); got != "" {
		t.Errorf("Taking after the version: %q", got)
	}
	if vs, _ := h.Versions("song", "mix.wav"); len(vs) != 1 {
		t.Errorf("versions after the flush: %+v", vs)
	}
}

// TestRunWakesForChangesAfterIdle: Run stops scanning the pending changes
// once none are left (an idle engine's CPU), and still takes a version of
// every change considered afterwards, also after it dropped the vault's
// cached snapshots and trees while idle (DropCachesAfter).
func TestRunWakesForChangesAfterIdle(t *testing.T) {
	old := history.DropCachesAfter
	history.DropCachesAfter = 300 * time.Millisecond
	defer func() { history.DropCachesAfter = old }()
	root := t.TempDir()
	db, err := localdb.Open(t.TempDir(), localdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := history.Open(ctx, history.Options{Dir: t.TempDir(), DB: db, Files: folders{"song": root}, KDF: cheapKDF(), MinFree: 1, Settle: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { h.Run(runCtx); close(ran) }()
	defer func() { stop(); <-ran }()
	for i := range 3 {
		time.Sleep(700 * time.Millisecond) // nothing pending: Run idles
		content := fmt.Sprintf("take %d", i)
		os.WriteFile(filepath.Join(root, "mix.wav"), []byte(content), 0o644)
		fi, _ := os.Stat(filepath.Join(root, "mix.wav"))
		if err := h.Consider(history.Change{Project: "song", Op: history.OpModify, Path: "mix.wav", Size: fi.Size(), ModTime: fi.ModTime(), SHA256: sha256.Sum256([]byte(content))}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			if vs, _ := h.Versions("song", "mix.wav"); len(vs) == i+1 {
				break
			}
			if time.Now().After(deadline) {
				vs, _ := h.Versions("song", "mix.wav")
				t.Fatalf("change %d: %d versions after 15 s, want %d", i, len(vs), i+1)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestRunTakesChangesPendingAtOpen: changes considered before a restart
// (not yet settled) are taken by the next run's Run, which learns of them
// when history opens, not from a change considered afterwards.
func TestRunTakesChangesPendingAtOpen(t *testing.T) {
	root := t.TempDir()
	dbDir, dir := t.TempDir(), t.TempDir()
	open := func() (*localdb.DB, *history.History) {
		db, err := localdb.Open(dbDir, localdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := history.Open(ctx, history.Options{Dir: dir, DB: db, Files: folders{"song": root, "demo": root}, KDF: cheapKDF(), MinFree: 1, Settle: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return db, h
	}
	db, h := open()
	for _, project := range []string{"song", "demo"} {
		os.WriteFile(filepath.Join(root, "mix.wav"), []byte("take 1"), 0o644)
		fi, _ := os.Stat(filepath.Join(root, "mix.wav"))
		if err := h.Consider(history.Change{Project: project, Op: history.OpModify, Path: "mix.wav", Size: fi.Size(), ModTime: fi.ModTime(), SHA256: sha256.Sum256([]byte("take 1"))}); err != nil {
			t.Fatal(err)
		}
	}
	h.Close()
	db.Close()

	db, h = open()
	defer db.Close()
	defer h.Close()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { h.Run(runCtx); close(ran) }()
	defer func() { stop(); <-ran }()
	deadline := time.Now().Add(15 * time.Second)
	for _, project := range []string{"song", "demo"} {
		for {
			if vs, _ := h.Versions(project, "mix.wav"); len(vs) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no version of a change pending at open after 15 s", project)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestConsiderAllInBatches: an index batch larger than one transaction
// holds is recorded in full, in order: a rename edited again in the same
// batch stays a rename carrying the file's versions.
func TestConsiderAllInBatches(t *testing.T) {
	e := newEnv(t)
	e.save(t, "a.txt", "first")
	e.settle(t)
	if err := os.Rename(filepath.Join(e.root, "a.txt"), filepath.Join(e.root, "b.txt")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(e.root, "b.txt"), []byte("second"), 0o644)
	fi, _ := os.Stat(filepath.Join(e.root, "b.txt"))
	cs := []history.Change{{Project: "song", Op: history.OpRename, Path: "b.txt", From: "a.txt"}}
	for i := range 2500 {
		p := fmt.Sprintf("takes/f%04d.txt", i)
		os.MkdirAll(filepath.Join(e.root, "takes"), 0o755)
		os.WriteFile(filepath.Join(e.root, p), []byte(p), 0o644)
		cs = append(cs, history.Change{Project: "song", Op: history.OpCreate, Path: p})
	}
	cs = append(cs, history.Change{Project: "song", Op: history.OpModify, Path: "b.txt", Size: fi.Size(), ModTime: fi.ModTime()})
	if err := e.h.ConsiderAll(cs); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	for _, i := range []int{0, 999, 1000, 2499} {
		p := fmt.Sprintf("takes/f%04d.txt", i)
		if vs, err := e.h.Versions("song", p); err != nil || len(vs) != 1 {
			t.Fatalf("%s: %d versions (%v), want 1", p, len(vs), err)
		}
	}
	vs, err := e.h.Versions("song", "b.txt")
	if err != nil || len(vs) != 2 {
		t.Fatalf("b.txt: %d versions (%v), want a.txt's and the rename's", len(vs), err)
	}
	if got := e.versionContent(t, "b.txt", fmt.Sprint(vs[0].Seq)) + "," + e.versionContent(t, "b.txt", fmt.Sprint(vs[1].Seq)); got != "second,first" && got != "first,second" {
		t.Fatalf("b.txt's versions hold %q", got)
	}
	if vs[0].Op != history.OpRename && vs[1].Op != history.OpRename {
		t.Fatalf("b.txt's versions %+v: no rename", vs)
	}
}
