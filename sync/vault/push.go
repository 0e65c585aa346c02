package vault

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jotfs/fastcdc-go"

	"atelier/sync/remote"
	"atelier/sync/target"
)

// LocalFile is a file of the project as the local index sees it.
type LocalFile struct {
	Path    string      `json:"path"` // slash-separated, relative to Root
	Size    int64       `json:"size"`
	ModTime time.Time   `json:"mtime"`
	Mode    fs.FileMode `json:"mode"`
	SHA256  [32]byte    `json:"-"` // zero: not hashed yet
}

// Job is one sync of one project.
type Job struct {
	Project string
	Root    string
	// Files are the selected files of the project now (from the index).
	Files []LocalFile
	// Selected reports whether a path the vault knows but Files lacks is
	// selected on this device (then it was deleted here, or is new from
	// another device); unselected paths are carried through untouched.
	// nil: everything is selected.
	Selected func(path string, size int64) bool
	Progress func(Progress)
}

// Progress reports a sync. Deduplicated bytes are not counted as work: the
// ETA is the time to read what changed plus to send what turned out new.
type Progress struct {
	Phase        string  `json:"phase"` // plan, download, upload, commit, done
	FilesTotal   int     `json:"filesTotal"`
	FilesDone    int     `json:"filesDone"`
	BytesTotal   int64   `json:"bytesTotal"` // bytes of changed files to read
	BytesDone    int64   `json:"bytesDone"`
	BytesNew     int64   `json:"bytesNew"` // of those, bytes not in the vault yet
	BytesSent    int64   `json:"bytesSent"`
	BytesDeduped int64   `json:"bytesDeduped"`
	ETASeconds   float64 `json:"etaSeconds"` // -1: not known yet
	File         string  `json:"file,omitempty"`
	Paused       bool    `json:"paused,omitempty"`
}

// Conflict is a file both sides changed: the other side's version was kept
// beside ours under Copy.
type Conflict struct {
	Project string    `json:"project"`
	Path    string    `json:"path"`
	Copy    string    `json:"copy"`
	Device  string    `json:"device"`
	Time    time.Time `json:"time"`
}

// Result is what a sync did.
type Result struct {
	Project      string     `json:"project"`
	Snapshot     string     `json:"snapshot"`
	Seq          int64      `json:"seq"`
	NoChange     bool       `json:"noChange"`
	Uploaded     []string   `json:"uploaded"`
	Pulled       []string   `json:"pulled"`
	DeletedHere  []string   `json:"deletedHere"`
	Conflicts    []Conflict `json:"conflicts"`
	BytesSent    int64      `json:"bytesSent"`
	BytesNew     int64      `json:"bytesNew"`
	BytesDeduped int64      `json:"bytesDeduped"`
	// Repaired are files whose data Verify found lost and this run
	// uploaded again; Damaged are those whose version in the vault is
	// still lost (or was replaced by a different copy from here), and why.
	Repaired []string  `json:"repaired,omitempty"`
	Damaged  []Damaged `json:"damaged,omitempty"`
	// Skipped are files of the vault this run did not write here, and why
	// (a name this platform cannot hold; a damaged snapshot's path).
	Skipped []Skip `json:"skipped"`
}

var errRace = errors.New("another device committed first")

// cdcMu guards fastcdc-go's package-level gear table, which NewChunker
// rewrites on every call.
var cdcMu sync.RWMutex

// Sync brings project and the vault together: changes made here are
// uploaded, changes made on other devices are applied here, files changed on
// both sides since the last common snapshot keep the other side's version as
// a conflict copy, and a new snapshot is committed when anything changed.
// It never lists the remote: the index is compared with the last snapshot.
func (v *Vault) Sync(ctx context.Context, job Job) (Result, error) {
	for attempt := 0; ; attempt++ {
		res, err := v.syncOnce(ctx, job)
		if errors.Is(err, errRace) && attempt < 8 {
			v.log.Info("another device committed meanwhile; merging again", "project", job.Project)
			continue
		}
		return res, err
	}
}

