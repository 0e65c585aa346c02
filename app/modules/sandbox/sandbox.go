// Package sandbox runs action and panel modules (WebAssembly, WASI preview 1)
// in-process with wazero, confined to what their granted permissions mount:
//
//	project:read       the project at /project, read-only (or only the selected files)
//	module:write       the run's own output folder at /out, read-write
//	analytics:rollups  the rollups the run was given at /rollups, read-only
//	previews:read      rendered previews at /previews, read-only
//
// and nothing else: no other file, no host function but WASI's and
// HostModule's measure (Atelier's native audio measurements of a file the
// module can see, with project:read), and no network but HostModule's
// http_get to the hosts of granted net:HOST permissions, every request logged
// in the record.
// A permission is effective only if the manifest declares it and the creator
// granted it. Every mount is an os.Root, so a link planted in a folder that
// points out of it is refused. A run is bounded in time (the module is closed
// when its context ends), memory (wasm pages), files written and bytes
// written (to files and to its report), and can be cancelled. Run returns a
// Record for the audit log whatever the outcome.
//
// Compiled modules are kept in memory and in wazero's compilation cache on
// disk, so only the first run of a module version pays for compilation.
//
// The package knows nothing of the app: it is given a manifest, a module
// folder and host folders, and returns a record.
package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"atelier/signing/manifest"
)

// Guest paths of the mounts.
const (
	ProjectMount  = "/project"
	OutputMount   = "/out"
	RollupsMount  = "/rollups"
	PreviewsMount = "/previews"
)

// Outcomes of a run.
const (
	OutcomeOK       = "ok"           // the program exited 0
	OutcomeFailed   = "failed"       // the program exited non-zero or trapped
	OutcomeTimeout  = "time-limit"   // killed: it ran past its time limit
	OutcomeMemory   = "memory-limit" // it asked for more memory than allowed
	OutcomeOutput   = "output-limit" // killed: it wrote more than allowed
	OutcomeCanceled = "cancelled"    // stopped by the creator
	OutcomeRefused  = "refused"      // never started (kind, permission, import, file)
)

// Errors that stop a run.
var (
	ErrTimeLimit   = errors.New("the module ran past its time limit")
	ErrOutputLimit = errors.New("the module wrote more than its output limit")
)

// MaxProgramSize caps the .wasm file read into memory.
const MaxProgramSize = 64 << 20

// Limits bound one run. Zero fields take the defaults.
type Limits struct {
	Time        time.Duration // wall-clock time (default 60 s)
	Memory      uint32        // bytes of linear memory (default 256 MiB; set on the Runner)
	OutputBytes int64         // bytes written into the output folder (default 256 MiB)
	OutputFiles int           // files created in the output folder (default 10,000)
	ReportBytes int64         // bytes on stdout and stderr together (default 4 MiB)
}

// DefaultLimits are the limits a run gets unless told otherwise.
var DefaultLimits = Limits{Time: time.Minute, Memory: 256 << 20, OutputBytes: 256 << 20, OutputFiles: 10000, ReportBytes: 4 << 20}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Time > 0 {
		d.Time = l.Time
	}
	if l.Memory > 0 {
		d.Memory = l.Memory
	}
	if l.OutputBytes > 0 {
		d.OutputBytes = l.OutputBytes
	}
	if l.OutputFiles > 0 {
		d.OutputFiles = l.OutputFiles
	}
	if l.ReportBytes > 0 {
		d.ReportBytes = l.ReportBytes
	}
	return d
}

// Config configures a Runner.
type Config struct {
	// CacheDir keeps compiled modules across processes (wazero's
	// compilation cache). Empty: in memory only.
	CacheDir string
	// Memory caps every run's linear memory in bytes (0: DefaultLimits.Memory).
	Memory uint32
	Log    *slog.Logger
}

// Runner runs modules. It is safe for concurrent use.
type Runner struct {
	rt    wazero.Runtime
	cache wazero.CompilationCache
	log   *slog.Logger
	mem   uint32

	mu       sync.Mutex
	closed   bool
	busy     sync.WaitGroup // compilations under way: Close waits for them
	compiled map[[32]byte]wazero.CompiledModule
	sums     map[fileID][32]byte // program files seen unchanged since hashed
}

// fileID identifies a program file's version without reading it.
type fileID struct {
	path  string
	size  int64
	mtime int64
	ino   uint64
}

