package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"atelier/app/modules/sandbox/sandboxtest"
	"atelier/signing/manifest"
)

var (
	hostileOnce sync.Once
	hostileWasm string
)

// hostileModule is a module folder holding the hostile program with the
// given permissions.
func hostileModule(t *testing.T, perms ...string) Module {
	t.Helper()
	hostileOnce.Do(func() { hostileWasm = sandboxtest.Build(t, "./testdata/hostile") })
	dir := t.TempDir()
	sandboxtest.Install(t, hostileWasm, dir, manifest.DefaultMain)
	m := manifest.Manifest{Name: "@test/hostile", Version: "1.0.0", Kind: manifest.KindAction, License: "MIT", Permissions: append([]string{manifest.PermScriptRun}, perms...)}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return Module{Manifest: m, Dir: dir, Signer: "test"}
}

// world is a host folder with a project inside it, a file beside the project
// (outside.txt) that no run may read, and links planted in the project that
// point out.
type world struct {
	base, project, output string
}

func newWorld(t *testing.T) world {
	t.Helper()
	base := t.TempDir()
	w := world{base: base, project: filepath.Join(base, "project"), output: filepath.Join(base, "out")}
	mustWrite(t, filepath.Join(base, "outside.txt"), "the secret beside the project")
	mustWrite(t, filepath.Join(w.project, "song.txt"), "la la la")
	mustWrite(t, filepath.Join(w.project, "secret.txt"), "not selected")
	mustWrite(t, filepath.Join(w.project, "sub", "a.txt"), "a")
	mustWrite(t, filepath.Join(w.project, "sub", "b.txt"), "b")
	for link, target := range map[string]string{
		"link-file":   filepath.Join(base, "outside.txt"),
		"link-dir":    base,
		"inside-link": "song.txt",
	} {
		if err := os.Symlink(target, filepath.Join(w.project, link)); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func mustWrite(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testCache is the compilation cache every test runner shares, so a module
// is compiled once per test binary (compiling is slow under -race).
var testCache = filepath.Join(os.TempDir(), "atelier-sandbox-test-cache")

func newRunner(t testing.TB, cfg Config) *Runner {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = testCache
	}
	r, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

// sharedRunner compiles the hostile program once for the tests that use the
// default limits.
var (
	sharedOnce sync.Once
	shared     *Runner
)

func runner(t *testing.T) *Runner {
	sharedOnce.Do(func() {
		r, err := New(context.Background(), Config{CacheDir: testCache})
		if err != nil {
			t.Fatal(err)
		}
		shared = r
	})
	return shared
}

func attack(t *testing.T, r *Runner, m Module, w world, name string, lim Limits) (*Record, error) {
	t.Helper()
	rec, err := r.Run(context.Background(), m, Request{Project: w.project, Output: w.output, Args: []string{name}, Limits: lim})
	if rec == nil {
		t.Fatalf("%s: no record (err %v)", name, err)
	}
	if strings.Contains(rec.Report, "LEAK") {
		t.Errorf("%s: the sandbox leaked:\n%s", name, rec.Report)
	}
	return rec, err
}

// nothingOutside checks that the world holds only what the test put there
// and what the run wrote into its output folder.
func nothingOutside(t *testing.T, w world) {
	t.Helper()
	for _, p := range []string{filepath.Join(w.base, "escape.txt"), filepath.Join(w.project, "new.txt"), filepath.Join(w.project, "x"), "/tmp/escape.txt", "/escape.txt"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written outside the output folder", p)
		}
	}
	if b, err := os.ReadFile(filepath.Join(w.project, "song.txt")); err != nil || string(b) != "la la la" {
		t.Errorf("project file changed: %q %v", b, err)
	}
}

func TestRunWritesReportAndRecord(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead, manifest.PermModuleWrite)
	rec, err := attack(t, runner(t), m, w, "ok", Limits{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	if rec.Outcome != OutcomeOK || rec.Module != "@test/hostile" || rec.Version != "1.0.0" || rec.Signer != "test" || rec.Duration <= 0 {
		t.Fatalf("record %+v", rec)
	}
	if !strings.Contains(rec.Report, "files: inside-link,link-dir,link-file,secret.txt,song.txt,sub/a.txt,sub/b.txt") {
		t.Errorf("report %q", rec.Report)
	}
	if !strings.Contains(rec.Log, "a line on stderr") {
		t.Errorf("log %q", rec.Log)
	}
	if len(rec.Files) != 1 || rec.Files[0].Path != "sub/report.txt" || rec.Files[0].Size != int64(len("saw la la la")) {
		t.Errorf("files %+v", rec.Files)
	}
	if got := strings.Join(rec.Used, ","); got != "module:write,project:read" {
		t.Errorf("used %q", got)
	}
	if got := strings.Join(rec.Permissions, ","); got != "module:write,project:read,script:run" {
		t.Errorf("permissions %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(w.output, "sub", "report.txt")); string(b) != "saw la la la" {
		t.Errorf("output %q", b)
	}
}

func TestNoPermissionNoMount(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t) // script:run only
	rec, _ := attack(t, runner(t), m, w, "ok", Limits{})
	if rec.Outcome != OutcomeFailed || !strings.Contains(rec.Report+rec.Log, "song.txt") {
		t.Fatalf("without project:read the project must not be there: %+v", rec)
	}
	if _, err := os.Stat(w.output); err == nil {
		t.Errorf("the output folder was made without module:write")
	}
	// Declared but not granted is the same as not declared.
	m = hostileModule(t, manifest.PermProjectRead, manifest.PermModuleWrite)
	m.Granted = []string{manifest.PermScriptRun, manifest.PermProjectRead}
	rec, _ = attack(t, runner(t), m, w, "write", Limits{})
	if rec.Outcome != OutcomeFailed || strings.Join(rec.Permissions, ",") != "project:read,script:run" {
		t.Fatalf("ungranted module:write: %+v", rec)
	}
	// Without script:run nothing runs.
	m.Granted = []string{manifest.PermProjectRead}
	rec, err := attack(t, runner(t), m, w, "ok", Limits{})
	if err == nil || rec.Outcome != OutcomeRefused || !strings.Contains(rec.Message, "script:run") {
		t.Fatalf("without script:run: %+v", rec)
	}
	env, _ := attack(t, runner(t), hostileModule(t), w, "env", Limits{})
	if strings.Contains(env.Report, "ATELIER_PROJECT") || strings.Contains(env.Report, "ATELIER_OUT") || strings.Contains(env.Report, "HOME=") {
		t.Errorf("environment leaks: %s", env.Report)
	}
}

func TestHostileReads(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead, manifest.PermModuleWrite)
	for _, a := range []struct{ name, want string }{
		{"passwd", "REFUSED read /etc/passwd"},
		{"dotdot", "REFUSED raw open sub/../../outside.txt"},
		{"absolute", "REFUSED raw open /etc/passwd"},
		{"symlink", "REFUSED read /project/link-file"},
	} {
		rec, err := attack(t, runner(t), m, w, a.name, Limits{})
		if err != nil || !strings.Contains(rec.Report, a.want) {
			t.Errorf("%s: %v\n%s", a.name, err, rec.Report)
		}
		if a.name == "symlink" {
			if !strings.Contains(rec.Report, "REFUSED read /project/link-dir/outside.txt") || !strings.Contains(rec.Report, "REFUSED list /project/link-dir") {
				t.Errorf("link to a folder outside: %s", rec.Report)
			}
			if !strings.Contains(rec.Report, "ALLOWED read /project/inside-link") {
				t.Errorf("a link that stays inside the project should read: %s", rec.Report)
			}
			if len(rec.Denied) == 0 || !strings.Contains(strings.Join(rec.Denied, "\n"), "link-file: it leads outside /project") {
				t.Errorf("the record does not say the link was refused: %q", rec.Denied)
			}
		}
	}
	nothingOutside(t, w)
}

func TestHostileWrites(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead, manifest.PermModuleWrite)
	rec, err := attack(t, runner(t), m, w, "write", Limits{})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, rec.Report, rec.Log)
	}
	for _, want := range []string{"REFUSED write /project/new.txt", "REFUSED remove /project/song.txt", "REFUSED write /out/../escape.txt", "REFUSED write /tmp/escape.txt", "REFUSED raw open ../escape.txt", "REFUSED symlink /out/l", "REFUSED link /out/hard", "REFUSED rename into project"} {
		if !strings.Contains(rec.Report, want) {
			t.Errorf("missing %q in\n%s", want, rec.Report)
		}
	}
	denied := strings.Join(rec.Denied, "\n")
	for _, want := range []string{"/project/new.txt: /project is read-only", "modules may not make links"} {
		if !strings.Contains(denied, want) {
			t.Errorf("record's denied list lacks %q:\n%s", want, denied)
		}
	}
	if len(rec.Files) != 1 || rec.Files[0].Path != "fine.txt" {
		t.Errorf("files %+v", rec.Files)
	}
	nothingOutside(t, w)
}