type plan struct {
	out       map[string]File
	upload    []LocalFile // paths to chunk and send
	download  []File      // remote versions to write here (Path is where)
	deleteLoc []string
	conflicts []Conflict
	heal      map[string]bool       // uploads that re-send lost data
	local     map[string]*LocalFile // this device's files, by path
	skipped   []Skip
}

func (v *Vault) syncOnce(ctx context.Context, job Job) (Result, error) {
	res := Result{Project: job.Project, Uploaded: []string{}, Pulled: []string{}, DeletedHere: []string{}, Conflicts: []Conflict{}, Skipped: []Skip{}}
	lh, have, err := v.localHead(job.Project)
	if err != nil {
		return res, err
	}
	rh, rhave, err := v.latestHead(ctx, job.Project, lh, have)
	if err != nil {
		return res, err
	}
	// Lost chunks (found by Verify) turn the no-change shortcuts off: the
	// files that reference them are to be sent again.
	lost, err := v.lostChunks(job.Project)
	if err != nil {
		return res, err
	}
	if len(lost) == 0 && have && rhave && rh.Snapshot == lh.Snapshot && lh.Digest != "" && lh.Digest == localDigest(job.Files) {
		// The common case of a sync with nothing to do, decided without
		// loading the snapshot: nobody else committed since (one probe of
		// the next head) and every selected file matches the last one.
		res.NoChange, res.Snapshot, res.Seq = true, lh.Snapshot, lh.Seq
		return res, nil
	}
	// base is the last snapshot this device had in common with the vault.
	// When prune removed it, the merge runs without common history: every
	// difference is kept on both sides (deletions made elsewhere come back,
	// differing contents become conflict copies); nothing is lost.
	loadBase := func() (*Snapshot, error) {
		if !have {
			return nil, nil
		}
		b, err := v.LoadSnapshot(ctx, lh.Snapshot)
		if errors.Is(err, remote.ErrNotFound) {
			v.log.Warn("the last common snapshot was pruned: merging without it", "project", job.Project, "snapshot", lh.Snapshot)
			return nil, nil
		}
		return b, err
	}
	base, err := loadBase()
	if err != nil {
		return res, err
	}
	if len(lost) == 0 && base != nil && rhave && rh.Snapshot == lh.Snapshot && unchanged(job.Files, base) {
		// Nothing to do, found the slow way (state from before digests):
		// keep the digest so the next check is the fast one.
		if lh.Digest == "" {
			lh.Digest = base.digest()
			if err := v.setLocalHead(job.Project, lh); err != nil {
				return res, err
			}
		}
		res.NoChange, res.Snapshot, res.Seq = true, lh.Snapshot, lh.Seq
		return res, nil
	}
	// Before deduplicating against the local chunk index or carrying chunk
	// references over from the base: was the vault pruned or repacked?
	if reset, err := v.checkEpoch(ctx); err != nil {
		return res, err
	} else if reset {
		if base, err = loadBase(); err != nil {
			return res, err
		}
	}
	remoteSnap := base
	if rhave && (base == nil || rh.Snapshot != lh.Snapshot) {
		if remoteSnap, err = v.LoadSnapshot(ctx, rh.Snapshot); err != nil {
			return res, err
		}
	}
	p, err := v.merge(job, base, remoteSnap, rh, lost)
	if err != nil {
		return res, err
	}
	tr := newTracker(job.Progress, v.o.Gate)
	defer tr.stop()
	for _, f := range p.upload {
		tr.bytesTotal.Add(f.Size)
	}
	tr.filesTotal.Store(int64(len(p.upload) + len(p.download)))
	// Other devices' changes first: a failed download must not leave a
	// snapshot behind that claims this device has the file.
	res.Skipped = append(res.Skipped, p.skipped...)
	if len(p.download) > 0 || len(p.deleteLoc) > 0 {
		// Writes into the project stay inside it and never follow a link.
		dir, err := target.Open(job.Root, target.Options{Replace: true, GOOS: v.o.GOOS})
		if err != nil {
			return res, err
		}
		defer dir.Close()
		if len(p.download) > 0 {
			tr.setPhase("download")
			if err := v.fetchFiles(ctx, dir, p.download, nil, tr); err != nil {
				return res, err
			}
			for _, f := range p.download {
				res.Pulled = append(res.Pulled, f.Path)
			}
		}
		for _, d := range p.deleteLoc {
			if err := dir.Remove(d); err != nil {
				return res, fmt.Errorf("apply the deletion of %s from another device: %w", d, err)
			}
			res.DeletedHere = append(res.DeletedHere, d)
		}
	}
	if len(p.upload) > 0 {
		tr.setPhase("upload")
		files, err := v.upload(ctx, job.Root, p.upload, tr)
		if err != nil {
			return res, err
		}
		for _, f := range files {
			p.out[f.Path] = f
			res.Uploaded = append(res.Uploaded, f.Path)
		}
	}
	res.Conflicts = p.conflicts
	res.BytesSent, res.BytesNew, res.BytesDeduped = tr.bytesSent.Load(), tr.bytesNew.Load(), tr.bytesDeduped.Load()
	refsChanged := false
	var still map[ID]bool
	if len(lost) > 0 {
		if res.Repaired, res.Damaged, still, refsChanged, err = v.heal(p, remoteSnap, lost); err != nil {
			return res, err
		}
		for _, d := range res.Damaged {
			v.log.Warn("data lost from the vault and not repaired", "project", job.Project, "path", d.Path, "why", d.Reason)
		}
	}

	if remoteSnap != nil && !refsChanged && sameFiles(p.out, remoteSnap) {
		// Nothing of ours to add: the remote head is the common state now.
		res.NoChange = len(res.Pulled) == 0 && len(res.DeletedHere) == 0
		res.Snapshot, res.Seq = rh.Snapshot, rh.Seq
		if !have || lh.Snapshot != rh.Snapshot || lh.Digest == "" {
			if rh.Digest == "" {
				rh.Digest = remoteSnap.digest()
			}
			if err := v.setLocalHead(job.Project, rh); err != nil {
				return res, err
			}
		}
		if err := v.keepLost(job.Project, lost, still); err != nil {
			return res, err
		}
		tr.setPhase("done")
		return res, nil
	}
	if remoteSnap == nil && len(p.out) == 0 {
		res.NoChange = true
		tr.setPhase("done")
		return res, nil
	}
	tr.setPhase("commit")
	snap := &Snapshot{ID: randHex(16), Project: job.Project, Device: v.o.Device, Time: time.Now().UTC()}
	if rhave {
		snap.Seq, snap.Parent = rh.Seq+1, rh.Snapshot
	} else {
		snap.Seq = 1
	}
	var bytes int64
	for _, f := range p.out {
		snap.Files = append(snap.Files, f)
		bytes += f.Size
	}
	sort.Slice(snap.Files, func(i, j int) bool { return snap.Files[i].Path < snap.Files[j].Path })
	tw := v.newTreeWriter(ctx)
	if _, err := v.storeSnapshot(ctx, snap, tw); err != nil {
		return res, err
	}
	if err := tw.commit(); err != nil {
		return res, err
	}
	head := Head{Project: job.Project, Seq: snap.Seq, Snapshot: snap.ID, Parent: snap.Parent, Device: v.o.Device, Time: snap.Time, Files: len(snap.Files), Bytes: bytes, Digest: snap.digest()}
	if _, err := v.putHead(ctx, head); err != nil {
		return res, err
	}
	v.cache(snap)
	if err := v.setLocalHead(job.Project, head); err != nil {
		return res, err
	}
	if err := v.keepLost(job.Project, lost, still); err != nil {
		return res, err
	}
	res.Snapshot, res.Seq = snap.ID, snap.Seq
	tr.setPhase("done")
	v.log.Info("snapshot committed", "project", job.Project, "snapshot", snap.ID, "seq", snap.Seq, "files", len(snap.Files), "sent", res.BytesSent, "deduped", res.BytesDeduped)
	return res, nil
}

