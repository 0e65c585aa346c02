package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"atelier/sync/remote"
)

// Lost chunks.
//
// Verify records every chunk it found missing or corrupt as lost, per
// project whose newest snapshot references it ("lost/<project>/<chunk id>"
// in the local state), and drops it (and every other chunk the local index
// places in a pack that is gone) from the chunk index. A sync of a project
// with lost chunks then skips the no-change shortcuts and, for every file
// whose vault version references a lost chunk while the file here still has
// that content, reads the file again and uploads what is missing; files that
// only share a lost chunk have their references moved to the new copy. The
// snapshot it commits references no lost chunk that this device could heal.
// What it could not heal is named, file by file, in Result.Damaged.

func lostPrefix(project string) string { return "lost/" + project + "/" }

// lostChunks is the set of chunks of project that Verify found lost and no
// sync has healed yet.
func (v *Vault) lostChunks(project string) (map[ID]bool, error) {
	out := map[ID]bool{}
	pre := lostPrefix(project)
	err := v.st.Scan(pre, func(k string, _ []byte) error {
		var id ID
		if id.UnmarshalText([]byte(strings.TrimPrefix(k, pre))) == nil {
			out[id] = true // a longer rest is another project's ("a" vs "a/b")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the local sync state of %s: %w", project, err)
	}
	return out, nil
}

// hasLost reports whether f references a chunk in lost.
func hasLost(f *File, lost map[ID]bool) bool {
	if f == nil || len(lost) == 0 {
		return false
	}
	for _, r := range f.Chunks {
		if lost[r.ID] {
			return true
		}
	}
	return false
}

// Damaged is a file whose version in the vault cannot be read, and why.
type Damaged struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// heal runs after the uploads of a sync of a project with lost chunks: it
// moves references of files in out from lost chunks to copies uploaded
// since (this run or an earlier one), names what was repaired and what was
// not, and returns the lost chunks still referenced. changed says whether
// any reference in out changed (then a snapshot must be committed even
// when no content did).
func (v *Vault) heal(p *plan, prior *Snapshot, lost map[ID]bool) (repaired []string, damaged []Damaged, still map[ID]bool, changed bool, err error) {
	healed := map[ID]Ref{}
	still = map[ID]bool{}
	for id := range lost {
		r, ok, err := v.knownChunk(id)
		if err != nil {
			return nil, nil, nil, false, err
		}
		if ok {
			healed[id] = r
		}
	}
	for path, f := range p.out {
		if !hasLost(&f, lost) {
			continue
		}
		nf := f
		nf.Chunks = append([]Ref(nil), f.Chunks...)
		for i, r := range nf.Chunks {
			if h, ok := healed[r.ID]; ok && h != r {
				nf.Chunks[i] = h
				changed = true
			} else if !ok && lost[r.ID] {
				still[r.ID] = true
			}
		}
		p.out[path] = nf
	}
	if len(p.heal) > 0 {
		changed = true
	}
	if prior == nil {
		return nil, nil, still, changed, nil
	}
	for _, old := range prior.Files {
		if !hasLost(&old, lost) {
			continue
		}
		now, ok := p.out[old.Path]
		switch {
		case !ok:
			damaged = append(damaged, Damaged{Path: old.Path, Reason: "its last version in the vault is lost, and the file is gone from this device"})
		case now.SHA256 != old.SHA256:
			damaged = append(damaged, Damaged{Path: old.Path, Reason: "its last version in the vault is lost; the copy on this device has changed since, and was pushed as the newest version"})
		case hasLost(&now, still):
			why := "no intact copy on this device"
			if _, here := p.local[old.Path]; !here {
				why = "the file is not on this device (or not selected here)"
			}
			damaged = append(damaged, Damaged{Path: old.Path, Reason: "its data in the vault is lost and " + why + ": run `atelier sync verify --repair` on a device that has it"})
		default:
			repaired = append(repaired, old.Path)
		}
	}
	sort.Strings(repaired)
	sort.Slice(damaged, func(i, j int) bool { return damaged[i].Path < damaged[j].Path })
	return repaired, damaged, still, changed, nil
}

// keepLost leaves exactly still marked lost for project.
func (v *Vault) keepLost(project string, lost, still map[ID]bool) error {
	var dels []string
	for id := range lost {
		if !still[id] {
			dels = append(dels, lostPrefix(project)+id.String())
		}
	}
	if len(dels) == 0 {
		return nil
	}
	return v.st.Apply(nil, dels)
}

// markLost records what Verify found: bad chunks become lost for the
// projects whose newest snapshot references them, and leave the chunk
// index together with every chunk the index places in a pack that is gone,
// so no later push points a snapshot at them again.
func (v *Vault) markLost(ctx context.Context, bad map[ID][]string, packs []string) error {
	puts := map[string][]byte{}
	var dels []string
	for id, projects := range bad {
		dels = append(dels, "chunk/"+id.String())
		for _, p := range projects {
			puts[lostPrefix(p)+id.String()] = []byte{}
		}
	}
	gone := map[string]bool{}
	for _, p := range packs {
		_, err := v.s.Stat(ctx, packKey(p))
		if errors.Is(err, remote.ErrNotFound) {
			gone[p] = true
		} else if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(gone) > 0 {
		err := v.st.Scan("chunk/", func(k string, b []byte) error {
			var r Ref
			if json.Unmarshal(b, &r) == nil && gone[r.Pack] {
				dels = append(dels, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(puts) == 0 && len(dels) == 0 {
		return nil
	}
	return v.st.Apply(puts, dels)
}

// RepairResult is what Repair found and did.
type RepairResult struct {
	// Verify is what verification found before repairing.
	Verify   VerifyResult `json:"verify"`
	Snapshot string       `json:"snapshot,omitempty"`
	Seq      int64        `json:"seq,omitempty"`
	// Repaired are files whose lost data was uploaded again from this device.
	Repaired []string `json:"repaired"`
	// Unrepaired are files whose version in the vault is still lost, and why.
	Unrepaired []Damaged `json:"unrepaired"`
	// Sync is the run that repaired (it also pushes and pulls what changed).
	Sync *Result `json:"sync,omitempty"`
}

// Repair verifies the newest snapshot of job.Project and, when data is
// missing or corrupt, syncs the project: every lost chunk that can be read
// again from a file here whose content still matches the snapshot is
// uploaded again, and a snapshot referencing only intact data (where this
// device could supply it) is committed. What could not be repaired is
// named file by file.
func (v *Vault) Repair(ctx context.Context, job Job) (RepairResult, error) {
	res := RepairResult{Repaired: []string{}, Unrepaired: []Damaged{}}
	vr, err := v.Verify(ctx, []string{job.Project}, job.Progress)
	res.Verify = vr
	if err != nil {
		return res, err
	}
	lost, err := v.lostChunks(job.Project)
	if err != nil {
		return res, err
	}
	if len(vr.Problems) == 0 && len(lost) == 0 {
		return res, nil
	}
	sr, err := v.Sync(ctx, job)
	res.Sync = &sr
	res.Snapshot, res.Seq = sr.Snapshot, sr.Seq
	res.Repaired = append(res.Repaired, sr.Repaired...)
	res.Unrepaired = append(res.Unrepaired, sr.Damaged...)
	if err != nil {
		return res, err
	}
	for _, p := range vr.Problems {
		if len(p.Files) == 0 {
			// Not chunk data (a snapshot or head object): nothing here can
			// rebuild it.
			res.Unrepaired = append(res.Unrepaired, Damaged{Path: p.Object, Reason: p.Err})
		}
	}
	return res, nil
}
