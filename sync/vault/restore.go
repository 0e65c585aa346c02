package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"atelier/sync/remote"
	"atelier/sync/target"
)

const maxRun = 32 << 20 // bytes fetched in one ranged GET

// fetchRun downloads consecutive chunks of one pack in one ranged request
// and verifies each (authentication tag and keyed content hash). A corrupt
// download is reported and fetched again; after DownloadAttempts it fails.
func (v *Vault) fetchRun(ctx context.Context, run []Ref) ([][]byte, error) {
	key := packKey(run[0].Pack)
	off := run[0].Off
	end := run[len(run)-1].Off + run[len(run)-1].Len
	var lastErr error
	for attempt := 0; attempt < v.o.DownloadAttempts; attempt++ {
		b, err := v.s.GetRange(ctx, key, off, end-off)
		if err != nil {
			if errors.Is(err, remote.ErrNotFound) {
				return nil, fmt.Errorf("pack %s is missing from %s: the vault lost data; repair it with `atelier sync verify PROJECT --repair` on a device that has the files (it lists what is affected)", key, v.s)
			}
			return nil, err
		}
		out := make([][]byte, 0, len(run))
		lastErr = nil
		if int64(len(b)) != end-off {
			lastErr = fmt.Errorf("pack %s: got %d of %d bytes: %w", key, len(b), end-off, ErrCorrupt)
		} else {
			for _, r := range run {
				sealed := b[r.Off-off : r.Off-off+r.Len]
				plain, err := v.k.open(sealed, r.ID[:])
				if err == nil && v.k.chunkID(plain) != r.ID {
					err = ErrCorrupt
				}
				if err != nil {
					lastErr = fmt.Errorf("chunk %s in pack %s: %w", r.ID, key, err)
					break
				}
				out = append(out, plain)
			}
		}
		if lastErr == nil {
			return out, nil
		}
		v.corrupt(key, lastErr)
	}
	return nil, fmt.Errorf("%w (fetched %d times and never intact; nothing was written). Run `atelier sync verify PROJECT --repair` on a device that has the file", lastErr, v.o.DownloadAttempts)
}

func runs(refs []Ref) [][]Ref {
	var out [][]Ref
	for i := 0; i < len(refs); {
		j := i + 1
		size := refs[i].Len
		for j < len(refs) && refs[j].Pack == refs[i].Pack && refs[j].Off == refs[j-1].Off+refs[j-1].Len && size+refs[j].Len <= maxRun {
			size += refs[j].Len
			j++
		}
		out = append(out, refs[i:j])
		i = j
	}
	return out
}

// fetchFile writes f as name into d: into a temporary file beside it,
// verified chunk by chunk and as a whole against its SHA-256, synced, then
// renamed into place (see target.Dir.Write). A failed download leaves name
// untouched.
func (v *Vault) fetchFile(ctx context.Context, f File, d *target.Dir, name string) error {
	return d.Write(name, f.Mode.Perm(), f.ModTime, func(w io.Writer) error {
		h := sha256.New()
		w = io.MultiWriter(w, h)
		for _, run := range runs(f.Chunks) {
			if err := v.o.Gate.Wait(ctx); err != nil {
				return err
			}
			parts, err := v.fetchRun(ctx, run)
			if err != nil {
				return fmt.Errorf("download %s: %w", f.Path, err)
			}
			for _, p := range parts {
				if _, err := w.Write(p); err != nil {
					return fmt.Errorf("write %s: %w", filepath.Join(d.Path(), filepath.FromSlash(name)), err)
				}
			}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
			return fmt.Errorf("download %s: content hash %s does not match the snapshot's %s: %w; nothing was written", f.Path, got, f.SHA256, ErrCorrupt)
		}
		return nil
	})
}