// unchanged reports whether files are exactly the snapshot's files.
func unchanged(files []LocalFile, s *Snapshot) bool {
	if len(files) != len(s.Files) {
		return false
	}
	m := s.sums()
	for i := range files {
		e, ok := m[files[i].Path]
		if !ok || e.size != files[i].Size || e.sum != files[i].SHA256 {
			return false
		}
	}
	return true
}

// putHead seals head and stores it under its sequence number unless that
// key exists. An existing head for the same snapshot is ours (a retry after
// a lost response) and counts as success; another device's head means it
// committed first: the snapshot just stored is deleted and errRace returned.
// It returns the sealed head's size.
func (v *Vault) putHead(ctx context.Context, head Head) (int, error) {
	hk := v.headKey(head.Project, head.Seq)
	hb, err := v.sealJSON(hk, head)
	if err != nil {
		return 0, err
	}
	if err := v.s.Put(ctx, hk, hb, remote.PutOptions{IfNotExist: true}); err != nil {
		if !errors.Is(err, remote.ErrExists) {
			return 0, fmt.Errorf("commit snapshot of %s: %w", head.Project, err)
		}
		other, gerr := v.getHead(ctx, hk)
		if gerr != nil {
			return 0, gerr
		}
		if other.Snapshot != head.Snapshot {
			v.s.Delete(ctx, snapshotKey(head.Snapshot))
			return 0, errRace
		}
	}
	return len(hb), nil
}

