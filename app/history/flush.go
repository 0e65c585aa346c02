package history

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"atelier/localdb"
	"atelier/sync/vault"
)

type item struct {
	path string
	p    pending
}

// Flush takes a version of every project with changes that settled (all
// waiting changes when force). A paused project is retried here and resumes
// when the disk has room again.
func (h *History) Flush(ctx context.Context, force bool) error {
	_, err := h.flush(ctx, force)
	return err
}

// flush is Flush, and says whether changes were left waiting (not settled).
// Only the pending changes of the projects due are read.
func (h *History) flush(ctx context.Context, force bool) (left bool, err error) {
	projects, pending := h.dueProjects(h.o.Now(), force)
	sort.Strings(projects)
	var errs []error
	for _, p := range projects {
		if _, err := h.takePending(ctx, p, nil, false); err != nil {
			h.failed(p)
			errs = append(errs, err)
		}
	}
	return len(projects) < pending, errors.Join(errs...)
}

// FlushProject takes a version of project now from whatever is waiting.
func (h *History) FlushProject(ctx context.Context, project string) (SnapInfo, error) {
	return h.takePending(ctx, project, nil, true)
}

// extra is a path take adds to a version outside the pending changes (a
// restore records the file it wrote).
type extra struct {
	path string
	op   Op
	from string
}

// take commits items (and extras) of project as one version and indexes it.
func (h *History) take(ctx context.Context, project string, items []item, extras []extra) (SnapInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taking.Store(&project)
	defer h.taking.Store(nil)
	root, err := h.o.Files.Root(project)
	if err != nil {
		return SnapInfo{}, fmt.Errorf("local history of %s: %w", project, err)
	}
	last, have, err := h.lastSnap(project)
	if err != nil {
		return SnapInfo{}, err
	}
	// ops: path -> the change that put or deleted it. A file of a first
	// version's listing that no change names is not kept there (it is a
	// plain creation): at 100,000 files the entries held ~20 MB.
	ops := map[string]item{}
	var put []vault.LocalFile
	var del []string
	// addPut puts p unless already done; sum is its content hash as last
	// indexed (zero: unknown), valid for it.p's size and time.
	addPut := func(p string, it item, sum [32]byte, record bool) {
		if _, dup := ops[p]; dup {
			return
		}
		abs := filepath.Join(root, filepath.FromSlash(p))
		fi, err := os.Lstat(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			del = append(del, p)
			ops[p] = item{p, pending{Op: OpDelete}}
			return
		case err != nil:
			h.log.Warn("local history: file not readable, no version taken", "file", abs, "err", err)
			return
		case !fi.Mode().IsRegular():
			return
		}
		if f, err := os.Open(abs); err != nil {
			h.log.Warn("local history: file not readable, no version taken", "file", abs, "err", err)
			return
		} else {
			f.Close()
		}
		lf := vault.LocalFile{Path: p, Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode()}
		if sum != ([32]byte{}) && it.p.Size == fi.Size() && it.p.ModTime.Equal(fi.ModTime()) {
			lf.SHA256 = sum
		}
		put = append(put, lf)
		if record {
			ops[p] = it
		}
	}
	// listed[i]: items[i] names a file of the first version's listing,
	// which takes it (as a creation) instead.
	var listed []bool
	if !have {
		// The first version of a project: everything the index knows.
		files, err := h.o.Files.Files(project)
		if err != nil {
			return SnapInfo{}, fmt.Errorf("local history of %s: list its files: %w", project, err)
		}
		// Pending changes come sorted by path (a scan); a caller's may not.
		if !sort.SliceIsSorted(items, func(i, j int) bool { return items[i].path < items[j].path }) {
			sort.SliceStable(items, func(i, j int) bool { return items[i].path < items[j].path })
		}
		listed = make([]bool, len(items))
		for _, f := range files {
			i := sort.Search(len(items), func(i int) bool { return items[i].path >= f.Path })
			named := i < len(items) && items[i].path == f.Path
			if named {
				listed[i] = true
			}
			addPut(f.Path, item{f.Path, pending{Op: OpCreate, Size: f.Size, ModTime: f.ModTime}}, f.SHA256, named)
		}
	}
	for i, it := range items {
		if listed != nil && listed[i] {
			continue
		}
		switch it.p.Op {
		case OpDelete:
			del = append(del, it.path)
			ops[it.path] = it
		case OpRename:
			if it.p.From != "" && it.p.From != it.path {
				del = append(del, it.p.From)
			}
			addPut(it.path, it, unhexSum(it.p.SHA256), true)
		default:
			addPut(it.path, it, unhexSum(it.p.SHA256), true)
		}
	}
	for _, e := range extras {
		if !have && slices.ContainsFunc(put, func(f vault.LocalFile) bool { return f.Path == e.path }) {
			continue // listed (not in ops): already put
		}
		addPut(e.path, item{e.path, pending{Op: e.op, From: e.from}}, [32]byte{}, true)
	}
	var need int64
	for _, f := range put {
		need += f.Size
	}
	if err := h.checkSpace(project, need); err != nil {
		return SnapInfo{}, err
	}
	res, err := h.v.Commit(ctx, vault.Commit{Project: project, Root: root, Put: put, Delete: del, Time: h.o.Now()})
	if err != nil {
		if isNoSpace(err) {
			err = fmt.Errorf("%w: the disk holding %s filled up while a version was taken (%v); nothing recorded is affected. Free some space, lower the history budget or turn history off for this project", ErrPaused, h.o.Dir, err)
			h.setPaused(project, err)
		}
		return SnapInfo{}, err
	}
	h.setPaused(project, nil)
	if res.NoChange && have && last.Seq == res.Head.Seq {
		return last, h.clearPending(project, items)
	}
	return h.index(project, res, ops, items)
}

