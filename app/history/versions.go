package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"atelier/localdb"
	"atelier/sync/target"
	"atelier/sync/vault"
)

// ErrNotFound means no such version, point or file in the history.
var ErrNotFound = errors.New("not in the local history")

// Versions lists the versions of the file at p (following it through
// renames and moves), newest first. A deletion is listed as a version with
// Op "delete". It reads the version index only.
func (h *History) Versions(project, p string) ([]Version, error) {
	var out []Version
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return verT.Scan(tx, project+"\x00"+p+"\x00", func(_ string, v Version) error {
			out = append(out, v)
			return nil
		})
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if out == nil {
		out = []Version{}
	}
	return out, err
}

// DeletedFiles lists the files of project that are gone and restorable.
func (h *History) DeletedFiles(project string) ([]Deleted, error) {
	out := []Deleted{}
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return delT.Scan(tx, project+"\x00", func(_ string, d Deleted) error {
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// Timeline lists the points of project's history, newest first, with
// their milestones.
func (h *History) Timeline(project string) ([]SnapInfo, error) {
	var out []SnapInfo
	ms := map[int64][]string{}
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		if err := msT.Scan(tx, project+"\x00", func(_ string, m Milestone) error {
			ms[m.Seq] = append(ms[m.Seq], m.Name)
			return nil
		}); err != nil {
			return err
		}
		return snapT.Scan(tx, project+"\x00", func(_ string, s SnapInfo) error {
			s.Milestones = ms[s.Seq]
			out = append(out, s)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	if out == nil {
		out = []SnapInfo{}
	}
	return out, err
}

// Point resolves at within project: "" or "latest", a version number, a
// milestone name, a time (RFC 3339, "2006-01-02 15:04", or a date: its
// end), or a snapshot ID prefix; a time gives the newest point at or
// before it.
func (h *History) Point(project, at string) (SnapInfo, error) {
	tl, err := h.Timeline(project)
	if err != nil {
		return SnapInfo{}, err
	}
	if len(tl) == 0 {
		return SnapInfo{}, fmt.Errorf("%w: %s has no versions yet (history takes the first one a few seconds after a change)", ErrNotFound, project)
	}
	at = strings.TrimSpace(at)
	if at == "" || at == "latest" {
		return tl[0], nil
	}
	if n, err := strconv.ParseInt(at, 10, 64); err == nil {
		for _, s := range tl {
			if s.Seq == n {
				return s, nil
			}
		}
		return SnapInfo{}, fmt.Errorf("%w: %s has no version %d (pruned or never taken): see `atelier history %s`", ErrNotFound, project, n, project)
	}
	for _, s := range tl {
		for _, m := range s.Milestones {
			if m == at {
				return s, nil
			}
		}
	}
	if t, ok := parseTime(at); ok {
		for _, s := range tl {
			if !s.Time.After(t) {
				return s, nil
			}
		}
		return SnapInfo{}, fmt.Errorf("%w: %s has no version at or before %s (the oldest is from %s)", ErrNotFound, project, at, tl[len(tl)-1].Time.Local().Format("2006-01-02 15:04"))
	}
	if len(at) >= 4 {
		var match []SnapInfo
		for _, s := range tl {
			if strings.HasPrefix(s.Snapshot, at) {
				match = append(match, s)
			}
		}
		if len(match) == 1 {
			return match[0], nil
		}
	}
	return SnapInfo{}, fmt.Errorf("%w: %q is not a version number, milestone, time (2006-01-02 15:04) or snapshot of %s", ErrNotFound, at, project)
}

func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, f := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(f, s, time.Local); err == nil {
			return t, true
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), true
	}
	return time.Time{}, false
}

// versionAt is the version of p current at point seq (false: the file did
// not exist then, or was deleted).
func (h *History) versionAt(project, p string, seq int64) (Version, bool, error) {
	var out Version
	var ok bool
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return verT.Scan(tx, project+"\x00"+p+"\x00", func(_ string, v Version) error {
			if v.Seq > seq {
				return localdb.ErrStop
			}
			out, ok = v, true
			return nil
		})
	})
	if ok && out.Op == OpDelete {
		return out, false, err
	}
	return out, ok, err
}

// file finds the content of a version in the vault (only the trees on its
// path are read).
func (h *History) file(ctx context.Context, v Version) (vault.File, error) {
	snap, err := h.v.SnapshotHeader(ctx, v.Snapshot)
	if err != nil {
		return vault.File{}, err
	}
	f, ok, err := h.v.Lookup(ctx, snap, v.SnapPath)
	if err != nil {
		return vault.File{}, err
	}
	if !ok || f.SHA256 != v.SHA256 {
		return vault.File{}, fmt.Errorf("version %d of %s is not in snapshot %s as the index says: %w; run `atelier history %s` again after a restart", v.Seq, v.Path, v.Snapshot, vault.ErrCorrupt, v.Project)
	}
	return f, nil
}

// resolveVersion finds the version of p at "at" (see Point), or by its own
// version number when at names one of p's versions.
func (h *History) resolveVersion(project, p, at string) (Version, error) {
	if at = strings.TrimSpace(at); at == "" || at == "latest" {
		// The newest content of p: for a deleted file, its last one.
		vs, err := h.Versions(project, p)
		if err != nil {
			return Version{}, err
		}
		for _, v := range vs {
			if v.Op != OpDelete {
				return v, nil
			}
		}
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(at), 10, 64); err == nil {
		vs, err := h.Versions(project, p)
		if err != nil {
			return Version{}, err
		}
		for _, v := range vs {
			if v.Seq == n && v.Op != OpDelete {
				return v, nil
			}
		}
	}
	pt, err := h.Point(project, at)
	if err != nil {
		return Version{}, err
	}
	v, ok, err := h.versionAt(project, p, pt.Seq)
	if err != nil {
		return Version{}, err
	}
	if !ok {
		return Version{}, fmt.Errorf("%w: %s did not exist in %s at version %d (%s); see `atelier history %s %s`", ErrNotFound, p, project, pt.Seq, pt.Time.Local().Format("2006-01-02 15:04"), project, p)
	}
	return v, nil
}

// ReadVersion writes the content of the version of p at "at" to w: a
// version plays without being restored.
func (h *History) ReadVersion(ctx context.Context, project, p, at string, w io.Writer) (Version, error) {
	v, err := h.resolveVersion(project, p, at)
	if err != nil {
		return v, err
	}
	f, err := h.file(ctx, v)
	if err != nil {
		return v, err
	}
	return v, h.v.ReadFile(ctx, f, w)
}

// RestoreResult is what a restore wrote.
type RestoreResult struct {
	Project string   `json:"project"`
	Paths   []string `json:"paths"`        // files written
	As      string   `json:"as,omitempty"` // save as copy: where
	From    int64    `json:"from"`         // the version restored
	Before  int64    `json:"before"`       // the version holding what was there before (0: nothing was)
	Skipped int      `json:"skipped"`      // already had the content
	Version int64    `json:"version"`      // the version recording the restore
	Note    string   `json:"note,omitempty"`
}

// Restore writes the version of p (a file, or every file of a folder) at
// "at" back in place. What is there now becomes a version first, so a
// restore never loses anything; writes go through sync/target (atomic,
// inside the project, never through a link).
func (h *History) Restore(ctx context.Context, project, p, at string) (RestoreResult, error) {
	return h.restore(ctx, project, p, at, "")
}

// RestoreAs writes the version of the file p at "at" beside it as as
// ("" : "NAME (version N).EXT"); nothing in place changes.
func (h *History) RestoreAs(ctx context.Context, project, p, at, as string) (RestoreResult, error) {
	if as == "" {
		as = "-"
	}
	return h.restore(ctx, project, p, at, as)
}

func copyName(p string, seq int64) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" {
		stem, ext = base, ""
	}
	return fmt.Sprintf("%s%s (version %d)%s", dir, stem, seq, ext)
}

