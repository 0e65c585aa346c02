// Package localdb is Atelier's embedded database: Badger opened with
// desktop-sized options, typed tables over key prefixes, a schema version with
// migrations, backup and restore, and value-log GC when idle.
//
// It knows nothing of the app: every area of Atelier owns a key prefix and
// declares its tables with NewTable.
package localdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"atelier/atomicfile"
	"atelier/diskspace"
)

// ErrLocked means another process owns the data directory.
var ErrLocked = errors.New("data directory is in use by another Atelier process")

// ErrCorrupt means Badger could not read its own files, or some are missing.
var ErrCorrupt = errors.New("data directory is damaged")

// ErrReadOnly means the database directory cannot be written (a read-only
// mount or missing permissions): nothing is wrong with the data.
var ErrReadOnly = errors.New("data directory is read-only")

// MarkerName is the file written beside Badger's files when Atelier creates a
// database: a directory with it (or with Badger's data files) but without a
// MANIFEST is a damaged database, never a new one.
const MarkerName = "ATELIER-DB"

// OpenHeadroom is the free space Open requires: Badger maps two memtable
// write-ahead logs of 2×MemTableSize each (sparse files: a full disk shows up
// as a SIGBUS when a mapped page is first written), plus a margin for
// compactions and the value log.
func OpenHeadroom(o badger.Options) int64 { return 2*o.MemTableSize + 16<<20 }

// DB is an open data directory. On disk, it closes its Badger handle once
// nothing used it for CloseAfter (RunGC does: an idle engine then holds no
// memtables, caches, mapped tables or compactor goroutines) and reopens it on
// the next use, transparently: every access goes through acquire, and a
// handle in use is never closed.
type DB struct {
	// mu guards bdb and closed. It is never held while a caller's function
	// runs (only around taking or giving back a use, an open and a close),
	// so a View inside a View cannot deadlock on it.
	mu     sync.RWMutex
	bdb    *badger.DB // nil while released (idle) or after Close
	closed bool       // Close was called
	// users counts the uses in flight (Views, Updates, Batches until
	// Flush or Cancel); usedAt is when the last one ended (unix ns).
	users  atomic.Int64
	usedAt atomic.Int64
	bo     badger.Options
	// reopens counts the reopens after an idle close (tests, logs).
	reopens atomic.Int64
	// writes counts the writes ended (Writes).
	writes atomic.Uint64
	// lsm and vlog are the sizes at the last close: Size answers them
	// without reopening.
	lsm, vlog atomic.Int64
	// held is the data directory, flock'ed as Badger locks it, while the
	// handle is released: another process (a second engine, a CLI) still
	// finds the directory in use.
	held *os.File

	dir string
	log *slog.Logger

	headroom  int64        // free space writes need (0: in memory, unchecked)
	spaceAt   atomic.Int64 // unix nanos of the last free-space check
	spaceErr  atomic.Pointer[error]
	spaceLock sync.Mutex
	// wroteAt is when a write last began (unix ns): RunGC releases the
	// tables' pages once writes stopped (ReleasePages).
	wroteAt atomic.Int64
}

// SpaceCheckEvery is how often writes re-check the free space of the data
// directory's file system (a statfs call).
var SpaceCheckEvery = 5 * time.Second

// writable refuses writes while the file system has less free space than
// Badger's mapped files may need: writing to a mapped page of a full disk is
// a SIGBUS, so refusing first is the only clean way out.
func (db *DB) writable() error {
	if db.headroom == 0 {
		return nil
	}
	now := time.Now().UnixNano()
	db.wroteAt.Store(now)
	if now-db.spaceAt.Load() >= int64(SpaceCheckEvery) && db.spaceLock.TryLock() {
		err := diskspace.Check(db.dir, db.headroom, "database writes in "+db.dir)
		if err != nil {
			db.log.Error("disk almost full: database writes refused", "err", err)
			db.spaceErr.Store(&err)
		} else {
			db.spaceErr.Store(nil)
		}
		db.spaceAt.Store(now)
		db.spaceLock.Unlock()
	}
	if e := db.spaceErr.Load(); e != nil {
		return *e
	}
	return nil
}

// Options tune Open. The zero value is the desktop default.
type Options struct {
	InMemory bool         // tests and throwaway engines
	Logger   *slog.Logger // nil: slog.Default()
}