// lastSnap is the newest indexed version of project.
func (h *History) lastSnap(project string) (SnapInfo, bool, error) {
	var out SnapInfo
	var ok bool
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return lastIn(tx, project, &out, &ok)
	})
	return out, ok, err
}

func lastIn(tx *localdb.Tx, project string, out *SnapInfo, ok *bool) error {
	return snapT.Scan(tx, project+"\x00", func(_ string, s SnapInfo) error {
		*out, *ok = s, true
		return nil
	})
}

// clearPending removes the pending changes taken, unless a newer change of
// the same path arrived meanwhile.
func (h *History) clearPending(project string, items []item) error {
	return h.o.DB.Update(func(tx *localdb.Tx) error { return clearPendingTx(tx, project, items) })
}

func clearPendingTx(tx *localdb.Tx, project string, items []item) error {
	for _, it := range items {
		k := pkey(project, it.path)
		cur, ok, err := pendingT.Get(tx, k)
		if err != nil {
			return err
		}
		if ok && cur.At.Equal(it.p.At) {
			if err := pendingT.Delete(tx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// index records a committed version in the version index: one entry per
// file whose content changed, renames carried over, deletions listed. The
// pending changes go in the same last transaction: after a crash before it
// they are taken again (the vault's orphan snapshot is pruned later).
func (h *History) index(project string, res vault.CommitResult, ops map[string]item, items []item) (SnapInfo, error) {
	head := res.Head
	info := SnapInfo{Project: project, Seq: head.Seq, Snapshot: head.Snapshot, Time: head.Time, Files: head.Files, Bytes: head.Bytes, Changed: []string{}}
	note := func(p string) {
		if len(info.Changed) < 100 {
			info.Changed = append(info.Changed, p)
		} else {
			info.More++
		}
	}
	// Paths a rename moves versions to or from are looked up in the
	// transaction itself; every other path's newest recorded version is
	// read before its batch's writes (an iterator in a transaction sorts
	// the transaction's pending writes, so looking each path up among a
	// batch's writes made a first version of 100,000 files quadratic).
	live := map[string]bool{}
	for _, it := range ops {
		if it.p.Op == OpRename && it.p.From != "" && it.p.From != it.path {
			live[it.path], live[it.p.From] = true, true
		}
	}
	var prevs map[string]Version // the current batch's paths
	latest := func(tx *localdb.Tx, p string) (Version, bool, error) {
		if live[p] {
			return latestVersion(tx, project, p)
		}
		v, ok := prevs[p]
		return v, ok, nil
	}
	// The version index is the truth of what was recorded: a file gets a
	// version when its content differs from its newest recorded version
	// (the vault's previous snapshot may be one a crash left unrecorded).
	storeStep := func(tx *localdb.Tx, f *vault.File) error {
		it := ops[f.Path]
		_, existed := res.Replaced[f.Path]
		op := it.p.Op
		if op == "" || op == OpModify || op == OpCreate {
			op = OpCreate
			if existed {
				op = OpModify
			}
		}
		if op == OpRename && it.p.From != "" && it.p.From != f.Path {
			if err := moveVersions(tx, project, it.p.From, f.Path); err != nil {
				return err
			}
		}
		prev, ok, err := latest(tx, f.Path)
		if err != nil {
			return err
		}
		if ok && prev.Op != OpDelete && prev.SHA256 == f.SHA256 && op != OpRename && op != OpRestore {
			return nil // touched, same content: not a new version
		}
		if ok && prev.Op != OpDelete && op == OpCreate {
			op = OpModify
		}
		note(f.Path)
		if err := delT.Delete(tx, pkey(project, f.Path)); err != nil {
			return err
		}
		return putVersion(tx, Version{Project: project, Path: f.Path, SnapPath: f.Path, Seq: head.Seq, ReadSeq: head.Seq, Snapshot: head.Snapshot, Time: head.Time, Size: f.Size, ModTime: f.ModTime, SHA256: f.SHA256, Op: op, From: it.p.From})
	}
	// Paths gone in this version: replaced or deleted, not stored again,
	// not renamed away to a stored path.
	gone := map[string]bool{}
	for p := range res.Replaced {
		gone[p] = true
	}
	for p, it := range ops {
		if it.p.Op == OpDelete {
			gone[p] = true
		}
	}
	if len(gone) > 0 {
		for i := range res.Files {
			delete(gone, res.Files[i].Path)
		}
		renamedTo := map[string]string{} // rename target -> source
		for _, it := range ops {
			if it.p.Op == OpRename {
				renamedTo[it.path] = it.p.From
			}
		}
		for i := range res.Files {
			if from, ok := renamedTo[res.Files[i].Path]; ok {
				delete(gone, from)
			}
		}
	}
	goneList := make([]string, 0, len(gone))
	for p := range gone {
		goneList = append(goneList, p)
	}
	sort.Strings(goneList)
	goneStep := func(tx *localdb.Tx, p string) error {
		prev, ok, err := latest(tx, p)
		if err != nil || !ok || prev.Op == OpDelete {
			return err // never recorded, or already deleted
		}
		note(p)
		// Its last content is where its newest version is read.
		d := Deleted{Project: project, Path: p, Time: head.Time, Seq: head.Seq, LastSeq: prev.ReadSeq, LastSnapshot: prev.Snapshot, Size: prev.Size, SHA256: prev.SHA256}
		v := Version{Project: project, Path: p, SnapPath: p, Seq: head.Seq, ReadSeq: head.Seq, Snapshot: head.Snapshot, Time: head.Time, Op: OpDelete}
		if err := putVersion(tx, v); err != nil {
			return err
		}
		return delT.Put(tx, pkey(project, p), d)
	}
	nf := len(res.Files)
	pathOf := func(i int) string {
		if i < nf {
			return res.Files[i].Path
		}
		return goneList[i-nf]
	}
	step := func(tx *localdb.Tx, i int) error {
		if i < nf {
			return storeStep(tx, &res.Files[i])
		}
		return goneStep(tx, goneList[i-nf])
	}
	// A first version of a large project waits on one pending change per
	// file: more than one transaction holds. The last step's transaction
	// clears the first of them; the rest follow in transactions that fit.
	// A crash in between takes those again, which records nothing new (their
	// content is that of the versions just recorded).
	first := items[:min(len(items), pendingClearBatch)]
	final := func(tx *localdb.Tx) error {
		sort.Strings(info.Changed)
		if err := snapT.Put(tx, skey(project, head.Seq), info); err != nil {
			return err
		}
		return clearPendingTx(tx, project, first)
	}
	// Steps run in batches: each batch reads its paths' newest versions,
	// then writes in one transaction; the version is recorded (final) in
	// the last one. Nothing but the batch is held per file.
	n := nf + len(goneList)
	for start := 0; ; start += indexBatch {
		end := min(start+indexBatch, n)
		var err error
		if prevs, err = h.latestVersions(project, start, end, pathOf, live); err != nil {
			return SnapInfo{}, fmt.Errorf("local history of %s: record version %d: %w", project, head.Seq, err)
		}
		err = h.o.DB.Update(func(tx *localdb.Tx) error {
			for i := start; i < end; i++ {
				if err := step(tx, i); err != nil {
					return err
				}
			}
			if end == n {
				return final(tx)
			}
			return nil
		})
		if err != nil {
			return SnapInfo{}, fmt.Errorf("local history of %s: record version %d: %w", project, head.Seq, err)
		}
		if end == n {
			break
		}
	}
	for rest := items[len(first):]; len(rest) > 0; {
		chunk := rest[:min(len(rest), pendingClearBatch)]
		if err := h.o.DB.Update(func(tx *localdb.Tx) error { return clearPendingTx(tx, project, chunk) }); err != nil {
			return SnapInfo{}, fmt.Errorf("local history of %s: version %d recorded; clear its pending changes: %w", project, head.Seq, err)
		}
		rest = rest[len(chunk):]
	}
	return info, nil
}

// pendingClearBatch is how many pending changes one transaction clears
// (Badger refuses a transaction of 100,000 deletes: "Txn is too big").
const pendingClearBatch = 1000

// indexBatch is how many files one transaction of the version index records.
const indexBatch = 1000

// latestVersions reads the newest recorded version of the paths
// pathOf(start..end-1) (but those in skip) in one read transaction.
func (h *History) latestVersions(project string, start, end int, pathOf func(int) string, skip map[string]bool) (map[string]Version, error) {
	out := make(map[string]Version)
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		for i := start; i < end; i++ {
			p := pathOf(i)
			if skip[p] {
				continue
			}
			v, ok, err := latestVersion(tx, project, p)
			if err != nil {
				return err
			}
			if ok {
				out[p] = v
			}
		}
		return nil
	})
	return out, err
}

// latestVersion is the newest recorded version of p.
func latestVersion(tx *localdb.Tx, project, p string) (Version, bool, error) {
	var out Version
	var ok bool
	err := verT.Scan(tx, project+"\x00"+p+"\x00", func(_ string, v Version) error {
		out, ok = v, true
		return nil
	})
	return out, ok, err
}

// moveVersions carries the versions of from over to to (a rename or move):
// the file's history follows it; each entry keeps its path in its snapshot.
func moveVersions(tx *localdb.Tx, project, from, to string) error {
	var vs []Version
	err := verT.Scan(tx, project+"\x00"+from+"\x00", func(_ string, v Version) error {
		vs = append(vs, v)
		return nil
	})
	if err != nil {
		return err
	}
	for _, v := range vs {
		if err := deleteVersion(tx, v); err != nil {
			return err
		}
		v.Path = to
		if err := putVersion(tx, v); err != nil {
			return err
		}
	}
	return delT.Delete(tx, pkey(project, from))
}

// CloudSnapshot is what cloud sync copies to a vault remote (one history,
// two vaults: docs/remote-layout.md): it takes a version of project from
// the changes waiting, and returns the vault holding project's history.
// ok is false when history is off or paused for project (the sync then
// chunks the files itself).
func (h *History) CloudSnapshot(ctx context.Context, project string) (v *vault.Vault, ok bool, err error) {
	s, err := h.Settings(project)
	if err != nil || s.Off || h.pausedErr(project) != nil {
		return nil, false, err
	}
	if _, err := h.FlushProject(ctx, project); err != nil {
		if errors.Is(err, ErrPaused) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return h.v, true, nil
}
