package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"atelier/sync/target"
)

// Commit is a snapshot made from a list of changes instead of the whole
// project: the files that changed are read, and only the trees on their
// paths are written. It is how local history takes a version per save.
type Commit struct {
	Project string
	Root    string      // where the Put files are read
	Put     []LocalFile // new or changed files (SHA256 may be zero)
	Delete  []string    // paths that are gone
	Time    time.Time   // when (zero: now)
	// Progress is told about reading and storing the Put files.
	Progress func(Progress)
}

// CommitResult is what a commit stored.
type CommitResult struct {
	Head     Head `json:"head"`
	NoChange bool `json:"noChange"`
	// Files are the stored versions of the Put files, in Put order.
	Files []File `json:"files"`
	// Replaced is the previous version of each path a Put or Delete
	// replaced or removed (a path absent here is new, or was not there).
	Replaced     map[string]File `json:"replaced"`
	BytesNew     int64           `json:"bytesNew"`
	BytesDeduped int64           `json:"bytesDeduped"`
	PackBytes    int64           `json:"packBytes"` // packs written
	MetaBytes    int64           `json:"metaBytes"` // trees, snapshot and head written
	Trees        int             `json:"trees"`     // tree objects written
}

// Commit stores the changed files of c and commits a snapshot that is the
// project's newest snapshot with c applied. Files unchanged since then are
// not read, and only the directories on changed paths get new trees.
func (v *Vault) Commit(ctx context.Context, c Commit) (CommitResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := v.commitOnce(ctx, c)
		if errors.Is(err, errRace) && attempt < 8 {
			continue
		}
		return res, err
	}
}

func (v *Vault) commitOnce(ctx context.Context, c Commit) (CommitResult, error) {
	res := CommitResult{Replaced: map[string]File{}}
	for _, f := range c.Put {
		if err := safePath(f.Path); err != nil {
			return res, fmt.Errorf("commit %s: %w", c.Project, err)
		}
	}
	for _, p := range c.Delete {
		if err := safePath(p); err != nil {
			return res, fmt.Errorf("commit %s: %w", c.Project, err)
		}
	}
	// Known chunks and trees may be gone after a prune elsewhere.
	if _, err := v.checkEpoch(ctx); err != nil {
		return res, err
	}
	lh, have, err := v.localHead(c.Project)
	if err != nil {
		return res, err
	}
	rh, rhave, err := v.latestHead(ctx, c.Project, lh, have)
	if err != nil {
		return res, err
	}
	tw := v.newTreeWriter(ctx)
	root := ""
	var parent *Snapshot
	if rhave {
		if parent, err = v.SnapshotHeader(ctx, rh.Snapshot); err != nil {
			return res, err
		}
		root = parent.Tree
		if root == "" {
			// A format-1 parent: its listing becomes trees once.
			if root, err = tw.buildFull(parent.Files); err != nil {
				return res, err
			}
		}
	}
	tr := newTracker(c.Progress, v.o.Gate)
	defer tr.stop()
	if len(c.Put) > 0 {
		tr.setPhase("upload")
		for _, f := range c.Put {
			tr.bytesTotal.Add(f.Size)
		}
		tr.filesTotal.Store(int64(len(c.Put)))
		if res.Files, err = v.upload(ctx, c.Root, c.Put, tr); err != nil {
			return res, err
		}
	}
	res.BytesNew, res.BytesDeduped, res.PackBytes = tr.bytesNew.Load(), tr.bytesDeduped.Load(), tr.bytesSent.Load()
	edits := make(map[string]*File, len(c.Put)+len(c.Delete))
	for _, p := range c.Delete {
		edits[p] = nil
	}
	for i := range res.Files {
		edits[res.Files[i].Path] = &res.Files[i]
	}
	tr.setPhase("commit")
	newRoot, err := tw.edit(root, "", edits, func(p string, e TreeEntry) { res.Replaced[p] = e.File(p) })
	if err != nil {
		return res, err
	}
	if newRoot == "" {
		if newRoot, err = tw.emptyTree(); err != nil {
			return res, err
		}
	}
	if rhave && newRoot == parent.Tree {
		res.NoChange, res.Head = true, rh
		tr.setPhase("done")
		return res, tw.commit()
	}
	snap := &Snapshot{ID: randHex(16), Project: c.Project, Device: v.o.Device, Time: c.Time, Tree: newRoot}
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	snap.Time = snap.Time.UTC()
	files, bytes := 0, int64(0)
	if rhave {
		snap.Seq, snap.Parent = rh.Seq+1, rh.Snapshot
		files, bytes = rh.Files, rh.Bytes
	} else {
		snap.Seq = 1
	}
	for p, f := range edits {
		if old, ok := res.Replaced[p]; ok {
			files--
			bytes -= old.Size
		}
		if f != nil {
			files++
			bytes += f.Size
		}
	}
	n, err := v.storeSnapshot(ctx, snap, tw)
	if err != nil {
		return res, err
	}
	if err := tw.commit(); err != nil {
		return res, err
	}
	res.MetaBytes, res.Trees = tw.bytes+n, tw.written
	head := Head{Project: c.Project, Seq: snap.Seq, Snapshot: snap.ID, Parent: snap.Parent, Device: v.o.Device, Time: snap.Time, Files: files, Bytes: bytes}
	hb, err := v.putHead(ctx, head)
	if err != nil {
		return res, err
	}
	res.MetaBytes += int64(hb)
	if err := v.setLocalHead(c.Project, head); err != nil {
		return res, err
	}
	res.Head = head
	tr.setPhase("done")
	return res, nil
}

