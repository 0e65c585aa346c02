package history

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"atelier/diskspace"
	"atelier/humanize"
	"atelier/localdb"
)

// Retention: every version for a day, the newest of each hour for a week,
// of each day for a month, of each week after that. Milestones, the newest
// point of a project and the last content of every deleted file are kept
// whatever their age; the size cap then removes the oldest of the rest.
func keepByAge(snaps []SnapInfo, now time.Time) map[int64]bool {
	keep := map[int64]bool{}
	seen := map[string]bool{}
	for _, s := range snaps { // newest first
		age := now.Sub(s.Time)
		var bucket string
		switch {
		case age < 24*time.Hour:
			keep[s.Seq] = true
			continue
		case age < 7*24*time.Hour:
			bucket = "h" + s.Time.Local().Format("2006-01-02T15")
		case age < 30*24*time.Hour:
			bucket = "d" + s.Time.Local().Format("2006-01-02")
		default:
			y, w := s.Time.Local().ISOWeek()
			bucket = fmt.Sprintf("w%d-%02d", y, w)
		}
		if !seen[bucket] {
			seen[bucket] = true
			keep[s.Seq] = true
		}
	}
	return keep
}

// PruneReport is what a prune removed.
type PruneReport struct {
	Removed    int   `json:"removed"` // points of the timeline removed
	Kept       int   `json:"kept"`
	BytesFreed int64 `json:"bytesFreed"`
	UsedBytes  int64 `json:"usedBytes"`
	CapBytes   int64 `json:"capBytes"`
	// OverBudget: what must be kept (milestones, latest versions) does
	// not fit the cap.
	OverBudget bool `json:"overBudget"`
}

// must is what no prune removes: each project's newest point, milestones,
// and the last content of deleted files.
func (h *History) must(tx *localdb.Tx, project string, newest int64) (map[int64]bool, error) {
	m := map[int64]bool{newest: true}
	if err := msT.Scan(tx, project+"\x00", func(_ string, ms Milestone) error { m[ms.Seq] = true; return nil }); err != nil {
		return nil, err
	}
	if err := delT.Scan(tx, project+"\x00", func(_ string, d Deleted) error { m[d.LastSeq] = true; return nil }); err != nil {
		return nil, err
	}
	return m, nil
}