// DesktopOptions are Badger options sized for a desktop app: a creator's index
// of a few hundred thousand files fits easily, and the engine idles in tens of
// MiB instead of Badger's server defaults (64 MiB memtables × 5, 256 MiB caches).
func DesktopOptions(dir string) badger.Options {
	o := badger.DefaultOptions(dir).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(1 << 10).
		WithNumCompactors(2).
		WithCompression(options.ZSTD).
		WithLoggingLevel(badger.WARNING)
	return memoryOptions(o)
}

// memoryOptions are the options that decide the heap Badger holds: the one
// place to tune it. Measured with 100,000 indexed files (bench/library-rss.sh):
// each memtable is an arena allocated whole (two at most while one flushes);
// a table builder buffers a table's uncompressed blocks in pooled allocators
// (a compaction builds several at once), so smaller base tables mean smaller
// buffers; the block cache holds decompressed ZSTD blocks, the index cache
// the tables' indexes. A 100,000-file index is ~20 MB on disk: 8 MiB of
// blocks cached keeps lookups in memory without holding a copy of it all.
func memoryOptions(o badger.Options) badger.Options {
	return o.
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBaseTableSize(1 << 20).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20)
}

// Open opens (creating if needed) the database in dir.
// A directory locked by another process yields ErrLocked; unreadable files ErrCorrupt.
func Open(dir string, opts Options) (*DB, error) {
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	var bo badger.Options
	if opts.InMemory {
		bo = DesktopOptions("").WithInMemory(true)
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			if isReadOnly(err) {
				return nil, readOnlyError(dir, err)
			}
			return nil, fmt.Errorf("create data directory %s: %w", dir, err)
		}
		bo = DesktopOptions(dir)
		if err := checkDir(dir, bo); err != nil {
			return nil, err
		}
	}
	bo = QuietBackground(bo.WithLogger(badgerLogger{lg}))
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, classifyOpenError(dir, err)
	}
	if !opts.InMemory {
		if _, err := os.Stat(filepath.Join(dir, MarkerName)); errors.Is(err, os.ErrNotExist) {
			if err := atomicfile.WriteFile(filepath.Join(dir, MarkerName), []byte("Atelier database: do not delete its MANIFEST or other files\n"), 0o600); err != nil {
				bdb.Close()
				return nil, fmt.Errorf("write %s: %w", filepath.Join(dir, MarkerName), err)
			}
		}
	}
	db := &DB{bdb: bdb, bo: bo, dir: dir, log: lg}
	db.usedAt.Store(time.Now().UnixNano())
	if !opts.InMemory {
		db.headroom = OpenHeadroom(bo)
		db.spaceAt.Store(time.Now().UnixNano()) // checked just now by checkDir
	}
	return db, nil
}

// checkDir refuses, before Badger touches anything, a directory it cannot
// write, a file system without room for Badger's mapped files, and a database
// whose MANIFEST is gone (Badger would start an empty one over it).
func checkDir(dir string, bo badger.Options) error {
	if f, err := os.CreateTemp(dir, ".write-probe-*"); err != nil {
		if isReadOnly(err) {
			return readOnlyError(dir, err)
		}
		return fmt.Errorf("cannot write in the data directory %s: %w", dir, err)
	} else {
		f.Close()
		os.Remove(f.Name())
	}
	if err := diskspace.Check(dir, OpenHeadroom(bo), "the database in "+dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read the data directory %s: %w", dir, err)
	}
	var marker, manifest bool
	var data []string
	for _, e := range entries {
		switch n := e.Name(); {
		case n == MarkerName:
			marker = true
		case n == "MANIFEST":
			manifest = true
		case strings.HasSuffix(n, ".sst"), strings.HasSuffix(n, ".vlog"), strings.HasSuffix(n, ".mem"), n == "KEYREGISTRY":
			data = append(data, n)
		}
	}
	switch {
	case manifest, (len(data) > 0 || marker) && lockedByOther(dir):
		return nil // Badger reports the lock (an engine creating the database)
	case len(data) > 0:
		return fmt.Errorf("%w: the database in %s is damaged (MANIFEST missing, %d data files left): restore a backup with `atelier db restore FILE`, or move the directory aside to start fresh", ErrCorrupt, dir, len(data))
	case marker:
		return fmt.Errorf("%w: the database in %s is damaged (MANIFEST and data files missing): restore a backup with `atelier db restore FILE`, or move the directory aside to start fresh", ErrCorrupt, dir)
	}
	return nil
}