func (v *Vault) setLocalHead(project string, h Head) error {
	b, _ := json.Marshal(h)
	return v.st.Apply(map[string][]byte{"head/" + project: b}, nil)
}

func sameFiles(out map[string]File, s *Snapshot) bool {
	if len(out) != len(s.Files) {
		return false
	}
	for _, f := range s.Files {
		o, ok := out[f.Path]
		if !ok || o.SHA256 != f.SHA256 || o.Size != f.Size {
			return false
		}
	}
	return true
}

func hexSum(s [32]byte) string {
	if s == ([32]byte{}) {
		return ""
	}
	return hex.EncodeToString(s[:])
}

// merge is the three-way comparison of this device (job.Files), the last
// common snapshot (base) and the vault's newest snapshot (rem).
//
// A file whose carried-over version references a lost chunk is uploaded
// again when this device has it (same content): see repair.go.
func (v *Vault) merge(job Job, base, rem *Snapshot, rh Head, lost map[ID]bool) (*plan, error) {
	p := &plan{out: map[string]File{}, heal: map[string]bool{}}
	local := make(map[string]*LocalFile, len(job.Files))
	for i := range job.Files {
		local[job.Files[i].Path] = &job.Files[i]
	}
	p.local = local
	var bm, rm map[string]*File
	if base != nil {
		bm = base.byPath()
	}
	if rem != nil {
		rm = rem.byPath()
	}
	paths := make(map[string]struct{}, len(local)+len(rm))
	for k := range local {
		paths[k] = struct{}{}
	}
	for k := range bm {
		paths[k] = struct{}{}
	}
	for k := range rm {
		paths[k] = struct{}{}
	}
	sorted := make([]string, 0, len(paths))
	for k := range paths {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	taken := func(name string) bool {
		_, a := paths[name]
		_, b := p.out[name]
		return a || b
	}
	for _, path := range sorted {
		L, B, R := local[path], bm[path], rm[path]
		if err := safePath(path); err != nil {
			// Only a damaged or hostile snapshot holds such a path: it is
			// carried through untouched, never written here, and reported.
			v.log.Warn("unsafe path in snapshot not written here", "path", path, "err", err)
			if R != nil {
				p.out[path] = *R
			}
			p.skipped = append(p.skipped, Skip{Path: path, Reason: err.Error() + ": kept in the vault, never written on this device"})
			continue
		}
		if n, why := target.LocalName(path, v.o.GOOS); n != path && L == nil {
			// Made on a platform whose names this one cannot hold (a
			// backslash from Linux on Windows): kept in the vault as it
			// is, not written here, and reported.
			if R != nil {
				p.out[path] = *R
			}
			p.skipped = append(p.skipped, Skip{Path: path, Reason: why + ": kept in the vault, not written on this device; `atelier sync restore` writes it under a safe name"})
			continue
		}
		managed := L != nil
		if !managed && job.Selected != nil {
			var size int64
			if R != nil {
				size = R.Size
			} else if B != nil {
				size = B.Size
			}
			managed = job.Selected(path, size)
		} else if !managed {
			managed = true
		}
		if !managed {
			if R != nil {
				p.out[path] = *R
			}
			continue
		}
		bh, rhs := fileSum(B), fileSum(R)
		lh := ""
		if L != nil {
			lh = hexSum(L.SHA256)
		}
		if lh != bh || lh != rhs || (L != nil && lh == "") {
			// About to act on this path: trust the disk, not a possibly
			// stale index (a file this sync just pulled, an edit not yet seen).
			nl, err := freshen(job.Root, path, L)
			if err != nil {
				return nil, err
			}
			L = nl
			lh = ""
			if L != nil {
				lh = hexSum(L.SHA256)
			}
		}
		localChanged, remoteChanged := lh != bh, rhs != bh
		switch {
		case !remoteChanged:
			if L == nil {
				continue
			}
			if !localChanged && B != nil {
				if hasLost(B, lost) {
					p.upload = append(p.upload, *L)
					p.heal[path] = true
					continue
				}
				p.out[path] = *B
				continue
			}
			p.upload = append(p.upload, *L)
		case !localChanged:
			if R == nil {
				if L != nil {
					p.deleteLoc = append(p.deleteLoc, path)
				}
				continue
			}
			p.out[path] = *R
			p.download = append(p.download, *R)
		default:
			switch {
			case lh == rhs:
				if R != nil && L != nil && hasLost(R, lost) {
					p.upload = append(p.upload, *L)
					p.heal[path] = true
				} else if R != nil {
					p.out[path] = *R
				}
			case L == nil:
				// Deleted here, changed there: keep theirs.
				p.out[path] = *R
				p.download = append(p.download, *R)
			case R == nil:
				// Changed here, deleted there: keep ours.
				p.upload = append(p.upload, *L)
			default:
				p.upload = append(p.upload, *L)
				dev := rh.Device
				if dev == "" {
					dev = "other device"
				}
				name := ConflictName(path, dev, rh.Time)
				for i := 2; taken(name); i++ {
					name = ConflictName(path, fmt.Sprintf("%s %d", dev, i), rh.Time)
				}
				cf := *R
				cf.Path = name
				p.out[name] = cf
				p.download = append(p.download, cf)
				p.conflicts = append(p.conflicts, Conflict{Project: job.Project, Path: path, Copy: name, Device: dev, Time: rh.Time})
			}
		}
	}
	return p, nil
}

func fileSum(f *File) string {
	if f == nil {
		return ""
	}
	return f.SHA256
}

// ConflictName is where the other side's version of p is kept:
// "dir/name (conflict DEVICE DATE).ext".
func ConflictName(p, device string, t time.Time) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" {
		stem, ext = base, ""
	}
	device = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 32 {
			return '-'
		}
		return r
	}, device)
	return fmt.Sprintf("%s%s (conflict %s %s)%s", dir, stem, device, t.UTC().Format("2006-01-02 150405"), ext)
}