// Prune applies the retention and then the size cap, oldest first.
func (h *History) Prune(ctx context.Context) (PruneReport, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rep := PruneReport{}
	before, err := h.usedBytes()
	if err != nil {
		return rep, err
	}
	now := h.o.Now()
	type proj struct {
		snaps []SnapInfo // newest first
		must  map[int64]bool
	}
	projects := map[string]*proj{}
	err = h.o.DB.View(func(tx *localdb.Tx) error {
		if err := snapT.Scan(tx, "", func(_ string, s SnapInfo) error {
			p := projects[s.Project]
			if p == nil {
				p = &proj{}
				projects[s.Project] = p
			}
			p.snaps = append(p.snaps, s)
			return nil
		}); err != nil {
			return err
		}
		for name, p := range projects {
			sort.Slice(p.snaps, func(i, j int) bool { return p.snaps[i].Seq > p.snaps[j].Seq })
			m, err := h.must(tx, name, p.snaps[0].Seq)
			if err != nil {
				return err
			}
			p.must = m
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	drop := map[string]map[int64]bool{}
	var spare []SnapInfo // kept by age only: the cap may take them, oldest first
	for name, p := range projects {
		age := keepByAge(p.snaps, now)
		for _, s := range p.snaps {
			switch {
			case p.must[s.Seq]:
			case age[s.Seq]:
				spare = append(spare, s)
			default:
				if drop[name] == nil {
					drop[name] = map[int64]bool{}
				}
				drop[name][s.Seq] = true
			}
		}
	}
	if err := h.drop(ctx, drop); err != nil {
		return rep, err
	}
	for _, d := range drop {
		rep.Removed += len(d)
	}
	cap, err := h.capBytes()
	if err != nil {
		return rep, err
	}
	rep.CapBytes = cap
	used, err := h.usedBytes()
	if err != nil {
		return rep, err
	}
	sort.Slice(spare, func(i, j int) bool { return spare[i].Time.Before(spare[j].Time) })
	for batch := 1; used > cap && len(spare) > 0; batch *= 2 {
		n := min(batch, len(spare))
		d := map[string]map[int64]bool{}
		for _, s := range spare[:n] {
			if d[s.Project] == nil {
				d[s.Project] = map[int64]bool{}
			}
			d[s.Project][s.Seq] = true
		}
		spare = spare[n:]
		if err := h.drop(ctx, d); err != nil {
			return rep, err
		}
		rep.Removed += n
		if used, err = h.usedBytes(); err != nil {
			return rep, err
		}
	}
	rep.UsedBytes = used
	rep.BytesFreed = max(0, before-used)
	for _, p := range projects {
		rep.Kept += len(p.snaps)
	}
	rep.Kept -= rep.Removed
	if used > cap {
		rep.OverBudget = true
		h.notify(Notice{Kind: "budget", Message: fmt.Sprintf("local history uses %s, over its budget of %s: what is left are milestones and the latest version of every file, which are never removed. Raise the budget (Settings, `atelier history budget --cap`), remove milestones, or turn history off for a project", humanize.Bytes(used), humanize.Bytes(cap))})
	}
	return rep, nil
}

// drop removes points of the timeline: first the version index (versions
// whose content is still in a kept point are pointed there, the others
// go) with an intent record, in one transaction; then the vault prune;
// then the intents. A crash in between is finished by Open.
func (h *History) drop(ctx context.Context, drop map[string]map[int64]bool) error {
	ids := map[string]bool{}
	for project, seqs := range drop {
		if len(seqs) == 0 {
			continue
		}
		err := h.o.DB.Update(func(tx *localdb.Tx) error {
			var all []SnapInfo
			if err := snapT.Scan(tx, project+"\x00", func(_ string, s SnapInfo) error { all = append(all, s); return nil }); err != nil {
				return err
			}
			// nextKept[i] is the first kept point after all[i].
			kept := make([]SnapInfo, 0, len(all))
			for _, s := range all {
				if !seqs[s.Seq] {
					kept = append(kept, s)
				}
			}
			nextKept := func(seq int64) (SnapInfo, bool) {
				i := sort.Search(len(kept), func(i int) bool { return kept[i].Seq > seq })
				if i == len(kept) {
					return SnapInfo{}, false
				}
				return kept[i], true
			}
			for _, s := range all {
				if !seqs[s.Seq] {
					continue
				}
				ids[s.Snapshot] = true
				if err := pruneT.Put(tx, s.Snapshot, pruneIntent{Project: project, Seq: s.Seq}); err != nil {
					return err
				}
				var keys []string
				if err := bySnapT.Keys(tx, project+"\x00"+seqKey(s.Seq)+"\x00", func(k string) error { keys = append(keys, k); return nil }); err != nil {
					return err
				}
				for _, k := range keys {
					parts := splitKey(k)
					if len(parts) != 4 {
						continue
					}
					p, vseq := parts[2], parseSeq(parts[3])
					v, ok, err := verT.Get(tx, vkey(project, p, vseq))
					if err != nil {
						return err
					}
					if !ok {
						bySnapT.Delete(tx, k)
						continue
					}
					if v.Op == OpDelete {
						continue // a marker: no content to keep
					}
					// The next version of this path bounds where the
					// content is still found.
					next := int64(1 << 62)
					verT.Scan(tx, project+"\x00"+p+"\x00", func(_ string, o Version) error {
						if o.Seq > v.Seq {
							next = o.Seq
							return localdb.ErrStop
						}
						return nil
					})
					if err := deleteVersion(tx, v); err != nil {
						return err
					}
					if nk, ok := nextKept(s.Seq); ok && nk.Seq < next {
						v.ReadSeq, v.Snapshot = nk.Seq, nk.Snapshot
						if err := putVersion(tx, v); err != nil {
							return err
						}
					}
				}
				if err := snapT.Delete(tx, skey(project, s.Seq)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("local history of %s: prune: %w", project, err)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return h.pruneVault(ctx, ids)
}

func (h *History) pruneVault(ctx context.Context, ids map[string]bool) error {
	if _, err := h.v.PruneSnapshots(ctx, ids, 0, false); err != nil {
		return fmt.Errorf("local history: prune the vault in %s: %w (it is finished on the next start)", h.o.Dir, err)
	}
	return h.o.DB.Update(func(tx *localdb.Tx) error {
		for id := range ids {
			if err := pruneT.Delete(tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// finishPrune completes a prune a crash interrupted: the index already
// forgot the points; the vault removes them now.
func (h *History) finishPrune(ctx context.Context) error {
	ids := map[string]bool{}
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		return pruneT.Scan(tx, "", func(k string, _ pruneIntent) error { ids[k] = true; return nil })
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	h.log.Info("local history: finishing an interrupted prune", "snapshots", len(ids))
	return h.pruneVault(ctx, ids)
}

// usedBytes is the size of the history vault on disk.
func (h *History) usedBytes() (int64, error) {
	var n int64
	err := filepath.WalkDir(filepath.Join(h.o.Dir, "vault"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

// BudgetInfo is what Settings shows: the budget, the cap it gives, what
// history uses, per project.
type BudgetInfo struct {
	Budget    Budget         `json:"budget"`
	CapBytes  int64          `json:"capBytes"`
	UsedBytes int64          `json:"usedBytes"`
	FreeBytes int64          `json:"freeBytes"`
	Projects  []ProjectUsage `json:"projects"`
}

// ProjectUsage is one project's share of history.
type ProjectUsage struct {
	Project  string    `json:"project"`
	Off      bool      `json:"off"`
	Points   int       `json:"points"`   // points in the timeline
	Versions int       `json:"versions"` // file versions
	Files    int       `json:"files"`    // files now
	Bytes    int64     `json:"bytes"`    // their size now
	Oldest   time.Time `json:"oldest,omitzero"`
	Paused   string    `json:"paused,omitempty"`
}

func (h *History) budget() (Budget, error) {
	var b Budget
	var ok bool
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		var err error
		b, ok, err = budgetT.Get(tx, "budget")
		return err
	})
	if !ok {
		b = DefaultBudget
	}
	return b, err
}

// SetBudget stores the size cap (CapBytes 0: SharePercent of the disk).
func (h *History) SetBudget(b Budget) error {
	if b.CapBytes < 0 || b.SharePercent < 0 || b.SharePercent > 90 {
		return fmt.Errorf("history budget: a cap of %d bytes or %d%% of the disk is not possible; give a size, or a share between 1 and 90%%", b.CapBytes, b.SharePercent)
	}
	if b.CapBytes == 0 && b.SharePercent == 0 {
		b.SharePercent = DefaultBudget.SharePercent
	}
	return h.o.DB.Update(func(tx *localdb.Tx) error { return budgetT.Put(tx, "budget", b) })
}

func (h *History) capBytes() (int64, error) {
	b, err := h.budget()
	if err != nil {
		return 0, err
	}
	if b.CapBytes > 0 {
		return b.CapBytes, nil
	}
	used, _ := h.usedBytes()
	u, err := diskspace.Statfs(h.o.Dir)
	if err != nil {
		return 0, nil
	}
	return (u.Free + used) * int64(b.SharePercent) / 100, nil
}

// BudgetInfo reports the budget and what each project uses.
func (h *History) BudgetInfo() (BudgetInfo, error) {
	var bi BudgetInfo
	var err error
	if bi.Budget, err = h.budget(); err != nil {
		return bi, err
	}
	if bi.CapBytes, err = h.capBytes(); err != nil {
		return bi, err
	}
	if bi.UsedBytes, err = h.usedBytes(); err != nil {
		return bi, err
	}
	if u, err := diskspace.Statfs(h.o.Dir); err == nil {
		bi.FreeBytes = u.Free
	}
	byName := map[string]*ProjectUsage{}
	err = h.o.DB.View(func(tx *localdb.Tx) error {
		if err := snapT.Scan(tx, "", func(_ string, s SnapInfo) error {
			p := byName[s.Project]
			if p == nil {
				p = &ProjectUsage{Project: s.Project, Oldest: s.Time}
				byName[s.Project] = p
			}
			p.Points++
			p.Files, p.Bytes = s.Files, s.Bytes
			return nil
		}); err != nil {
			return err
		}
		return verT.Keys(tx, "", func(k string) error {
			if p := byName[splitKey(k)[0]]; p != nil {
				p.Versions++
			}
			return nil
		})
	})
	for _, p := range byName {
		s, _ := h.Settings(p.Project)
		p.Off = s.Off
		if e := h.pausedErr(p.Project); e != nil {
			p.Paused = e.Error()
		}
		bi.Projects = append(bi.Projects, *p)
	}
	sort.Slice(bi.Projects, func(i, j int) bool { return bi.Projects[i].Project < bi.Projects[j].Project })
	if bi.Projects == nil {
		bi.Projects = []ProjectUsage{}
	}
	return bi, err
}

// Status says whether project's history runs, and why not.
func (h *History) Status(project string) (paused string, off bool, err error) {
	s, err := h.Settings(project)
	if e := h.pausedErr(project); e != nil {
		paused = e.Error()
	}
	return paused, s.Off, err
}