func TestSelection(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead)
	rec, err := runner(t).Run(context.Background(), m, Request{Project: w.project, Paths: []string{"song.txt", "sub/a.txt"}, Args: []string{"list"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	var files []string
	for _, l := range strings.Split(rec.Report, "\n") {
		if f, ok := strings.CutPrefix(l, "FILE "); ok {
			files = append(files, f)
		}
	}
	if strings.Join(files, ",") != "song.txt,sub/a.txt" {
		t.Errorf("a selection shows %v", files)
	}
	if !strings.Contains(rec.Report, "REFUSED read /project/secret.txt") || !strings.Contains(rec.Report, "REFUSED read /project/sub/b.txt") {
		t.Errorf("unselected files readable:\n%s", rec.Report)
	}
	if _, err := runner(t).Run(context.Background(), m, Request{Project: w.project, Paths: []string{"../outside.txt"}, Args: []string{"list"}}); err == nil {
		t.Errorf("a selection outside the project was accepted")
	}
}

func TestHostileNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead, "net:localhost")
	rec, _ := attack(t, runner(t), m, w, "socket="+ln.Addr().String(), Limits{})
	if !strings.Contains(rec.Report, "REFUSED dial "+ln.Addr().String()) {
		t.Errorf("network:\n%s\n%s", rec.Report, rec.Log)
	}
	select {
	case <-accepted:
		t.Errorf("the module connected to the host")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestNetworkOnlyToGrantedHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
			return
		}
		fmt.Fprint(w, "hello from the host")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	wasm := sandboxtest.Build(t, "./testdata/fetch")
	dir := t.TempDir()
	sandboxtest.Install(t, wasm, dir, manifest.DefaultMain)
	m := Module{Manifest: manifest.Manifest{Name: "@test/fetch", Version: "1.0.0", Kind: manifest.KindAction, License: "MIT", Permissions: []string{manifest.PermScriptRun, "net:localhost"}}, Dir: dir}
	granted := "http://localhost:" + port + "/ok"
	rec, err := runner(t).Run(context.Background(), m, Request{Args: []string{granted, srv.URL + "/by-ip", "http://localhost:" + port + "/redirect", "https://example.com/"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	for _, want := range []string{
		"GOT " + granted + ": 200 \"hello from the host\"",
		"REFUSED " + srv.URL + "/by-ip: code 1",
		"REFUSED http://localhost:" + port + "/redirect: code 2",
		"REFUSED https://example.com/: code 1",
	} {
		if !strings.Contains(rec.Report, want) {
			t.Errorf("missing %q in\n%s", want, rec.Report)
		}
	}
	netlog := strings.Join(rec.Network, "\n")
	for _, want := range []string{"GET " + granted + ": 200, 19 bytes", "refused GET https://example.com/: host example.com is not granted", "refused redirect to http://127.0.0.1:1/elsewhere"} {
		if !strings.Contains(netlog, want) {
			t.Errorf("the record's network log lacks %q:\n%s", want, netlog)
		}
	}
	// The same program without a net permission does not start.
	m.Manifest.Permissions = []string{manifest.PermScriptRun}
	rec, err = runner(t).Run(context.Background(), m, Request{Args: []string{granted}})
	if err == nil || rec.Outcome != OutcomeRefused || !strings.Contains(rec.Message, "no net:HOST permission") {
		t.Fatalf("fetch without a net permission: %+v", rec)
	}
	// Granted by the manifest but not by the creator: the same.
	m.Manifest.Permissions = []string{manifest.PermScriptRun, "net:localhost"}
	m.Granted = []string{manifest.PermScriptRun}
	if rec, err = runner(t).Run(context.Background(), m, Request{Args: []string{granted}}); err == nil || rec.Outcome != OutcomeRefused {
		t.Fatalf("fetch with net declared but not granted: %+v", rec)
	}
}

func TestHostFunctionNotGranted(t *testing.T) {
	wasm := sandboxtest.Build(t, "./testdata/hostfn")
	dir := t.TempDir()
	sandboxtest.Install(t, wasm, dir, manifest.DefaultMain)
	m := Module{Manifest: manifest.Manifest{Name: "@test/hostfn", Version: "1.0.0", Kind: manifest.KindAction, License: "MIT", Permissions: []string{manifest.PermScriptRun, "net:example.com"}}, Dir: dir}
	rec, err := runner(t).Run(context.Background(), m, Request{})
	if err == nil || rec.Outcome != OutcomeRefused || !strings.Contains(rec.Message, "atelier.net_dial") {
		t.Fatalf("a module importing an ungranted host function ran: %+v", rec)
	}
}

func TestLimits(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead, manifest.PermModuleWrite)
	cases := []struct {
		attack  string
		lim     Limits
		outcome string
	}{
		{"loop", Limits{Time: 500 * time.Millisecond}, OutcomeTimeout},
		{"sleep", Limits{Time: 300 * time.Millisecond}, OutcomeTimeout},
		{"flood", Limits{OutputBytes: 8 << 20}, OutcomeOutput},
		{"files", Limits{OutputFiles: 50}, OutcomeOutput},
		{"spew", Limits{ReportBytes: 1 << 20}, OutcomeOutput},
	}
	for _, c := range cases {
		start := time.Now()
		w.output = filepath.Join(w.base, "out-"+c.attack)
		rec, err := attack(t, runner(t), m, w, c.attack, c.lim)
		if err == nil || rec.Outcome != c.outcome || rec.Message == "" {
			t.Errorf("%s: outcome %q (%v), want %s", c.attack, rec.Outcome, err, c.outcome)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: stopped only after %s", c.attack, d)
		}
		var total int64
		for _, f := range rec.Files {
			total += f.Size
		}
		if total > 8<<20 || len(rec.Files) > 50 {
			t.Errorf("%s: wrote %d bytes in %d files past the limit", c.attack, total, len(rec.Files))
		}
	}
	if n := countFiles(t, filepath.Join(w.base, "out-files")); n > 50 {
		t.Errorf("%d files written, limit 50", n)
	}
	nothingOutside(t, w)
}

func countFiles(t *testing.T, dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestMemoryLimit(t *testing.T) {
	r := newRunner(t, Config{Memory: 64 << 20})
	w := newWorld(t)
	rec, err := attack(t, r, hostileModule(t, manifest.PermProjectRead), w, "alloc", Limits{Time: 30 * time.Second})
	if err == nil || rec.Outcome != OutcomeMemory || !strings.Contains(rec.Message, "64 MiB") {
		t.Fatalf("unbounded allocation: outcome %q %v\n%s", rec.Outcome, err, rec.Log)
	}
}

func TestCancel(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	rec, err := runner(t).Run(ctx, m, Request{Project: w.project, Args: []string{"loop"}})
	if err == nil || rec.Outcome != OutcomeCanceled {
		t.Fatalf("cancel: %+v %v", rec, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

func TestRefusesWhatCannotRun(t *testing.T) {
	dir := t.TempDir()
	r := runner(t)
	for _, c := range []struct {
		m    manifest.Manifest
		want string
	}{
		{manifest.Manifest{Name: "@t/p", Version: "1.0.0", Kind: manifest.KindTemplate}, "nothing to run"},
		{manifest.Manifest{Name: "@t/p", Version: "1.0.0"}, "plain file module"},
		{manifest.Manifest{Name: "@t/p", Version: "1.0.0", Kind: manifest.KindAction, Permissions: []string{manifest.PermScriptRun}}, "main.wasm"},
	} {
		rec, err := r.Run(context.Background(), Module{Manifest: c.m, Dir: dir}, Request{})
		if err == nil || rec.Outcome != OutcomeRefused || !strings.Contains(rec.Message, c.want) {
			t.Errorf("%+v: %v", c.m, err)
		}
	}
	mustWrite(t, filepath.Join(dir, "main.wasm"), "not wasm")
	rec, err := r.Run(context.Background(), Module{Manifest: manifest.Manifest{Name: "@t/p", Version: "1.0.0", Kind: manifest.KindAction, Permissions: []string{manifest.PermScriptRun}}, Dir: dir}, Request{})
	if err == nil || !strings.Contains(rec.Message, "not a valid WebAssembly module") {
		t.Errorf("garbage program: %v", err)
	}
	if errors.Is(err, ErrTimeLimit) {
		t.Errorf("wrong error")
	}
}

// A second Runner over the same cache folder (a new process, in effect)
// reuses the module compiled by the first.
func TestCompilationCacheWarmStart(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead, manifest.PermModuleWrite)
	if _, err := attack(t, runner(t), m, w, "noop", Limits{}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(testCache)
	if len(ents) == 0 {
		t.Fatalf("nothing in the compilation cache %s", testCache)
	}
	warm := newRunner(t, Config{})
	if _, err := attack(t, warm, m, w, "ok", Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestRecordSummary(t *testing.T) {
	rec := &Record{Outcome: OutcomeOutput, Message: "stopped: too much", Duration: 1500 * time.Millisecond, Used: []string{"module:write"}, Files: []WrittenFile{{Path: "a"}, {Path: "b"}, {Path: "c"}, {Path: "d"}, {Path: "e"}, {Path: "f"}}, Denied: []string{"open /project/x: it leads outside /project"}, Network: []string{"GET https://a.example.com/: 200, 3 bytes"}}
	got := rec.Summary()
	for _, want := range []string{"output-limit (stopped: too much) in 1.5s", "used module:write", "wrote 6 file(s): a, b, c, d, e, and 1 more", "refused 1 access(es), first: open /project/x", "network: GET https://a.example.com/"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
}

// TestCancelWhileCompiling: a run stopped while its program still compiles
// returns at once as cancelled, and closing the runner then (the app
// quitting) waits for the compilation instead of crashing wazero.
func TestCancelWhileCompiling(t *testing.T) {
	w := newWorld(t)
	m := hostileModule(t, manifest.PermProjectRead)
	r, err := New(context.Background(), Config{CacheDir: t.TempDir()}) // cold: nothing compiled yet
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec, err := r.Run(ctx, m, Request{Project: w.project, Args: []string{"loop"}})
	if err == nil || rec.Outcome != OutcomeCanceled {
		t.Fatalf("cancelled before it compiled: %+v %v", rec, err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), m, Request{Project: w.project, Args: []string{"loop"}}); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("a run after Close: %v", err)
	}
}