// safePath accepts the paths a snapshot may hold: relative, slash-separated,
// without empty, . or .. elements. Any other character is data: a name with
// a backslash or a colon is legal on Linux and macOS and is synced as it is
// (target.LocalName says where a platform cannot hold it).
func safePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\x00") {
		return fmt.Errorf("path %q is not a relative slash path", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("path %q has an empty, . or .. element", p)
		}
	}
	return nil
}

// freshen re-reads a file from disk when the index's record may be stale.
func freshen(root, p string, L *LocalFile) (*LocalFile, error) {
	abs := filepath.Join(root, filepath.FromSlash(p))
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	if L != nil && L.Size == fi.Size() && L.ModTime.Equal(fi.ModTime()) && L.SHA256 != ([32]byte{}) {
		return L, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	nl := &LocalFile{Path: p, Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode()}
	h.Sum(nl.SHA256[:0])
	return nl, nil
}

// tracker counts progress and reports it a few times a second.
type tracker struct {
	fn                                         func(Progress)
	gate                                       *Gate
	start                                      time.Time
	filesTotal, filesDone                      atomic.Int64
	bytesTotal, bytesDone, bytesNew, bytesSent atomic.Int64
	bytesDeduped                               atomic.Int64
	firstSend                                  atomic.Int64
	mu                                         sync.Mutex
	phase, file                                string
	done                                       chan struct{}
	stopOnce                                   sync.Once
}

func newTracker(fn func(Progress), g *Gate) *tracker {
	t := &tracker{fn: fn, gate: g, start: time.Now(), phase: "plan", done: make(chan struct{})}
	if fn != nil {
		go func() {
			tk := time.NewTicker(250 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-t.done:
					return
				case <-tk.C:
					fn(t.snapshot())
				}
			}
		}()
	}
	return t
}

