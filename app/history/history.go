// Package history is local history: every saved change of a watched
// project becomes a version, after the file has settled, in a vault under
// the data dir (the sync vault's format: FastCDC chunks, keyed IDs,
// AES-256-GCM at rest, content-addressed trees per directory), with the key
// kept locally. Nothing leaves the machine, so no consent is needed.
//
// History is fed the index's changes (no walk of the project per version),
// keeps a per-file version index in localdb ("versions of this path"
// without reading snapshots) that follows renames and lists deleted files,
// restores in place (the current content becomes a version first) or as a
// copy, diffs two points, browses a past state, and prunes by a staggered
// retention with milestones and a size cap. It knows the app only through
// the narrow interfaces below.
package history

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"atelier/atomicfile"
	"atelier/diskspace"
	"atelier/localdb"
	"atelier/sync/remote"
	"atelier/sync/vault"
)

// Op is what happened to a file (the index's vocabulary).
type Op string

const (
	OpCreate  Op = "create"
	OpModify  Op = "modify"
	OpDelete  Op = "delete"
	OpRename  Op = "rename"
	OpRestore Op = "restore" // a version written back by Restore
)

// Change is one index change, as history needs it.
type Change struct {
	Project string      `json:"project"`
	Op      Op          `json:"op"`
	Path    string      `json:"path"`           // slash-separated, relative to the project root
	From    string      `json:"from,omitempty"` // the old path of a rename
	Size    int64       `json:"size"`
	ModTime time.Time   `json:"modTime"`
	Mode    fs.FileMode `json:"mode"`
	SHA256  [32]byte    `json:"sha256"` // zero: not hashed yet
}

// File is an indexed file of a project.
type File struct {
	Path    string
	Size    int64
	ModTime time.Time
	Mode    fs.FileMode
	SHA256  [32]byte
}

// FileSource is what history needs of the project registry and index.
type FileSource interface {
	// Root is the folder of project on disk.
	Root(project string) (string, error)
	// Files lists the indexed files of project (read once, for the first
	// version of a project).
	Files(project string) ([]File, error)
}

// Notice is something the creator should see (a paused history, a budget
// that cannot be met, history resumed).
type Notice struct {
	Project string `json:"project,omitempty"`
	Kind    string `json:"kind"` // "paused", "resumed", "budget", "error"
	Message string `json:"message"`
}

// Notifier receives notices (the engine shows them in the UI).
type Notifier interface{ Notify(Notice) }

// Options open local history.
type Options struct {
	Dir    string // where the history vault lives (DATA/history)
	DB     *localdb.DB
	Files  FileSource
	Notify Notifier // nil: notices are only logged
	Log    *slog.Logger
	// Settle is how long a file must stay unchanged before it becomes a
	// version (default 3 s).
	Settle time.Duration
	// Now is the clock (tests).
	Now func() time.Time
	// MinFree is the free space below which history pauses (default 256 MiB
	// plus what the versions to take need).
	MinFree int64
	// KDF and Chunker apply when the vault is created (tests use a cheap KDF).
	KDF     *vault.KDFParams
	Chunker *vault.Chunker
}

// HistoryChunker cuts finer than the cloud vault (32 KiB average): a
// version of a large file after a small edit stores about the edit, so 50
// versions of a 200 MB WAV each changing 1 MB stay near one copy.
var HistoryChunker = vault.Chunker{Min: 8 << 10, Avg: 32 << 10, Max: 128 << 10}

// History is open local history.
type History struct {
	o   Options
	v   *vault.Vault
	st  remote.Storage
	log *slog.Logger

	mu     sync.Mutex // one commit or prune at a time
	paused map[string]error
	pmu    sync.Mutex
	taking atomic.Pointer[string] // the project whose version is being taken

	dmu  sync.Mutex      // guards due and gen (due.go)
	due  map[string]*due // projects with pending changes
	gen  uint64
	wake chan struct{} // a change was considered (Run)
}

// Taking is the project whose version is being taken now ("" when none).
func (h *History) Taking() string {
	if p := h.taking.Load(); p != nil {
		return *p
	}
	return ""
}

// ErrPaused means history is paused (a full disk): the error says the fix.
var ErrPaused = errors.New("local history is paused")

// Open opens (or creates) the history vault under o.Dir and finishes a
// prune a crash interrupted.
func Open(ctx context.Context, o Options) (*History, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Settle <= 0 {
		o.Settle = 3 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MinFree <= 0 {
		o.MinFree = 256 << 20
	}
	if o.DB == nil || o.Files == nil || o.Dir == "" {
		return nil, errors.New("history: Dir, DB and Files are required")
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "vault"), 0o700); err != nil {
		return nil, fmt.Errorf("create the history folder %s: %w", o.Dir, err)
	}
	key, err := localKey(filepath.Join(o.Dir, "key"))
	if err != nil {
		return nil, err
	}
	st, err := remote.Open(ctx, "file://"+filepath.Join(o.Dir, "vault"), remote.Options{})
	if err != nil {
		return nil, fmt.Errorf("open the history vault in %s: %w", o.Dir, err)
	}
	ch := HistoryChunker
	if o.Chunker != nil {
		ch = *o.Chunker
	}
	if o.KDF == nil {
		// The passphrase is 256 random bits, not a person's: stretching
		// it protects nothing, and every engine start (each CLI command
		// without a running engine) would pay for it.
		salt := make([]byte, 16)
		rand.Read(salt)
		o.KDF = &vault.KDFParams{Alg: "argon2id", Time: 1, Memory: 1 << 10, Threads: 1, Salt: salt}
	}
	v, err := vault.Init(ctx, vault.Options{Storage: st, State: localdb.Prefixed{DB: o.DB, Prefix: "history/vault/"},
		Passphrase: key, Device: "history", Log: o.Log, KDF: o.KDF, Chunker: &ch, PackSize: 8 << 20, Uploads: 2})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open the history vault in %s: %w", o.Dir, err)
	}
	h := &History{o: o, v: v, st: st, log: o.Log, paused: map[string]error{}, wake: make(chan struct{}, 1)}
	if err := h.loadDue(); err != nil {
		st.Close()
		return nil, fmt.Errorf("local history: read the changes waiting to settle: %w", err)
	}
	if err := h.finishPrune(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return h, nil
}