// ReadFile writes the content of f (a file of a snapshot) to w, verified
// chunk by chunk and against its SHA-256: a version is played or copied
// without being restored.
func (v *Vault) ReadFile(ctx context.Context, f File, w io.Writer) error {
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	for _, run := range runs(f.Chunks) {
		parts, err := v.fetchRun(ctx, run)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Path, err)
		}
		for _, p := range parts {
			if _, err := mw.Write(p); err != nil {
				return err
			}
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("read %s: content hash %s does not match the snapshot's %s: %w", f.Path, got, f.SHA256, ErrCorrupt)
	}
	return nil
}

// WriteFile restores f as name into d (see target.Dir.Write: atomic, inside
// the folder, never through a link; what it replaces is kept or replaced as
// d was opened to do).
func (v *Vault) WriteFile(ctx context.Context, f File, d *target.Dir, name string) error {
	return v.fetchFile(ctx, f, d, name)
}

// Head reads the head of project at seq.
func (v *Vault) Head(ctx context.Context, project string, seq int64) (Head, error) {
	return v.getHead(ctx, v.headKey(project, seq))
}

// FileReader reads a file of a snapshot at any offset, fetching and
// verifying only the chunks it needs: a version plays, and seeks, without
// being restored.
type FileReader struct {
	v    *Vault
	ctx  context.Context
	f    File
	offs []int64 // plaintext offset of each chunk

	mu   sync.Mutex
	cur  int // index of the chunk in buf (-1: none)
	buf  []byte
	size int64
}

// OpenFile returns a reader of f.
func (v *Vault) OpenFile(ctx context.Context, f File) *FileReader {
	r := &FileReader{v: v, ctx: ctx, f: f, cur: -1}
	var off int64
	for _, c := range f.Chunks {
		r.offs = append(r.offs, off)
		off += c.Size()
	}
	r.size = off
	return r
}

// Size is the file's size.
func (r *FileReader) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt.
func (r *FileReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset", r.f.Path)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		i := sort.Search(len(r.offs), func(i int) bool { return r.offs[i] > off }) - 1
		if i != r.cur {
			parts, err := r.v.fetchRun(r.ctx, r.f.Chunks[i:i+1])
			if err != nil {
				return n, fmt.Errorf("read %s: %w", r.f.Path, err)
			}
			r.buf, r.cur = parts[0], i
		}
		c := copy(p[n:], r.buf[off-r.offs[i]:])
		n += c
		off += int64(c)
	}
	return n, nil
}
