package index

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"atelier/progress"
)

// Problem is a path the indexer could not index, and why. Problems are
// reported, never fatal: the rest of the project is indexed.
type Problem struct {
	Path string `json:"path"`
	Err  string `json:"error"`
}

// Indexer keeps one project's records equal to its files on disk.
type Indexer struct {
	Root    string
	Project ProjectID
	Store   *Store
	Ignore  *Ignorer
	Workers int // hashing parallelism; 0 = all cores
	Log     *slog.Logger
	// Totals is set by a whole-project Reconcile (what the index now holds,
	// less files that could not be read), so callers need not count again.
	Totals Totals
}

// stat is what the indexer learns of a file without reading it.
type stat struct {
	size  int64
	mtime time.Time
	mode  fs.FileMode
	inode uint64
}

func statOf(fi fs.FileInfo) stat {
	s := stat{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.inode = st.Ino
	}
	return s
}

// same reports whether a record still describes the file: if size, time and
// inode agree, the content is taken as unchanged and not hashed again.
func (s stat) same(r FileRecord) bool {
	return s.size == r.Size && s.mtime.Equal(r.ModTime) && s.inode == r.Inode && !r.SHA256.IsZero()
}

func (ix *Indexer) abs(rel string) string { return filepath.Join(ix.Root, filepath.FromSlash(rel)) }

func (ix *Indexer) logger() *slog.Logger {
	if ix.Log != nil {
		return ix.Log
	}
	return slog.Default()
}

// Reconcile brings the records at or below the directory sub ("" for the whole
// project) in line with the disk: it stats everything, hashes only what changed,
// writes the records in batches as it goes (so a crash loses little and the next
// run converges), and returns the changes it made.
func (ix *Indexer) Reconcile(ctx context.Context, sub string, prog progress.Func) ([]Change, []Problem, error) {
	sub = cleanRel(sub)
	if _, err := os.Stat(ix.Root); err != nil {
		return nil, nil, fmt.Errorf("project folder %s is not reachable (was it moved, or is a drive unmounted?): %w", ix.Root, err)
	}
	// Read the index while walking the disk: the two take about as long.
	db := map[string]FileRecord{}
	dbErr := make(chan error, 1)
	go func() {
		dbErr <- ix.Store.Under(sub, func(r FileRecord) error { db[r.Path] = r; return nil })
	}()
	// Walk the disk: the top-level folders are walked in parallel (stat calls
	// dominate a no-change pass), each into its own result, merged after.
	start := ix.abs(sub)
	top := &walkResult{disk: map[string]stat{}}
	subdirs := make(chan string)
	results := make(chan *walkResult)
	workers := max(2, runtime.NumCPU())
	for range workers {
		go func() {
			w := &walkResult{disk: map[string]stat{}}
			for d := range subdirs {
				if err := ix.walk(ctx, d, false, w, nil); err != nil && w.err == nil {
					w.err = err
				}
			}
			results <- w
		}()
	}
	err := ix.walk(ctx, start, true, top, func(dir string) {
		select {
		case subdirs <- dir:
		case <-ctx.Done():
		}
	})
	close(subdirs)
	disk, problems := top.disk, top.problems
	for range workers {
		w := <-results
		for k, v := range w.disk {
			disk[k] = v
		}
		problems = append(problems, w.problems...)
		if w.err != nil && err == nil {
			err = w.err
		}
	}
	if derr := <-dbErr; derr != nil && err == nil {
		err = fmt.Errorf("read index of %s: %w", ix.Project, derr)
	}
	if err != nil {
		return nil, problems, err
	}
	changes, more, err := ix.diff(ctx, disk, db, prog)
	if err == nil && sub == "" {
		ix.Totals = Totals{}
		for _, st := range disk {
			ix.Totals.Files++
			ix.Totals.Bytes += st.size
		}
	}
	return changes, append(problems, more...), err
}

// Totals are the files and bytes a whole-project Reconcile found on disk.
type Totals struct {
	Files int
	Bytes int64
}

// walkResult collects one walker's findings.
type walkResult struct {
	disk     map[string]stat
	problems []Problem
	err      error
}