// New makes a Runner. Close it when done.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	mem := cfg.Memory
	if mem == 0 {
		mem = DefaultLimits.Memory
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	rc := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(max(1, mem/65536))
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("module compilation cache %s: %w (check the folder's permissions or free space)", cfg.CacheDir, err)
		}
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("module compilation cache %s: %w", cfg.CacheDir, err)
		}
		cache = c
		rc = rc.WithCompilationCache(c)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("start the module sandbox: %w", err)
	}
	if err := instantiateHost(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("start the module sandbox: %w", err)
	}
	return &Runner{rt: rt, cache: cache, log: log, mem: mem, compiled: map[[32]byte]wazero.CompiledModule{}, sums: map[fileID][32]byte{}}, nil
}

// Close releases the runtime and the compiled modules. It waits for a
// compilation under way: closing wazero's runtime under one crashes it.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.busy.Wait()
	err := r.rt.Close(ctx)
	if r.cache != nil {
		if e := r.cache.Close(ctx); err == nil {
			err = e
		}
	}
	return err
}

// Module is an unpacked module to run.
type Module struct {
	Manifest manifest.Manifest
	Dir      string // the module's folder; the program is Dir/Manifest.Program()
	// Granted are the permissions the creator approved. A permission is
	// effective only if it is both declared and granted. Nil grants what the
	// manifest declares (a developer running their own module with --dev).
	Granted []string
	Signer  string // who signed it, for the record ("" for --dev)
}

// Request says what a run works on.
type Request struct {
	Project  string   // host folder mounted at /project with project:read
	Paths    []string // a selection inside Project (slash-separated, relative); empty: the whole project
	Output   string   // host folder mounted at /out with module:write (created if missing)
	Rollups  string   // host folder mounted at /rollups with analytics:rollups
	Previews string   // host folder mounted at /previews with previews:read
	Args     []string // extra arguments after the selection
	Limits   Limits
}

// WrittenFile is a file a run left in its output folder.
type WrittenFile struct {
	Path string `json:"path"` // relative to the output folder
	Size int64  `json:"size"`
}