func (h *History) restore(ctx context.Context, project, p, at, as string) (RestoreResult, error) {
	res := RestoreResult{Project: project, Paths: []string{}}
	p = strings.Trim(p, "/")
	root, err := h.o.Files.Root(project)
	if err != nil {
		return res, err
	}
	// The files to write: p itself, or the files under the folder p.
	type job struct {
		path string
		v    Version
		f    vault.File
	}
	var jobs []job
	v, verr := h.resolveVersion(project, p, at)
	if verr == nil {
		f, err := h.file(ctx, v)
		if err != nil {
			return res, err
		}
		jobs = append(jobs, job{p, v, f})
		res.From = v.Seq
	} else {
		pt, err := h.Point(project, at)
		if err != nil {
			return res, err
		}
		snap, err := h.v.SnapshotHeader(ctx, pt.Snapshot)
		if err != nil {
			return res, err
		}
		var walk func(dir string) error
		walk = func(dir string) error {
			ents, err := h.v.ReadDir(ctx, snap, dir)
			if err != nil {
				return err
			}
			for _, e := range ents {
				fp := strings.TrimPrefix(dir+"/"+e.Name, "/")
				if e.IsDir() {
					if err := walk(fp); err != nil {
						return err
					}
					continue
				}
				jobs = append(jobs, job{fp, Version{Seq: pt.Seq}, e.File(fp)})
			}
			return nil
		}
		if p == "" || walk(p) != nil || len(jobs) == 0 {
			return res, verr
		}
		if as != "" {
			return res, fmt.Errorf("save as copy takes one file; %s is a folder: restore it in place, or restore its files one by one", p)
		}
		res.From = pt.Seq
	}
	var need int64
	for _, j := range jobs {
		need += j.f.Size
	}
	if err := h.checkSpace(project, need); err != nil {
		return res, err
	}
	if as != "" {
		if as == "-" {
			as = copyName(p, jobs[0].v.Seq)
		}
		d, err := target.Open(root, target.Options{Overwrite: true})
		if err != nil {
			return res, err
		}
		defer d.Close()
		if err := h.v.WriteFile(ctx, jobs[0].f, d, as); err != nil {
			return res, err
		}
		res.As, res.Paths = as, []string{as}
		if k := d.Kept(); len(k) > 0 {
			res.Note = fmt.Sprintf("%s was there with other content: kept as %s", as, k[0].KeptAs)
		}
		return res, nil
	}
	// What is there now becomes a version first (with every change still
	// waiting), so the restore can be undone.
	var ex []extra
	for _, j := range jobs {
		ex = append(ex, extra{path: j.path, op: OpModify})
	}
	before, err := h.takePending(ctx, project, ex, true)
	if err != nil {
		return res, fmt.Errorf("restore stopped before writing anything: the current content could not be kept as a version first: %w", err)
	}
	res.Before = before.Seq
	d, err := target.Open(root, target.Options{Replace: true})
	if err != nil {
		return res, err
	}
	defer d.Close()
	var wrote []extra
	for _, j := range jobs {
		if d.Same(j.path, j.f.Size, j.f.SHA256) {
			res.Skipped++
			continue
		}
		if err := h.v.WriteFile(ctx, j.f, d, j.path); err != nil {
			return res, err
		}
		res.Paths = append(res.Paths, j.path)
		wrote = append(wrote, extra{path: j.path, op: OpRestore, from: fmt.Sprintf("version %d", j.v.Seq)})
	}
	if len(wrote) > 0 {
		after, err := h.take(ctx, project, nil, wrote)
		if err != nil {
			return res, fmt.Errorf("restored, but recording the restore as a version failed (it will be taken with the next change): %w", err)
		}
		res.Version = after.Seq
	}
	return res, nil
}