// lockedByOther reports whether another process holds Badger's directory lock.
func lockedByOther(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

func isReadOnly(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

func readOnlyError(dir string, err error) error {
	return fmt.Errorf("%w: %s cannot be written (%v). Nothing is damaged: remount it read-write or fix its permissions, or choose another data directory (--data-dir, $ATELIER_HOME)", ErrReadOnly, dir, err)
}

func classifyOpenError(dir string, err error) error {
	msg := err.Error()
	switch {
	case isReadOnly(err), strings.Contains(msg, "read-only file system"), strings.Contains(msg, "permission denied"):
		return readOnlyError(dir, err)
	case errors.Is(err, syscall.ENOSPC), strings.Contains(msg, "no space left"):
		return fmt.Errorf("%w: %s: the disk is full (%v). Free some space, then try again", diskspace.ErrNoSpace, dir, err)
	case strings.Contains(msg, "Cannot acquire directory lock"), strings.Contains(msg, "resource temporarily unavailable"):
		return fmt.Errorf("%w: %s (quit the other Atelier window or `atelier daemon`, or use the CLI, which talks to the running engine): %v", ErrLocked, dir, err)
	default:
		return fmt.Errorf("%w: %s could not be opened (%v). Restore a backup with `atelier db restore FILE`, or move the directory aside to start fresh", ErrCorrupt, dir, err)
	}
}

// Dir is the directory the database lives in ("" in memory).
func (db *DB) Dir() string { return db.dir }

// InMemory reports whether the database lives in memory only (tests and
// throwaway engines): its values must fit Badger's value threshold.
func (db *DB) InMemory() bool { return db.dir == "" }

// ErrClosed is returned by every use after Close.
var ErrClosed = errors.New("the database is closed")

// acquire takes a use of the Badger handle, reopening it when it was
// released while idle; release gives it back. Uses nest freely.
func (db *DB) acquire() (*badger.DB, error) {
	db.mu.RLock()
	if b := db.bdb; b != nil {
		db.users.Add(1)
		db.mu.RUnlock()
		return b, nil
	}
	db.mu.RUnlock()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil, fmt.Errorf("%w (%s)", ErrClosed, db.dir)
	}
	if db.bdb == nil {
		if err := db.reopenLocked(); err != nil {
			return nil, err
		}
	}
	db.users.Add(1)
	return db.bdb, nil
}

func (db *DB) release() {
	db.usedAt.Store(time.Now().UnixNano())
	db.users.Add(-1)
}

// reopenLocked opens the handle released while idle (db.mu held).
func (db *DB) reopenLocked() error {
	t0 := time.Now()
	db.unholdLocked()
	if _, err := os.Stat(db.dir); err != nil {
		return fmt.Errorf("reopen the database in %s: %w. The data directory was moved, deleted or unmounted while Atelier was idle: put it back (or remount it) and try again, or restart Atelier", db.dir, err)
	}
	if err := checkDir(db.dir, db.bo); err != nil {
		return fmt.Errorf("reopen the database in %s: %w", db.dir, err)
	}
	b, err := badger.Open(db.bo)
	if err != nil {
		return fmt.Errorf("reopen the database in %s: %w", db.dir, classifyOpenError(db.dir, err))
	}
	db.bdb = b
	db.reopens.Add(1)
	db.log.Debug("database reopened", "dir", db.dir, "by", caller(), "idle", time.Duration(t0.UnixNano()-db.usedAt.Load()).Round(time.Second), "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// caller names the first function outside this package on the stack: who
// made an idle database reopen.
func caller() string {
	pc := make([]uintptr, 16)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "atelier/localdb.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return "?"
		}
	}
}

// CloseAfter is how long a database on disk must go unused before RunGC
// closes its Badger handle (the next use reopens it). An open Badger is
// not idle: its two compactors wake every 50 ms, about 0.8 % of a core
// on a quiet engine against 0.03 % closed (bench/tray.sh, issue 16), so
// it closes soon after a burst of work; a reopen costs tens of
// milliseconds.
var CloseAfter = 30 * time.Second

// closeIdle closes the handle when nothing used it for quiet, without ever
// waiting for a use in flight. It reports whether it closed it.
func (db *DB) closeIdle(quiet time.Duration) bool {
	if db.dir == "" || db.users.Load() != 0 || time.Since(time.Unix(0, db.usedAt.Load())) < quiet {
		return false
	}
	if !db.mu.TryLock() {
		return false
	}
	defer db.mu.Unlock()
	// Every use takes mu's read lock to count itself: none can start now.
	if db.bdb == nil || db.users.Load() != 0 {
		return false
	}
	b := db.bdb
	db.bdb = nil
	if err := b.Close(); err != nil {
		db.log.Warn("closing the idle database", "dir", db.dir, "err", err)
	}
	lsm, vlog := filesSize(db.dir)
	db.lsm.Store(lsm)
	db.vlog.Store(vlog)
	db.holdLocked()
	db.log.Debug("idle database closed", "dir", db.dir)
	return true
}

// holdLocked takes Badger's lock of the data directory (an flock of the
// directory) for the time the handle is released.
func (db *DB) holdLocked() {
	f, err := os.Open(db.dir)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		db.log.Warn("could not keep the idle database's directory locked: another Atelier process could open it meanwhile", "dir", db.dir, "err", err)
		return
	}
	db.held = f
}