func (t *tracker) setPhase(p string) {
	t.mu.Lock()
	t.phase = p
	t.mu.Unlock()
	if t.fn != nil {
		t.fn(t.snapshot())
	}
}

func (t *tracker) setFile(f string) {
	t.mu.Lock()
	t.file = f
	t.mu.Unlock()
}

func (t *tracker) sent(n int64) {
	t.firstSend.CompareAndSwap(0, time.Now().UnixNano())
	t.bytesSent.Add(n)
}

func (t *tracker) stop() { t.stopOnce.Do(func() { close(t.done) }) }

func (t *tracker) snapshot() Progress {
	t.mu.Lock()
	p := Progress{Phase: t.phase, File: t.file}
	t.mu.Unlock()
	p.FilesTotal, p.FilesDone = int(t.filesTotal.Load()), int(t.filesDone.Load())
	p.BytesTotal, p.BytesDone, p.BytesNew = t.bytesTotal.Load(), t.bytesDone.Load(), t.bytesNew.Load()
	p.BytesSent, p.BytesDeduped = t.bytesSent.Load(), t.bytesDeduped.Load()
	p.Paused = t.gate.Paused()
	p.ETASeconds = -1
	el := time.Since(t.start).Seconds()
	if p.Phase == "done" {
		p.ETASeconds = 0
	} else if p.BytesDone > 0 && el > 0.2 {
		scanRate := float64(p.BytesDone) / el
		remScan := float64(p.BytesTotal - p.BytesDone)
		ratio := float64(p.BytesNew) / float64(p.BytesDone)
		remSend := float64(p.BytesNew-p.BytesSent) + remScan*ratio
		eta := remScan / scanRate
		if fs := t.firstSend.Load(); fs > 0 && p.BytesSent > 0 {
			sendRate := float64(p.BytesSent) / time.Since(time.Unix(0, fs)).Seconds()
			eta = max(eta, remSend/sendRate)
		}
		p.ETASeconds = eta
	}
	return p
}

// pack is a pack being filled.
type pack struct {
	id   string
	buf  []byte
	refs []Ref
}

type uploader struct {
	v      *Vault
	ctx    context.Context
	cancel context.CancelCauseFunc
	tr     *tracker
	ch     chan *pack
	wg     sync.WaitGroup

	mu       sync.Mutex
	cur      *pack
	inflight map[ID]Ref
}

func (v *Vault) newUploader(ctx context.Context, tr *tracker) *uploader {
	cctx, cancel := context.WithCancelCause(ctx)
	u := &uploader{v: v, ctx: cctx, cancel: cancel, tr: tr, ch: make(chan *pack), inflight: map[ID]Ref{}}
	for i := 0; i < v.o.Uploads; i++ {
		u.wg.Add(1)
		go u.run()
	}
	return u
}

func (u *uploader) run() {
	defer u.wg.Done()
	for p := range u.ch {
		if u.ctx.Err() != nil {
			continue
		}
		if err := u.store(p); err != nil {
			u.cancel(err)
		}
	}
}