// takePending takes a version of project now: the changes waiting (and
// ex). Without always, nothing waiting takes nothing (Run's passes): the
// changes it was due for were taken meanwhile.
func (h *History) takePending(ctx context.Context, project string, ex []extra, always bool) (SnapInfo, error) {
	gen, since := h.dueGen(project)
	var items []item
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return pendingT.Scan(tx, project+"\x00", func(k string, p pending) error {
			items = append(items, item{splitKey(k)[1], p})
			return nil
		})
	})
	if err != nil {
		return SnapInfo{}, err
	}
	if len(items) == 0 && len(ex) == 0 && !always {
		h.settled(project, gen, since)
		return SnapInfo{}, nil
	}
	info, err := h.take(ctx, project, items, ex)
	if err == nil {
		h.settled(project, gen, since)
	}
	return info, err
}

// Milestone names the point "at" of project (kept until removed).
func (h *History) Milestone(project, name, at string) (Milestone, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Milestone{}, errors.New("a milestone needs a name, like \"sent to mastering\"")
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return Milestone{}, fmt.Errorf("milestone %q: a name that is a number would be read as a version number; add a word", name)
	}
	pt, err := h.Point(project, at)
	if err != nil {
		return Milestone{}, err
	}
	m := Milestone{Project: project, Name: name, Seq: pt.Seq, Snapshot: pt.Snapshot, Time: pt.Time}
	return m, h.o.DB.Update(func(tx *localdb.Tx) error { return msT.Put(tx, pkey(project, name), m) })
}