// unholdLocked gives the directory's lock back for Badger to take.
func (db *DB) unholdLocked() {
	if db.held != nil {
		syscall.Flock(int(db.held.Fd()), syscall.LOCK_UN)
		db.held.Close()
		db.held = nil
	}
}

// IsOpen reports whether the Badger handle is open (false while released when idle).
func (db *DB) IsOpen() bool {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.bdb != nil
}

// Reopens counts the reopens after an idle close.
func (db *DB) Reopens() int64 { return db.reopens.Load() }

// Writes counts the writes (Updates, flushed Batches, DropPrefixes,
// Restores) ended so far, committed or not: a value read before reading the
// database and unchanged afterwards means nothing was written since. A
// summary kept in memory with it answers status polls without reopening
// a database closed while idle.
func (db *DB) Writes() uint64 { return db.writes.Load() }

func (db *DB) wrote() { db.writes.Add(1) }

// Close flushes and closes the database; later uses fail with ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	db.unholdLocked()
	b := db.bdb
	db.bdb = nil
	if b == nil {
		return nil
	}
	return b.Close()
}

// Sync fsyncs the value log: call it where a write must survive power loss
// (the consent ledger), since writes are otherwise durable against process crashes only.
func (db *DB) Sync() error {
	b, err := db.acquire()
	if err != nil {
		return err
	}
	defer db.release()
	return b.Sync()
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(tx *Tx) error) error {
	b, err := db.acquire()
	if err != nil {
		return err
	}
	defer db.release()
	return b.View(func(t *badger.Txn) error { return fn(&Tx{t: t}) })
}

// ViewRaw runs fn in a read-only transaction given as Badger's own (streams,
// byte-level scans).
func (db *DB) ViewRaw(fn func(txn *badger.Txn) error) error {
	return db.View(func(tx *Tx) error { return fn(tx.t) })
}

// Update runs fn in a read-write transaction, committed when fn returns nil.
func (db *DB) Update(fn func(tx *Tx) error) error {
	if err := db.writable(); err != nil {
		return err
	}
	b, err := db.acquire()
	if err != nil {
		return err
	}
	defer db.release()
	defer db.wrote()
	return b.Update(func(t *badger.Txn) error { return fn(&Tx{t: t}) })
}

// Batch returns a write batch for bulk loads larger than one transaction may hold.
// Its writes are not atomic as a whole; call Flush (or Cancel) at the end: the
// database stays open until then.
func (db *DB) Batch() *Batch {
	b, err := db.acquire()
	if err != nil {
		return &Batch{db: db, err: err}
	}
	return &Batch{wb: b.NewWriteBatch(), db: db}
}

// Backup writes a full backup to w.
func (db *DB) Backup(w io.Writer) error {
	b, err := db.acquire()
	if err != nil {
		return err
	}
	defer db.release()
	_, err = b.Backup(w, 0)
	return err
}