// walk records the regular files below start into w. When handOff is set and
// first is true, the directories directly below start are passed to it
// instead of being descended into (they are walked by other goroutines).
func (ix *Indexer) walk(ctx context.Context, start string, first bool, w *walkResult, handOff func(dir string)) error {
	return filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel := ix.rel(p)
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return nil // the whole subtree is gone: every record below it is deleted
			}
			w.problems = append(w.problems, Problem{Path: rel, Err: describe(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if rel != "" && ix.Ignore.Ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			if first && handOff != nil && p != start && filepath.Dir(p) == start {
				handOff(p)
				return fs.SkipDir
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			// Links are not followed (no loops, no escaping the project); a
			// broken or looping one is reported so the creator can fix it.
			if _, err := os.Stat(p); err != nil {
				w.problems = append(w.problems, Problem{Path: rel, Err: "symbolic link not followed: " + describe(err)})
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.problems = append(w.problems, Problem{Path: rel, Err: describe(err)})
			}
			return nil
		}
		w.disk[rel] = statOf(fi)
		return nil
	})
}

// Update re-examines the given paths (files or directories, relative to the
// root), as reported by the watcher, and returns the changes.
func (ix *Indexer) Update(ctx context.Context, rels []string) ([]Change, []Problem, error) {
	disk := map[string]stat{}
	db := map[string]FileRecord{}
	var problems []Problem
	var dirs, lookups []string
	for _, rel := range rels {
		rel = cleanRel(rel)
		if rel == "" {
			dirs = append(dirs, "")
			continue
		}
		fi, err := os.Lstat(ix.abs(rel))
		switch {
		case err == nil && fi.IsDir():
			if !ix.Ignore.IgnoredPath(rel, true) {
				dirs = append(dirs, rel)
			}
			continue
		case err == nil && fi.Mode().IsRegular():
			if !ix.Ignore.IgnoredPath(rel, false) {
				disk[rel] = statOf(fi)
			}
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			if _, err := os.Stat(ix.abs(rel)); err != nil {
				problems = append(problems, Problem{Path: rel, Err: "symbolic link not followed: " + describe(err)})
			}
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			problems = append(problems, Problem{Path: rel, Err: describe(err)})
			continue
		}
		// Whatever the path is now, its record and any records below it (it may
		// have been a directory) are compared with what is on disk.
		lookups = append(lookups, rel)
	}
	if err := ix.Store.Lookup(lookups, db); err != nil {
		return nil, problems, err
	}
	changes, more, err := ix.diff(ctx, disk, db, nil)
	problems = append(problems, more...)
	if err != nil {
		return changes, problems, err
	}
	for _, d := range dirs {
		cs, ps, err := ix.Reconcile(ctx, d, nil)
		changes = append(changes, cs...)
		problems = append(problems, ps...)
		if err != nil {
			return changes, problems, err
		}
	}
	return changes, problems, nil
}