// fetchFiles downloads files into d in parallel, each under names[path]
// (nil: its own path).
func (v *Vault) fetchFiles(ctx context.Context, d *target.Dir, files []File, names map[string]string, tr *tracker) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan File)
	var wg sync.WaitGroup
	for i := 0; i < v.o.Uploads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range ch {
				if ctx.Err() != nil {
					continue
				}
				tr.setFile(f.Path)
				name := f.Path
				if n, ok := names[f.Path]; ok {
					name = n
				}
				if err := v.fetchFile(ctx, f, d, name); err != nil {
					cancel(err)
					continue
				}
				tr.filesDone.Add(1)
				tr.bytesDone.Add(f.Size)
			}
		}()
	}
	for _, f := range files {
		select {
		case ch <- f:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	return context.Cause(ctx)
}

// Skip is a file of a snapshot that was not written, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// RestoreResult is what a restore wrote.
type RestoreResult struct {
	Snapshot string `json:"snapshot"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	Skipped  int    `json:"skipped"` // already there with the right content: left alone
	// Kept are the files the restore replaced (overwrite) and where their
	// previous content is now.
	Kept []target.Kept `json:"kept"`
	// Renamed were written under a safe name: this platform cannot hold
	// their own.
	Renamed []target.Renamed `json:"renamed"`
	// Refused were not written: their path in the snapshot is not a
	// plain relative path.
	Refused []Skip `json:"refused"`
}

// RestoreOptions say how to restore.
type RestoreOptions struct {
	// Overwrite allows a non-empty folder: every file replaced whose
	// content differs is first kept as "name (before restore DATE).ext".
	// Without it a non-empty folder is refused (target.ErrNotEmpty).
	Overwrite bool
	Progress  func(Progress)
}

// Restore writes every file of snap into dir, which must be empty or new.
func (v *Vault) Restore(ctx context.Context, snap *Snapshot, dir string, progress func(Progress)) (RestoreResult, error) {
	return v.RestoreWith(ctx, snap, dir, RestoreOptions{Progress: progress})
}

// RestoreWith writes every file of snap into dir. Every write stays inside
// dir and never follows a link; a non-empty dir needs o.Overwrite, and then
// nothing is lost: files with the right content are left alone (so an
// interrupted restore resumes), others are kept beside the restored ones.
func (v *Vault) RestoreWith(ctx context.Context, snap *Snapshot, dir string, o RestoreOptions) (RestoreResult, error) {
	res := RestoreResult{Snapshot: snap.ID, Kept: []target.Kept{}, Renamed: []target.Renamed{}, Refused: []Skip{}}
	d, err := target.Open(dir, target.Options{Overwrite: o.Overwrite, GOOS: v.o.GOOS})
	if err != nil {
		return res, err
	}
	defer d.Close()
	tr := newTracker(o.Progress, v.o.Gate)
	defer tr.stop()
	tr.setPhase("download")
	var paths []string
	var files []File
	for _, f := range snap.Files {
		if err := safePath(f.Path); err != nil {
			res.Refused = append(res.Refused, Skip{Path: f.Path, Reason: err.Error() + ": not written (it would land outside the folder)"})
			v.log.Warn("restore: unsafe path in snapshot not written", "path", f.Path, "snapshot", snap.ID)
			continue
		}
		paths = append(paths, f.Path)
		files = append(files, f)
	}
	names, renamed := target.Names(paths, v.o.GOOS)
	res.Renamed = append(res.Renamed, renamed...)
	var todo []File
	for _, f := range files {
		if d.Same(names[f.Path], f.Size, f.SHA256) {
			res.Skipped++
			continue
		}
		todo = append(todo, f)
		tr.bytesTotal.Add(f.Size)
		res.Bytes += f.Size
	}
	tr.filesTotal.Store(int64(len(todo)))
	err = v.fetchFiles(ctx, d, todo, names, tr)
	res.Kept = append(res.Kept, d.Kept()...)
	if err != nil {
		return res, err
	}
	res.Files = len(todo)
	tr.setPhase("done")
	return res, nil
}

// Problem is one thing Verify found wrong.
type Problem struct {
	Object string   `json:"object"`
	Files  []string `json:"files"` // "project/path" of affected files
	Err    string   `json:"error"`
}

// VerifyResult summarizes a verification.
type VerifyResult struct {
	Snapshots int       `json:"snapshots"`
	Packs     int       `json:"packs"`
	Chunks    int       `json:"chunks"`
	Bytes     int64     `json:"bytes"`
	Problems  []Problem `json:"problems"`
}

// Verify downloads and checks every chunk the newest snapshot of each of
// projects references (all projects when none given). Bad chunks are
// dropped from the local chunk index and marked lost (see repair.go), so
// the next sync of an affected project uploads them again from the files
// here and never points a new snapshot at them.
func (v *Vault) Verify(ctx context.Context, projects []string, progress func(Progress)) (VerifyResult, error) {
	res := VerifyResult{Problems: []Problem{}}
	hs, err := v.AllHeads(ctx)
	if err != nil {
		return res, err
	}
	latest := map[string]Head{}
	for _, h := range hs {
		if h.Pruned {
			continue
		}
		if len(projects) > 0 && !contains(projects, h.Project) {
			continue
		}
		if h.Seq >= latest[h.Project].Seq {
			latest[h.Project] = h
		}
	}
	users := map[ID][]string{}
	owners := map[ID][]string{} // projects whose newest snapshot references the chunk
	byPack := map[string][]Ref{}
	seen := map[ID]bool{}
	for _, h := range latest {
		s, err := v.LoadSnapshot(ctx, h.Snapshot)
		if err != nil {
			res.Problems = append(res.Problems, Problem{Object: snapshotKey(h.Snapshot), Err: err.Error()})
			continue
		}
		res.Snapshots++
		for _, f := range s.Files {
			for _, r := range f.Chunks {
				users[r.ID] = append(users[r.ID], h.Project+"/"+f.Path)
				if o := owners[r.ID]; len(o) == 0 || o[len(o)-1] != h.Project {
					owners[r.ID] = append(o, h.Project)
				}
				if !seen[r.ID] {
					seen[r.ID] = true
					byPack[r.Pack] = append(byPack[r.Pack], r)
				}
			}
		}
	}
	tr := newTracker(progress, v.o.Gate)
	defer tr.stop()
	tr.setPhase("verify")
	for _, rs := range byPack {
		for _, r := range rs {
			tr.bytesTotal.Add(r.Size())
		}
	}
	packs := make([]string, 0, len(byPack))
	for p := range byPack {
		packs = append(packs, p)
	}
	sort.Strings(packs)
	bad := map[ID][]string{}
	var badPacks []string
	for _, p := range packs {
		rs := byPack[p]
		sort.Slice(rs, func(i, j int) bool { return rs[i].Off < rs[j].Off })
		res.Packs++
		for _, run := range runs(rs) {
			if _, err := v.fetchRun(ctx, run); err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				var files []string
				for _, r := range run {
					files = append(files, users[r.ID]...)
					bad[r.ID] = owners[r.ID]
				}
				if len(badPacks) == 0 || badPacks[len(badPacks)-1] != p {
					badPacks = append(badPacks, p)
				}
				res.Problems = append(res.Problems, Problem{Object: packKey(p), Files: dedupStrings(files), Err: err.Error()})
			}
			for _, r := range run {
				res.Chunks++
				res.Bytes += r.Size()
				tr.bytesDone.Add(r.Size())
			}
		}
	}
	if len(bad) > 0 {
		if err := v.markLost(ctx, bad, badPacks); err != nil {
			return res, fmt.Errorf("record the lost data in the local sync state: %w", err)
		}
	}
	tr.setPhase("done")
	return res, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func dedupStrings(l []string) []string {
	sort.Strings(l)
	out := l[:0]
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Retention says which snapshots prune keeps: the newest KeepLast, one per
// day for KeepDaily days, and everything younger than KeepWithin. The
// newest snapshot of each project is always kept.
type Retention struct {
	KeepLast   int           `json:"keepLast"`
	KeepDaily  int           `json:"keepDaily"`
	KeepWithin time.Duration `json:"keepWithin"`
}

// DefaultRetention keeps 10 versions, 30 daily ones and a week of history.
var DefaultRetention = Retention{KeepLast: 10, KeepDaily: 30, KeepWithin: 7 * 24 * time.Hour}

// PruneResult is what prune removed.
type PruneResult struct {
	SnapshotsKept    int   `json:"snapshotsKept"`
	SnapshotsRemoved int   `json:"snapshotsRemoved"`
	PacksRemoved     int   `json:"packsRemoved"`
	BytesFreed       int64 `json:"bytesFreed"`
	// PacksRepacked were mostly unused: their live chunks (BytesRepacked)
	// went into new packs; the old ones are deleted by a prune after the
	// grace period (a dry run counts what that will free in BytesFreed).
	PacksRepacked int   `json:"packsRepacked"`
	BytesRepacked int64 `json:"bytesRepacked"`
	// TreesRemoved are directory trees and chunk lists no kept snapshot
	// uses any more.
	TreesRemoved int  `json:"treesRemoved"`
	DryRun       bool `json:"dryRun"`
}

// Prune applies r to every project's history, then deletes packs no kept
// snapshot references that are older than grace (younger ones may belong
// to a push under way on another device). Packs mostly unused are repacked:
// their live chunks move to new packs, and the old packs are deleted by a
// later prune once the grace period since their retirement has passed.
func (v *Vault) Prune(ctx context.Context, r Retention, grace time.Duration, dryRun bool) (PruneResult, error) {
	hs, err := v.AllHeads(ctx)
	if err != nil {
		return PruneResult{DryRun: dryRun}, err
	}
	return v.prune(ctx, hs, r.drop(hs, time.Now()), grace, dryRun)
}

// PruneSnapshots removes the snapshots whose IDs are in drop (the newest
// snapshot of a project is always kept), then collects packs and trees as
// Prune does. Local history decides its own retention and prunes with it.
func (v *Vault) PruneSnapshots(ctx context.Context, drop map[string]bool, grace time.Duration, dryRun bool) (PruneResult, error) {
	hs, err := v.AllHeads(ctx)
	if err != nil {
		return PruneResult{DryRun: dryRun}, err
	}
	return v.prune(ctx, hs, drop, grace, dryRun)
}

// drop lists the snapshots r does not keep.
func (r Retention) drop(hs []Head, now time.Time) map[string]bool {
	byProject := map[string][]Head{}
	for _, h := range hs {
		byProject[h.Project] = append(byProject[h.Project], h)
	}
	drop := map[string]bool{}
	for _, list := range byProject {
		sort.Slice(list, func(i, j int) bool { return list[i].Seq > list[j].Seq })
		days := map[string]bool{}
		n := 0
		for i, h := range list {
			if h.Pruned {
				continue
			}
			n++
			day := h.Time.UTC().Format("2006-01-02")
			k := i == 0 || n <= r.KeepLast || (r.KeepWithin > 0 && now.Sub(h.Time) < r.KeepWithin)
			if !k && r.KeepDaily > 0 && !days[day] && len(days) < r.KeepDaily {
				k = true
			}
			if k {
				days[day] = true
				continue
			}
			drop[h.Snapshot] = true
		}
	}
	return drop
}

func (v *Vault) prune(ctx context.Context, hs []Head, drop map[string]bool, grace time.Duration, dryRun bool) (PruneResult, error) {
	res := PruneResult{DryRun: dryRun}
	byProject := map[string][]Head{}
	for _, h := range hs {
		byProject[h.Project] = append(byProject[h.Project], h)
	}
	now := time.Now()
	var keep []Head
	for _, list := range byProject {
		sort.Slice(list, func(i, j int) bool { return list[i].Seq > list[j].Seq })
		newest := true
		for _, h := range list {
			if h.Pruned {
				continue
			}
			if newest || !drop[h.Snapshot] {
				newest = false
				keep = append(keep, h)
				continue
			}
			res.SnapshotsRemoved++
			if dryRun {
				continue
			}
			h.Pruned = true
			hk := v.headKey(h.Project, h.Seq)
			hb, err := v.sealJSON(hk, h)
			if err != nil {
				return res, err
			}
			if err := v.s.Put(ctx, hk, hb, remote.PutOptions{}); err != nil {
				return res, err
			}
			if err := v.s.Delete(ctx, snapshotKey(h.Snapshot)); err != nil {
				return res, err
			}
			v.mu.Lock()
			delete(v.snaps, h.Snapshot)
			v.mu.Unlock()
		}
	}
	res.SnapshotsKept = len(keep)
	// Kept snapshots are read as headers; their trees are walked once each
	// (snapshots share most of them), so pruning 1,000 snapshots of a
	// large project reads each directory version once.
	var kept []*Snapshot
	for _, h := range keep {
		s, err := v.loadHeader(ctx, h.Snapshot)
		if err != nil {
			return res, fmt.Errorf("prune stopped, nothing more deleted: %w", err)
		}
		kept = append(kept, s)
	}
	use, liveTrees, err := v.usage(ctx, kept)
	if err != nil {
		return res, fmt.Errorf("prune stopped, nothing more deleted: %w", err)
	}
	// Snapshots no head names: left by a push that died before committing.
	named := map[string]bool{}
	for _, h := range hs {
		named[h.Snapshot] = true
	}
	var orphans []string
	var temps []string
	err = v.s.List(ctx, "snapshots/", func(i remote.Info) error {
		if isTemp(i.Key) {
			if i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace {
				temps = append(temps, i.Key)
			}
			return nil
		}
		if !named[strings.TrimPrefix(i.Key, "snapshots/")] && (i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace) {
			orphans = append(orphans, i.Key)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if err := v.deleteKeys(ctx, orphans, dryRun); err != nil {
		return res, err
	}
	// Trees no kept snapshot reaches, older than grace (younger ones may
	// belong to a commit under way).
	var deadTrees []string
	for _, prefix := range []string{"trees/", "lists/"} {
		err = v.s.List(ctx, prefix, func(i remote.Info) error {
			if isTemp(i.Key) {
				if i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace {
					temps = append(temps, i.Key)
				}
				return nil
			}
			if !liveTrees[path.Base(i.Key)] && (i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace) {
				deadTrees = append(deadTrees, i.Key)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	res.TreesRemoved = len(deadTrees)
	retired, err := v.loadRetired(ctx)
	if err != nil {
		return res, err
	}
	old := func(i remote.Info) bool {
		if t, ok := retired[filepath.Base(i.Key)]; ok {
			return now.Sub(t) >= grace
		}
		return i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace
	}
	var dead []remote.Info
	var sparse []string
	var sparseBytes int64
	err = v.s.List(ctx, "data/", func(i remote.Info) error {
		if isTemp(i.Key) {
			if i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace {
				temps = append(temps, i.Key)
			}
			return nil
		}
		id := filepath.Base(i.Key)
		u := use[id]
		switch {
		case u == nil && old(i):
			dead = append(dead, i)
		case u != nil && sparsePack(u.bytes, i.Size, v.cfg.PackSize) && old(i):
			sparse = append(sparse, id)
			sparseBytes += i.Size - u.bytes
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if !dryRun && (len(dead) > 0 || len(deadTrees) > 0) {
		// Before anything is deleted: tell every device (a new epoch) and
		// forget here the chunks, trees and lists about to go, so no
		// later snapshot of this device refers to them even if this prune
		// is interrupted. The rest of this device's index stays valid.
		epoch := []byte(randHex(16))
		if err := v.s.Put(ctx, "epoch", epoch, remote.PutOptions{ContentType: "text/plain"}); err != nil {
			return res, err
		}
		packs := map[string]bool{}
		for _, d := range dead {
			packs[filepath.Base(d.Key)] = true
		}
		if err := v.forget(packs, deadTrees, string(epoch)); err != nil {
			return res, err
		}
	}
	if err := v.deleteKeys(ctx, deadTrees, dryRun); err != nil {
		return res, err
	}
	for _, d := range dead {
		res.PacksRemoved++
		res.BytesFreed += d.Size
		if dryRun {
			continue
		}
		if err := v.s.Delete(ctx, d.Key); err != nil {
			return res, err
		}
		delete(retired, filepath.Base(d.Key))
	}
	for id := range retired {
		if use[id] != nil {
			// Referenced again (a device committed from a snapshot it
			// loaded before the repack): no longer retired.
			delete(retired, id)
		}
	}
	if dryRun {
		res.PacksRepacked = len(sparse)
		res.BytesFreed += sparseBytes
		return res, nil
	}
	// Half-written objects of killed writers (heads included).
	v.s.List(ctx, "heads/", func(i remote.Info) error {
		if isTemp(i.Key) && (i.ModTime.IsZero() || now.Sub(i.ModTime) >= grace) {
			temps = append(temps, i.Key)
		}
		return nil
	})
	for _, k := range temps {
		if err := v.s.Delete(ctx, k); err != nil {
			return res, err
		}
	}
	if err := v.repack(ctx, kept, sparse, use, retired, &res); err != nil {
		return res, err
	}
	if len(sparse) == 0 && res.PacksRemoved > 0 {
		if err := v.storeRetired(ctx, retired); err != nil {
			return res, err
		}
	}
	if res.PacksRepacked > 0 {
		// Tell every device its cached snapshots may point at retired
		// packs (the repack recorded the chunks' new places here).
		epoch := []byte(randHex(16))
		if err := v.s.Put(ctx, "epoch", epoch, remote.PutOptions{ContentType: "text/plain"}); err != nil {
			return res, err
		}
		if err := v.forget(nil, nil, string(epoch)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// forget drops from the local state the chunks stored in packs and the
// trees and lists under keys (object keys), clears the caches, and records
// epoch as seen: the pruning device keeps the rest of its chunk index.
func (v *Vault) forget(packs map[string]bool, keys []string, epoch string) error {
	v.mu.Lock()
	clear(v.snaps)
	v.mu.Unlock()
	v.trees.clear()
	var dels []string
	if len(packs) > 0 {
		err := v.st.Scan("chunk/", func(k string, b []byte) error {
			var r Ref
			if json.Unmarshal(b, &r) != nil || packs[r.Pack] {
				dels = append(dels, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "trees/"):
			dels = append(dels, "tree/"+path.Base(k))
		case strings.HasPrefix(k, "lists/"):
			dels = append(dels, "list/"+path.Base(k))
		}
	}
	for len(dels) > 0 {
		n := min(len(dels), 5000)
		if err := v.st.Apply(nil, dels[:n]); err != nil {
			return err
		}
		dels = dels[n:]
	}
	return v.st.Apply(map[string][]byte{"epoch": []byte(epoch)}, nil)
}

// checkEpoch drops the local chunk index and cached snapshots after a
// device pruned or repacked; reset says it did.
func (v *Vault) checkEpoch(ctx context.Context) (reset bool, err error) {
	b, err := v.s.Get(ctx, "epoch")
	if errors.Is(err, remote.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	seen, _, err := v.st.Get("epoch")
	if err != nil {
		return false, err
	}
	if bytes.Equal(seen, b) {
		return false, nil
	}
	v.log.Info("the vault was pruned since the last sync: forgetting the local chunk index", "remote", v.s.String())
	return true, v.resetChunks(string(b))
}

func (v *Vault) resetChunks(epoch string) error {
	v.mu.Lock()
	clear(v.snaps)
	v.mu.Unlock()
	v.trees.clear()
	var dels []string
	for _, p := range []string{"chunk/", "tree/", "list/"} {
		if err := v.st.Scan(p, func(k string, _ []byte) error { dels = append(dels, k); return nil }); err != nil {
			return err
		}
	}
	for len(dels) > 0 {
		n := min(len(dels), 5000)
		if err := v.st.Apply(nil, dels[:n]); err != nil {
			return err
		}
		dels = dels[n:]
	}
	return v.st.Apply(map[string][]byte{"epoch": []byte(epoch)}, nil)
}

var _ = fs.ModePerm

// deleteKeys deletes keys from the remote (nothing on a dry run), stopping
// at the first error.
func (v *Vault) deleteKeys(ctx context.Context, keys []string, dryRun bool) error {
	if dryRun {
		return nil
	}
	for _, k := range keys {
		if err := v.s.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