// Restore loads a backup written by Backup. Existing keys are overwritten; call it
// on an empty database for an exact copy.
func (db *DB) Restore(r io.Reader) error {
	b, err := db.acquire()
	if err != nil {
		return err
	}
	defer db.release()
	defer db.wrote()
	return b.Load(r, 256)
}

// DropPrefix deletes every key under prefix.
func (db *DB) DropPrefix(prefix string) error { return db.DropPrefixes([]byte(prefix)) }

// DropPrefixes deletes every key under each of prefixes, in one pass.
func (db *DB) DropPrefixes(prefixes ...[]byte) error {
	b, err := db.acquire()
	if err != nil {
		return err
	}
	defer db.release()
	defer db.wrote()
	return b.DropPrefix(prefixes...)
}

// ReleaseAfter is how long writes must have stopped before RunGC hands the
// tables' pages back to the kernel (ReleasePages).
var ReleaseAfter = time.Minute

// RunGC runs value-log GC every interval until ctx ends. Badger only reclaims
// space in rewritten vlog files, so idle GC keeps the data dir from growing
// forever. While writes have stopped for ReleaseAfter it releases the pages
// of the tables mapped (every ReleaseAfter) and, once per quiet spell,
// returns the Go heap's free pages to the system (an idle engine's RSS).
// Once nothing used the database for CloseAfter it closes the Badger handle
// (the next use reopens it) and returns the heap's free pages again.
func (db *DB) RunGC(ctx context.Context, interval time.Duration) {
	if db.dir == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	r := time.NewTicker(ReleaseAfter)
	defer r.Stop()
	c := time.NewTicker(max(CloseAfter/4, time.Millisecond))
	defer c.Stop()
	var released int64 // wroteAt at the last release
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.C:
			if db.closeIdle(CloseAfter) {
				debug.FreeOSMemory() // the memtables and caches
			}
		case <-r.C:
			w := db.wroteAt.Load()
			if w == 0 || time.Since(time.Unix(0, w)) < ReleaseAfter || !db.IsOpen() {
				continue // closed while idle: no tables are mapped
			}
			// Every quiet tick: compactions after the last write wrote
			// tables too (a look at /proc/self/maps, ~40 advice calls).
			n := db.ReleasePages()
			if w != released {
				released = w
				// The engine went quiet: its Go heap keeps what is
				// live, not an indexing peak's garbage (one collection
				// per quiet spell).
				debug.FreeOSMemory()
				db.log.Debug("database pages released", "dir", db.dir, "mapped", n)
			}
		case <-t.C:
			db.valueLogGC(ctx)
		}
	}
}

// valueLogGC rewrites value-log files while it frees space; a database
// closed while idle wrote nothing since, and is left closed.
func (db *DB) valueLogGC(ctx context.Context) {
	db.mu.RLock()
	b := db.bdb
	if b != nil {
		db.users.Add(1)
	}
	db.mu.RUnlock()
	if b == nil {
		return
	}
	defer db.users.Add(-1) // not a use: it must not keep an idle database open
	for ctx.Err() == nil && b.RunValueLogGC(0.5) == nil {
	}
}

// filesSize sums the sizes of the tables and value-log files in dir, as
// Badger's Size does.
func filesSize(dir string) (lsm, vlog int64) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		switch filepath.Ext(e.Name()) {
		case ".sst":
			lsm += fi.Size()
		case ".vlog":
			vlog += fi.Size()
		}
	}
	return lsm, vlog
}

// Size reports the on-disk size of the LSM tree and value log (as at the
// idle close while the database is released: nothing wrote since).
func (db *DB) Size() (lsm, vlog int64) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.bdb == nil {
		return db.lsm.Load(), db.vlog.Load()
	}
	return db.bdb.Size()
}

// DirSize sums the disk space used by regular files below dir. It counts
// allocated blocks, not apparent sizes: Badger preallocates its memtable and
// value-log files, which would otherwise look far bigger than they are.
func DirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				} else {
					n += fi.Size()
				}
			}
		}
		return nil
	})
	return n
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Infof(f string, a ...any)  {}
func (b badgerLogger) Debugf(f string, a ...any) {}