// Close releases the vault.
func (h *History) Close() error { return h.st.Close() }

// Vault is the history vault (benchmarks, verify).
func (h *History) Vault() *vault.Vault { return h.v }

// localKey reads the passphrase of the history vault, creating it (32
// random bytes, mode 0600) the first time.
func localKey(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read the history key %s: %w", p, err)
	}
	if _, serr := os.Stat(filepath.Join(filepath.Dir(p), "vault", "config")); serr == nil {
		return nil, fmt.Errorf("the history key %s is missing or damaged but the history vault exists: restore the key file from a backup, or move %s aside to start a new history", p, filepath.Dir(p))
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := []byte(hex.EncodeToString(raw))
	if err := atomicfile.WriteFile(p, key, 0o600); err != nil {
		return nil, fmt.Errorf("write the history key %s: %w", p, err)
	}
	return key, nil
}

func (h *History) notify(n Notice) {
	h.log.Info("history notice", "project", n.Project, "kind", n.Kind, "message", n.Message)
	if h.o.Notify != nil {
		h.o.Notify.Notify(n)
	}
}

// Consider records a change; it becomes a version once the file settled.
// Changes of projects whose history is off are ignored.
func (h *History) Consider(c Change) error {
	return h.ConsiderAll([]Change{c})
}

// considerBatch is how many changes one transaction records (an index of
// 100,000 files arrives as a few large batches).
const considerBatch = 1000

// ConsiderAll records changes (an index batch) in transactions of
// considerBatch: as Consider for each, in order. A transaction that fails
// does not stop the next.
func (h *History) ConsiderAll(cs []Change) error {
	off := map[string]bool{}
	keep := make([]Change, 0, len(cs))
	for _, c := range cs {
		if c.Project == "" || c.Path == "" {
			continue
		}
		o, seen := off[c.Project]
		if !seen {
			set, err := h.Settings(c.Project)
			if err != nil {
				return err
			}
			o = set.Off
			off[c.Project] = o
		}
		if !o {
			keep = append(keep, c)
		}
	}
	var errs []error
	for len(keep) > 0 {
		chunk := keep[:min(len(keep), considerBatch)]
		keep = keep[len(chunk):]
		now := h.o.Now()
		err := h.o.DB.Update(func(tx *localdb.Tx) error {
			for _, c := range chunk {
				if err := considerTx(tx, c, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i, c := range chunk {
			if i == 0 || c.Project != chunk[i-1].Project {
				h.noted(c.Project, now)
			}
		}
	}
	return errors.Join(errs...)
}

// considerTx records c as pending since now.
func considerTx(tx *localdb.Tx, c Change, now time.Time) error {
	k := pkey(c.Project, c.Path)
	p, ok, err := pendingT.Get(tx, k)
	if err != nil {
		return err
	}
	n := pending{Op: c.Op, From: c.From, At: now, Size: c.Size, ModTime: c.ModTime, Mode: c.Mode, SHA256: hexSum(c.SHA256)}
	if ok && p.Op == OpRename && c.Op != OpDelete && c.Op != OpRename {
		// A renamed file edited before it settled: still a rename.
		n.Op, n.From = OpRename, p.From
	}
	if c.Op == OpRename && c.From != "" {
		// The old path's own pending change is part of this one.
		if _, ok, _ := pendingT.Get(tx, pkey(c.Project, c.From)); ok {
			if err := pendingT.Delete(tx, pkey(c.Project, c.From)); err != nil {
				return err
			}
		}
	}
	return pendingT.Put(tx, k, n)
}

// paused reports the error that pauses project ("" when running).
func (h *History) pausedErr(project string) error {
	h.pmu.Lock()
	defer h.pmu.Unlock()
	return h.paused[project]
}

func (h *History) setPaused(project string, err error) {
	h.pmu.Lock()
	was := h.paused[project]
	if err == nil {
		delete(h.paused, project)
	} else {
		h.paused[project] = err
	}
	h.pmu.Unlock()
	switch {
	case err != nil && was == nil:
		h.notify(Notice{Project: project, Kind: "paused", Message: err.Error()})
	case err == nil && was != nil:
		h.notify(Notice{Project: project, Kind: "resumed", Message: "local history of " + project + " runs again"})
	}
}

// checkSpace pauses project's history when the disk holding the vault
// cannot take need more bytes plus the floor.
func (h *History) checkSpace(project string, need int64) error {
	err := diskspace.Check(h.o.Dir, need+h.o.MinFree, "local history of "+project)
	if err != nil {
		err = fmt.Errorf("%w: %v. History resumes by itself once there is room; you can also lower the history budget (Settings, `atelier history budget --cap`) or turn history off for this project. Nothing recorded so far is affected", ErrPaused, err)
		h.setPaused(project, err)
		return err
	}
	return nil
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, diskspace.ErrNoSpace)
}