// diff hashes what changed between disk and db, pairs deletes with creates of
// the same file as renames, and writes the result.
func (ix *Indexer) diff(ctx context.Context, disk map[string]stat, db map[string]FileRecord, prog progress.Func) ([]Change, []Problem, error) {
	var toHash []string
	var hashBytes int64
	for rel, st := range disk {
		if r, ok := db[rel]; ok && st.same(r) {
			continue
		}
		toHash = append(toHash, rel)
		hashBytes += st.size
	}
	sort.Strings(toHash)
	var deleted []FileRecord
	for rel, r := range db {
		if _, ok := disk[rel]; !ok {
			deleted = append(deleted, r)
		}
	}
	sort.Slice(deleted, func(i, j int) bool { return deleted[i].Path < deleted[j].Path })

	var (
		mu       sync.Mutex
		changes  []Change
		pending  []Change
		problems []Problem
		done     int64
		werr     error
	)
	flush := func() {
		if len(pending) == 0 || werr != nil {
			return
		}
		if err := ix.Store.Apply(pending); err != nil {
			werr = fmt.Errorf("write index of %s: %w", ix.Project, err)
		}
		pending = pending[:0]
	}
	// Deletions whose inode reappears among the new files are renames; keep them
	// back until the hashes are known.
	byInode := map[uint64]FileRecord{}
	for _, r := range deleted {
		if r.Inode != 0 {
			byInode[r.Inode] = r
		}
	}
	workers := ix.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for rel := range jobs {
				st := disk[rel]
				sum, st2, err := hashFile(ix.abs(rel), buf)
				mu.Lock()
				if err != nil {
					if !errors.Is(err, fs.ErrNotExist) {
						problems = append(problems, Problem{Path: rel, Err: describe(err)})
					}
					// A file that vanished while hashed is no longer there: let
					// its record (if any) be deleted below.
					if errors.Is(err, fs.ErrNotExist) {
						if r, ok := db[rel]; ok {
							deleted = append(deleted, r)
						}
					}
					mu.Unlock()
					continue
				}
				if st2.size != st.size || !st2.mtime.Equal(st.mtime) {
					st = st2 // changed while hashed: record what was read; the watcher brings the rest
				}
				rec := FileRecord{Project: ix.Project, Path: rel, Size: st.size, ModTime: st.mtime, Mode: st.mode, Inode: st.inode, SHA256: sum, Kind: KindOf(rel)}
				c := Change{Op: OpCreate, Record: rec}
				if prev, ok := db[rel]; ok {
					c.Op, c.PrevSize = OpModify, prev.Size
				} else if old, ok := byInode[st.inode]; ok && st.inode != 0 && old.SHA256 == sum {
					c.Op, c.From, c.PrevSize = OpRename, old.Path, old.Size
					delete(byInode, st.inode)
				}
				changes = append(changes, c)
				pending = append(pending, c)
				done += st.size
				soFar := done
				if len(pending) >= maxBatch {
					flush()
				}
				mu.Unlock()
				prog.Report(progress.Progress{Done: soFar, Total: hashBytes, Unit: "bytes", Note: rel})
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, rel := range toHash {
			select {
			case jobs <- rel:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		mu.Lock()
		flush()
		mu.Unlock()
		return changes, problems, err
	}
	renamedFrom := map[string]bool{}
	for _, c := range changes {
		if c.Op == OpRename {
			renamedFrom[c.From] = true
		}
	}
	seen := map[string]bool{}
	for _, r := range deleted {
		if renamedFrom[r.Path] || seen[r.Path] {
			continue
		}
		seen[r.Path] = true
		c := Change{Op: OpDelete, Record: r}
		changes = append(changes, c)
		pending = append(pending, c)
	}
	flush()
	return changes, problems, werr
}

// openFile opens files for hashing (a seam for fault-injection tests).
var openFile = os.Open

// hashFile streams the file through SHA-256 and returns its stat after reading.
func hashFile(p string, buf []byte) (Digest, stat, error) {
	var d Digest
	f, err := openFile(p)
	if err != nil {
		return d, stat{}, err
	}
	defer f.Close()
	h := sha256.New()
	// A plain read loop: io.CopyBuffer would hand the copy to
	// (*os.File).WriteTo, which ignores buf and allocates 32 KiB per file
	// (100,000 small files: 3 GB of garbage).
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, stat{}, err
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return d, stat{}, err
	}
	copy(d[:], h.Sum(nil))
	return d, statOf(fi), nil
}

func (ix *Indexer) rel(p string) string {
	r, err := filepath.Rel(ix.Root, p)
	if err != nil || r == "." {
		return ""
	}
	return filepath.ToSlash(r)
}

func cleanRel(rel string) string {
	rel = path.Clean("/" + filepath.ToSlash(rel))
	return strings.TrimPrefix(rel, "/")
}

// describe turns file errors into what a creator can act on.
func describe(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied: Atelier cannot read this; change its permissions or add it to .atelierignore"
	case errors.Is(err, syscall.ELOOP):
		return "too many levels of symbolic links (a link loop): remove or fix the link"
	case errors.Is(err, fs.ErrNotExist):
		return "vanished while being read"
	default:
		return err.Error()
	}
}