// Record describes a run, for the audit log and the creator.
type Record struct {
	Module      string        `json:"module"`
	Version     string        `json:"version"`
	Signer      string        `json:"signer,omitempty"`
	Kind        string        `json:"kind"`
	Permissions []string      `json:"permissions"` // effective: declared and granted
	Used        []string      `json:"used"`        // effective permissions the run exercised
	Files       []WrittenFile `json:"files"`       // left in the output folder
	Output      string        `json:"output,omitempty"`
	Denied      []string      `json:"denied,omitempty"`  // accesses the sandbox refused
	Network     []string      `json:"network,omitempty"` // every request through http_get, with its destination
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"duration"`
	Outcome     string        `json:"outcome"`
	ExitCode    uint32        `json:"exitCode"`
	Message     string        `json:"message,omitempty"` // why it failed or was stopped
	Report      string        `json:"report"`            // what it printed on stdout
	Log         string        `json:"log,omitempty"`     // the end of what it printed on stderr
	Truncated   bool          `json:"truncated,omitempty"`
}

// Effective lists the permissions a run of m may use: declared and granted.
func Effective(m Module) []string {
	out := []string{}
	granted := map[string]bool{}
	for _, p := range m.Granted {
		granted[p] = true
	}
	for _, p := range m.Manifest.Permissions {
		if m.Granted == nil || granted[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func has(list []string, p string) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// Run runs m on req and returns its record. The error is non-nil only when
// the run could not be attempted or did not end with exit code 0; the record
// is filled in either case and says why.
func (r *Runner) Run(ctx context.Context, m Module, req Request) (*Record, error) {
	lim := req.Limits.withDefaults()
	mf := m.Manifest
	perms := Effective(m)
	rec := &Record{Module: mf.Name, Version: mf.Version, Signer: m.Signer, Kind: mf.Kind, Permissions: perms, Used: []string{}, Files: []WrittenFile{}, Started: time.Now().UTC()}
	start := time.Now()
	defer func() {
		rec.Duration = time.Since(start)
		r.log.Info("module run", "module", rec.Module, "version", rec.Version, "outcome", rec.Outcome, "duration", rec.Duration, "files", len(rec.Files), "denied", len(rec.Denied))
	}()
	refuse := func(format string, args ...any) (*Record, error) {
		rec.Outcome = OutcomeRefused
		rec.Message = fmt.Sprintf(format, args...)
		return rec, errors.New(rec.Message)
	}

	if !mf.Runs() {
		return refuse("%s is a %s module, not an action or a panel: there is nothing to run", mf.Name, kindName(mf.Kind))
	}
	if !has(perms, manifest.PermScriptRun) {
		return refuse("%s may not run: permission %s is not granted (approve the module first)", mf.Name, manifest.PermScriptRun)
	}
	compiled, err := r.compile(ctx, m)
	if err != nil && ctx.Err() != nil {
		rec.Outcome = OutcomeCanceled
		rec.Message = fmt.Sprintf("cancelled: %s was stopped before it finished", mf.Name)
		return rec, errors.New(rec.Message)
	}
	if err != nil {
		return refuse("%v", err)
	}
	var hosts []string
	for _, p := range perms {
		if h, ok := strings.CutPrefix(p, manifest.PermNetworkPrefix); ok {
			hosts = append(hosts, h)
		}
	}
	for _, f := range compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		need, ok := hostGrant(name, perms, hosts)
		switch {
		case mod == wasi_snapshot_preview1.ModuleName:
		case mod == HostModule && ok:
		case mod == HostModule && need != "":
			return refuse("%s imports %s.%s, but no %s permission is granted; it cannot run (declare the permission and approve the module)", mf.Name, mod, name, need)
		default:
			return refuse("%s imports %s.%s, a host function none of its granted permissions provides; it cannot run", mf.Name, mod, name)
		}
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	runCtx, cancelTime := context.WithTimeoutCause(runCtx, lim.Time, ErrTimeLimit)
	defer cancelTime()

	state := newRunState(lim.OutputBytes, lim.OutputFiles, cancel)
	var netLog *netState
	if len(hosts) > 0 {
		netLog = newNetState(hosts, lim.OutputBytes)
		runCtx = context.WithValue(runCtx, netKey{}, netLog)
	}
	fsc := wazero.NewFSConfig()
	var roots []*os.Root
	defer func() {
		for _, rt := range roots {
			rt.Close()
		}
	}()
	mount := func(perm, host, guest string, readOnly bool, sel []string) error {
		if !has(perms, perm) {
			return nil
		}
		if host == "" {
			return nil
		}
		if !readOnly {
			if err := os.MkdirAll(host, 0o755); err != nil {
				return fmt.Errorf("output folder %s: %w", host, err)
			}
		}
		root, err := os.OpenRoot(host)
		if err != nil {
			return fmt.Errorf("open %s for %s: %w", host, mf.Name, err)
		}
		roots = append(roots, root)
		rfs := &rootFS{root: root, mount: guest, readOnly: readOnly, run: state, perm: perm}
		if len(sel) > 0 {
			for _, p := range sel {
				if !filepathLocal(p) {
					return fmt.Errorf("selected path %q is not inside the project: give paths relative to %s", p, host)
				}
			}
			rfs.sel = newSelection(sel)
		}
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(rfs, guest)
		if perm == manifest.PermProjectRead {
			runCtx = context.WithValue(runCtx, measureKey{}, rfs)
		}
		return nil
	}
	for _, mt := range []struct {
		perm, host, guest string
		ro                bool
		sel               []string
	}{
		{manifest.PermProjectRead, req.Project, ProjectMount, true, req.Paths},
		{manifest.PermModuleWrite, req.Output, OutputMount, false, nil},
		{manifest.PermAnalyticsRead, req.Rollups, RollupsMount, true, nil},
		{manifest.PermPreviewsRead, req.Previews, PreviewsMount, true, nil},
	} {
		if err := mount(mt.perm, mt.host, mt.guest, mt.ro, mt.sel); err != nil {
			return refuse("%v", err)
		}
	}
	if has(perms, manifest.PermModuleWrite) && req.Output != "" {
		rec.Output = req.Output
	}

	out := &capWriter{max: lim.ReportBytes, onExceed: cancel}
	errw := &capWriter{max: lim.ReportBytes, onExceed: cancel, tail: true, shared: out}
	args := append([]string{mf.Name}, req.Paths...)
	args = append(args, req.Args...)
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs(args...).
		WithEnv("ATELIER_MODULE", mf.Name).
		WithEnv("ATELIER_VERSION", mf.Version).
		WithStdout(out).
		WithStderr(errw).
		WithStdin(bytes.NewReader(nil)).
		WithFSConfig(fsc).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(func(ns int64) {
			// A sleeping module wakes when its run ends, so a
			// cancelled or timed-out run never holds the host.
			t := time.NewTimer(time.Duration(ns))
			defer t.Stop()
			select {
			case <-t.C:
			case <-runCtx.Done():
			}
		})
	if has(perms, manifest.PermProjectRead) && req.Project != "" {
		mc = mc.WithEnv("ATELIER_PROJECT", ProjectMount)
	}
	if rec.Output != "" {
		mc = mc.WithEnv("ATELIER_OUT", OutputMount)
	}
	if has(perms, manifest.PermAnalyticsRead) && req.Rollups != "" {
		mc = mc.WithEnv("ATELIER_ROLLUPS", RollupsMount)
	}
	if has(perms, manifest.PermPreviewsRead) && req.Previews != "" {
		mc = mc.WithEnv("ATELIER_PREVIEWS", PreviewsMount)
	}

	mod, runErr := r.rt.InstantiateModule(withMemory(runCtx), compiled, mc)
	if mod != nil {
		mod.Close(context.WithoutCancel(ctx))
	}
	cause := context.Cause(runCtx)

	rec.Report = out.String()
	rec.Log = errw.String()
	rec.Truncated = out.truncated || errw.truncated
	state.mu.Lock()
	for p := range state.used {
		rec.Used = append(rec.Used, p)
	}
	rec.Denied = append(rec.Denied, state.denied...)
	if netLog != nil {
		netLog.mu.Lock()
		rec.Network = append(rec.Network, netLog.log...)
		netLog.mu.Unlock()
	}
	written := make([]string, 0, len(state.written))
	for _, rel := range state.written {
		written = append(written, rel)
	}
	state.mu.Unlock()
	sort.Strings(rec.Used)
	if rec.Output != "" && len(written) > 0 {
		if root, err := os.OpenRoot(rec.Output); err == nil {
			sort.Strings(written)
			for _, rel := range written {
				if fi, err := root.Lstat(rel); err == nil && fi.Mode().IsRegular() {
					rec.Files = append(rec.Files, WrittenFile{Path: rel, Size: fi.Size()})
				}
			}
			root.Close()
		}
	}

	var exit *sys.ExitError
	switch {
	case errors.Is(cause, ErrOutputLimit):
		rec.Outcome = OutcomeOutput
		rec.Message = fmt.Sprintf("stopped: %s wrote more than its limit (%d bytes to its output folder, %d files, %d bytes of report)", mf.Name, lim.OutputBytes, lim.OutputFiles, lim.ReportBytes)
	case errors.Is(cause, ErrTimeLimit):
		rec.Outcome = OutcomeTimeout
		rec.Message = fmt.Sprintf("stopped: %s ran longer than its %s time limit", mf.Name, lim.Time)
	case cause != nil && ctx.Err() != nil:
		rec.Outcome = OutcomeCanceled
		rec.Message = fmt.Sprintf("cancelled: %s was stopped before it finished", mf.Name)
	case runErr == nil:
		rec.Outcome = OutcomeOK
	case errors.As(runErr, &exit) && exit.ExitCode() == 0:
		rec.Outcome = OutcomeOK
	case isOutOfMemory(rec.Log, runErr):
		rec.Outcome = OutcomeMemory
		rec.Message = fmt.Sprintf("stopped: %s needed more than its %d MiB of memory", mf.Name, r.mem>>20)
	default:
		rec.Outcome = OutcomeFailed
		if errors.As(runErr, &exit) {
			rec.ExitCode = exit.ExitCode()
			rec.Message = fmt.Sprintf("%s failed with exit code %d%s", mf.Name, exit.ExitCode(), lastLine(rec.Log))
		} else {
			rec.Message = fmt.Sprintf("%s failed: %v", mf.Name, runErr)
		}
	}
	if errors.As(runErr, &exit) {
		rec.ExitCode = exit.ExitCode()
	}
	if rec.Outcome != OutcomeOK {
		return rec, errors.New(rec.Message)
	}
	return rec, nil
}

func kindName(k string) string {
	if k == "" {
		return "plain file"
	}
	return k
}

func filepathLocal(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && !strings.Contains(p, "\\") && filepath.IsLocal(filepath.FromSlash(p))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return ": " + s
}

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

func isOutOfMemory(stderr string, err error) bool {
	if strings.Contains(stderr, "out of memory") {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "out of memory")
}

// compile returns the compiled program of m, from memory, the disk cache or
// the compiler.
func (r *Runner) compile(ctx context.Context, m Module) (wazero.CompiledModule, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%s cannot start: the module sandbox is shutting down", m.Manifest.Name)
	}
	prog := m.Manifest.Program()
	root, err := os.OpenRoot(m.Dir)
	if err != nil {
		return nil, fmt.Errorf("module folder of %s: %w (reinstall the module)", m.Manifest.Name, err)
	}
	defer root.Close()
	f, err := root.Open(prog)
	if err != nil {
		return nil, fmt.Errorf("program %s of %s: %w (build it with GOOS=wasip1 GOARCH=wasm go build -o %s, or set main in %s)", prog, m.Manifest.Name, err, prog, manifest.FileName)
	}
	defer f.Close()
	var id fileID
	if fi, err := f.Stat(); err == nil {
		id = fileID{path: filepath.Join(m.Dir, prog), size: fi.Size(), mtime: fi.ModTime().UnixNano(), ino: inode(fi)}
		r.mu.Lock()
		sum, seen := r.sums[id]
		c, ok := r.compiled[sum]
		r.mu.Unlock()
		if seen && ok {
			return c, nil
		}
	}
	wasm, err := io.ReadAll(io.LimitReader(f, MaxProgramSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s of %s: %w", prog, m.Manifest.Name, err)
	}
	if len(wasm) > MaxProgramSize {
		return nil, fmt.Errorf("program %s of %s is over %d MiB", prog, m.Manifest.Name, MaxProgramSize>>20)
	}
	sum := sha256.Sum256(wasm)
	r.mu.Lock()
	if id.path != "" {
		r.sums[id] = sum
	}
	c, ok := r.compiled[sum]
	r.mu.Unlock()
	if ok {
		return c, nil
	}
	// Compiling a large program takes seconds and wazero cannot stop it, so
	// it runs apart: a cancelled run returns at once and the compilation
	// goes on into the cache for the next run.
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("%s cannot start: the module sandbox is shutting down", m.Manifest.Name)
	}
	r.busy.Add(1)
	r.mu.Unlock()
	type compiled struct {
		c   wazero.CompiledModule
		err error
	}
	done := make(chan compiled, 1)
	go func() {
		defer r.busy.Done()
		c, err := r.rt.CompileModule(context.WithoutCancel(ctx), wasm)
		if err == nil {
			r.mu.Lock()
			if prev, ok := r.compiled[sum]; ok {
				c.Close(context.WithoutCancel(ctx))
				c = prev
			} else {
				r.compiled[sum] = c
			}
			r.mu.Unlock()
		}
		done <- compiled{c, err}
	}()
	select {
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case res := <-done:
		if res.err != nil {
			return nil, fmt.Errorf("program %s of %s is not a valid WebAssembly module: %w", prog, m.Manifest.Name, res.err)
		}
		return res.c, nil
	}
}

// capWriter keeps what a module prints, up to max bytes (shared with its
// sibling: stdout and stderr count together). Past the limit it stops the
// run. A tail writer keeps the last bytes rather than the first.
type capWriter struct {
	mu        sync.Mutex
	buf       []byte
	max       int64
	n         int64
	tail      bool
	truncated bool
	shared    *capWriter
	onExceed  func(error)
	fired     bool
}

const keepTail = 8 << 10

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += int64(len(p))
	total := w.n
	if w.shared != nil {
		w.shared.mu.Lock()
		total += w.shared.n
		w.shared.mu.Unlock()
	}
	if total > w.max {
		w.truncated = true
		if !w.fired {
			w.fired = true
			w.onExceed(ErrOutputLimit)
		}
		return 0, io.ErrShortWrite
	}
	w.buf = append(w.buf, p...)
	if w.tail && len(w.buf) > 2*keepTail {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-keepTail:]...)
		w.truncated = true
	}
	return len(p), nil
}

func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