// store seals the pack's header into its trailer, uploads it and only then
// records its chunks in the local state: a recorded chunk is on the remote.
func (u *uploader) store(p *pack) error {
	if err := u.v.o.Gate.Wait(u.ctx); err != nil {
		return err
	}
	hdr, _ := json.Marshal(p.refs)
	key := packKey(p.id)
	sealed := u.v.k.seal(nil, hdr, []byte(key))
	buf := append(p.buf, sealed...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(sealed)))
	if err := u.v.s.Put(u.ctx, key, buf, remote.PutOptions{}); err != nil {
		return fmt.Errorf("upload pack %s: %w", key, err)
	}
	u.tr.sent(int64(len(buf)))
	putBuf(&packPool, buf)
	puts := make(map[string][]byte, len(p.refs))
	for _, r := range p.refs {
		b, _ := json.Marshal(r)
		puts["chunk/"+r.ID.String()] = b
	}
	if err := u.v.st.Apply(puts, nil); err != nil {
		return fmt.Errorf("record pack %s in the local state: %w", key, err)
	}
	return nil
}

const maxPackChunks = 2000

var (
	sealPool  sync.Pool // *[]byte for sealing one chunk
	smallPool sync.Pool // *[]byte for reading a small file
	packPool  sync.Pool // *[]byte pack buffers
)

func getBuf(p *sync.Pool, n int) []byte {
	if b, ok := p.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:0]
	}
	return make([]byte, 0, n)
}

func putBuf(p *sync.Pool, b []byte) { p.Put(&b) }

// add places a sealed chunk into the current pack; a chunk already on its
// way in this run is not added twice.
func (u *uploader) add(id ID, sealed []byte) (Ref, bool, error) {
	u.mu.Lock()
	if r, ok := u.inflight[id]; ok {
		u.mu.Unlock()
		return r, true, nil
	}
	if u.cur == nil {
		u.cur = &pack{id: randHex(16), buf: getBuf(&packPool, u.v.cfg.PackSize+u.v.cfg.Chunker.Max+overhead+4096)}
	}
	r := Ref{ID: id, Pack: u.cur.id, Off: int64(len(u.cur.buf)), Len: int64(len(sealed))}
	u.cur.buf = append(u.cur.buf, sealed...)
	u.cur.refs = append(u.cur.refs, r)
	u.inflight[id] = r
	var full *pack
	// Packs close at the size target, or at maxPackChunks so recording a
	// pack's chunks stays one small transaction even for tiny files.
	if len(u.cur.buf) >= u.v.cfg.PackSize || len(u.cur.refs) >= maxPackChunks {
		full, u.cur = u.cur, nil
	}
	u.mu.Unlock()
	if full != nil {
		select {
		case u.ch <- full:
		case <-u.ctx.Done():
			return r, false, context.Cause(u.ctx)
		}
	}
	return r, false, nil
}

// finish sends the last pack and waits for every upload.
func (u *uploader) finish() error {
	u.mu.Lock()
	last := u.cur
	u.cur = nil
	u.mu.Unlock()
	if last != nil && u.ctx.Err() == nil {
		select {
		case u.ch <- last:
		case <-u.ctx.Done():
		}
	}
	close(u.ch)
	u.wg.Wait()
	if err := context.Cause(u.ctx); err != nil {
		return err
	}
	u.cancel(nil)
	return nil
}

func (v *Vault) knownChunk(id ID) (Ref, bool, error) {
	b, ok, err := v.st.Get("chunk/" + id.String())
	if err != nil || !ok {
		return Ref{}, false, err
	}
	var r Ref
	if err := json.Unmarshal(b, &r); err != nil {
		return Ref{}, false, nil
	}
	return r, true, nil
}