// Milestones lists project's milestones, oldest first.
func (h *History) Milestones(project string) ([]Milestone, error) {
	out := []Milestone{}
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return msT.Scan(tx, project+"\x00", func(_ string, m Milestone) error {
			out = append(out, m)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// RemoveMilestone removes a milestone (its point becomes prunable).
func (h *History) RemoveMilestone(project, name string) error {
	return h.o.DB.Update(func(tx *localdb.Tx) error {
		if _, ok, err := msT.Get(tx, pkey(project, name)); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: %s has no milestone %q", ErrNotFound, project, name)
		}
		return msT.Delete(tx, pkey(project, name))
	})
}

// DiffEntry is one difference between two points.
type DiffEntry struct {
	Path      string `json:"path"`
	Status    string `json:"status"` // added, removed, changed, renamed
	From      string `json:"from,omitempty"`
	OldSize   int64  `json:"oldSize"`
	NewSize   int64  `json:"newSize"`
	SizeDelta int64  `json:"sizeDelta"`
	OldSHA256 string `json:"oldSha256,omitempty"`
	NewSHA256 string `json:"newSha256,omitempty"`
	// OldLUFS and NewLUFS are the integrated loudness of the two contents
	// of an audio file, when the Library measured them (the service fills
	// them in); LUFSDelta is their difference.
	OldLUFS   *float64 `json:"oldLufs,omitempty"`
	NewLUFS   *float64 `json:"newLufs,omitempty"`
	LUFSDelta *float64 `json:"lufsDelta,omitempty"`
}

// Diff is what changed between two points.
type Diff struct {
	Project   string      `json:"project"`
	From      SnapInfo    `json:"from"`
	To        SnapInfo    `json:"to"`
	Entries   []DiffEntry `json:"entries"`
	Added     int         `json:"added"`
	Removed   int         `json:"removed"`
	Changed   int         `json:"changed"`
	Renamed   int         `json:"renamed"`
	SizeDelta int64       `json:"sizeDelta"`
}

// Diff compares the points from and to of project (see Point; to "" is
// the latest, from "" the one before to). A removed and an added file with
// the same content are one rename.
func (h *History) Diff(ctx context.Context, project, from, to string) (Diff, error) {
	d := Diff{Project: project, Entries: []DiffEntry{}}
	b, err := h.Point(project, to)
	if err != nil {
		return d, err
	}
	var a SnapInfo
	if from == "" {
		tl, err := h.Timeline(project)
		if err != nil {
			return d, err
		}
		for _, s := range tl {
			if s.Seq < b.Seq {
				a = s
				break
			}
		}
		if a.Snapshot == "" {
			a = b
		}
	} else if a, err = h.Point(project, from); err != nil {
		return d, err
	}
	d.From, d.To = a, b
	sa, err := h.v.SnapshotHeader(ctx, a.Snapshot)
	if err != nil {
		return d, err
	}
	sb, err := h.v.SnapshotHeader(ctx, b.Snapshot)
	if err != nil {
		return d, err
	}
	var added, removed []DiffEntry
	err = h.v.Diff(ctx, sa, sb, func(p string, o, n *vault.File) error {
		e := DiffEntry{Path: p}
		if o != nil {
			e.OldSize, e.OldSHA256 = o.Size, o.SHA256
		}
		if n != nil {
			e.NewSize, e.NewSHA256 = n.Size, n.SHA256
		}
		e.SizeDelta = e.NewSize - e.OldSize
		switch {
		case o == nil:
			e.Status = "added"
			added = append(added, e)
		case n == nil:
			e.Status = "removed"
			removed = append(removed, e)
		default:
			e.Status = "changed"
			d.Entries = append(d.Entries, e)
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	bySum := map[string][]int{}
	for i, r := range removed {
		bySum[r.OldSHA256] = append(bySum[r.OldSHA256], i)
	}
	gone := map[int]bool{}
	for _, a := range added {
		if l := bySum[a.NewSHA256]; len(l) > 0 {
			r := removed[l[0]]
			bySum[a.NewSHA256] = l[1:]
			gone[l[0]] = true
			a.Status, a.From, a.OldSize, a.OldSHA256, a.SizeDelta = "renamed", r.Path, r.OldSize, r.OldSHA256, 0
		}
		d.Entries = append(d.Entries, a)
	}
	for i, r := range removed {
		if !gone[i] {
			d.Entries = append(d.Entries, r)
		}
	}
	sort.Slice(d.Entries, func(i, j int) bool { return d.Entries[i].Path < d.Entries[j].Path })
	for _, e := range d.Entries {
		switch e.Status {
		case "added":
			d.Added++
		case "removed":
			d.Removed++
		case "changed":
			d.Changed++
		case "renamed":
			d.Renamed++
		}
		d.SizeDelta += e.SizeDelta
	}
	return d, nil
}

// Entry is one name in a past state of a project.
type Entry struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Dir     bool      `json:"dir"`
	Size    int64     `json:"size,omitempty"`
	ModTime time.Time `json:"modTime,omitzero"`
	SHA256  string    `json:"sha256,omitempty"`
}

// Browse lists the folder dir of project as it was at "at".
func (h *History) Browse(ctx context.Context, project, at, dir string) (SnapInfo, []Entry, error) {
	pt, err := h.Point(project, at)
	if err != nil {
		return pt, nil, err
	}
	snap, err := h.v.SnapshotHeader(ctx, pt.Snapshot)
	if err != nil {
		return pt, nil, err
	}
	dir = strings.Trim(dir, "/")
	ents, err := h.v.ReadDir(ctx, snap, dir)
	if err != nil {
		return pt, nil, fmt.Errorf("%s at version %d: %w", project, pt.Seq, err)
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		out = append(out, Entry{Name: e.Name, Path: strings.TrimPrefix(dir+"/"+e.Name, "/"), Dir: e.IsDir(), Size: e.Size, ModTime: e.ModTime, SHA256: e.SHA256})
	}
	return pt, out, nil
}

// Paths lists the paths of project that have versions (deleted files
// included), in order.
func (h *History) Paths(project string) ([]string, error) {
	out := []string{}
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return verT.Keys(tx, project+"\x00", func(k string) error {
			parts := splitKey(k)
			if len(parts) == 3 && (len(out) == 0 || out[len(out)-1] != parts[1]) {
				out = append(out, parts[1])
			}
			return nil
		})
	})
	return out, err
}