// upload chunks, dedups, seals and packs files, in parallel.
func (v *Vault) upload(ctx context.Context, root string, files []LocalFile, tr *tracker) ([]File, error) {
	u := v.newUploader(ctx, tr)
	out := make([]File, len(files))
	errs := make([]error, len(files))
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				out[i], errs[i] = v.chunkFile(u, root, files[i], tr)
				if errs[i] != nil {
					u.cancel(errs[i])
				}
				tr.filesDone.Add(1)
			}
		}()
	}
	for i := range files {
		if u.ctx.Err() != nil {
			break
		}
		select {
		case idx <- i:
		case <-u.ctx.Done():
		}
	}
	close(idx)
	wg.Wait()
	if err := u.finish(); err != nil {
		return nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return out, nil
}

func (v *Vault) chunkFile(u *uploader, root string, lf LocalFile, tr *tracker) (File, error) {
	if err := v.o.Gate.Wait(u.ctx); err != nil {
		return File{}, err
	}
	tr.setFile(lf.Path)
	abs := filepath.Join(root, filepath.FromSlash(lf.Path))
	f, err := os.Open(abs)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", abs, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", abs, err)
	}
	c := v.cfg.Chunker
	var next func() ([]byte, error)
	if fi.Size() <= int64(c.Min) {
		// FastCDC never cuts before Min: a small file is one chunk. Reading
		// it directly spares a chunker and its 2×Max buffer per file.
		buf := getBuf(&smallPool, c.Min+1)[:fi.Size()+1]
		defer putBuf(&smallPool, buf)
		n, err := io.ReadFull(f, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return File{}, fmt.Errorf("read %s: %w", abs, err)
		}
		if n > c.Min {
			return File{}, fmt.Errorf("read %s: it grew while being read; it will sync on the next run", abs)
		}
		done := n == 0
		next = func() ([]byte, error) {
			if done {
				return nil, io.EOF
			}
			done = true
			return buf[:n], nil
		}
	} else {
		cdcMu.Lock()
		ch, err := fastcdc.NewChunker(f, fastcdc.Options{MinSize: c.Min, AverageSize: c.Avg, MaxSize: c.Max, BufSize: 2 * c.Max})
		cdcMu.Unlock()
		if err != nil {
			return File{}, err
		}
		next = func() ([]byte, error) {
			cdcMu.RLock()
			chunk, err := ch.Next()
			cdcMu.RUnlock()
			return chunk.Data, err
		}
	}
	// When the file is the one the index hashed (same size and time before
	// and after reading), its SHA-256 is known: skip a second pass over it.
	trusted := lf.SHA256 != ([32]byte{}) && fi.Size() == lf.Size && fi.ModTime().Equal(lf.ModTime)
	h := sha256.New()
	out := File{Path: lf.Path, Mode: fi.Mode().Perm(), ModTime: fi.ModTime().UTC()}
	for {
		if u.ctx.Err() != nil {
			return File{}, context.Cause(u.ctx)
		}
		data, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return File{}, fmt.Errorf("read %s: %w", abs, err)
		}
		n := int64(len(data))
		if !trusted {
			h.Write(data)
		}
		out.Size += n
		id := v.k.chunkID(data)
		ref, ok, err := v.knownChunk(id)
		if err != nil {
			return File{}, err
		}
		if !ok {
			sealed := v.k.seal(getBuf(&sealPool, c.Max+overhead), data, id[:])
			var dup bool
			ref, dup, err = u.add(id, sealed)
			putBuf(&sealPool, sealed)
			if err != nil {
				return File{}, err
			}
			ok = dup
		}
		if ok {
			tr.bytesDeduped.Add(n)
		} else {
			tr.bytesNew.Add(n)
		}
		tr.bytesDone.Add(n)
		out.Chunks = append(out.Chunks, ref)
	}
	if trusted {
		if after, err := os.Stat(abs); err == nil && after.Size() == lf.Size && after.ModTime().Equal(lf.ModTime) && out.Size == lf.Size {
			out.SHA256 = hex.EncodeToString(lf.SHA256[:])
			return out, nil
		}
		// Changed while we read it: hash what we sent. Chunks are
		// content-addressed, so re-reading them is exact.
		return v.chunkFile(u, root, LocalFile{Path: lf.Path}, tr)
	}
	out.SHA256 = hex.EncodeToString(h.Sum(nil))
	return out, nil
}
