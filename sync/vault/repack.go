package vault

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"atelier/sync/remote"
)

// sparsePack reports whether prune should rewrite a pack of size bytes of
// which live are still referenced: when less than half is live, so space
// freed by old versions is not kept alive by the few chunks that still
// matter, and at least an eighth of a full pack would be freed (a small
// pack is mostly its header; rewriting it frees nothing).
func sparsePack(live, size int64, packSize int) bool {
	return live*2 < size && size-live >= int64(packSize)/8
}

// retiredKey names the sealed list of packs a repack replaced, with when:
// they are deleted only a grace period after retirement (their modification
// time is old), so a device that loaded a snapshot before the repack can
// still read them, and any snapshot committed meanwhile keeps them alive.
const retiredKey = "retired"

type retiredPacks map[string]time.Time

func (v *Vault) loadRetired(ctx context.Context) (retiredPacks, error) {
	r := retiredPacks{}
	if err := v.getJSON(ctx, retiredKey, &r); err != nil && !errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("read the list of retired packs: %w", err)
	}
	return r, nil
}

func (v *Vault) storeRetired(ctx context.Context, r retiredPacks) error {
	b, err := v.sealJSON(retiredKey, r)
	if err != nil {
		return err
	}
	if err := v.s.Put(ctx, retiredKey, b, remote.PutOptions{}); err != nil {
		return fmt.Errorf("store the list of retired packs: %w", err)
	}
	return nil
}

// packUse is how much of one pack the kept snapshots still reference.
type packUse struct {
	live  map[ID]Ref
	bytes int64
}

// usage adds up what the kept snapshots reference, pack by pack, and which
// trees they reach; each tree is read once however many snapshots share it.
func (v *Vault) usage(ctx context.Context, keep []*Snapshot) (map[string]*packUse, map[string]bool, error) {
	use := map[string]*packUse{}
	add := func(c Ref) {
		u := use[c.Pack]
		if u == nil {
			u = &packUse{live: map[ID]Ref{}}
			use[c.Pack] = u
		}
		if _, ok := u.live[c.ID]; !ok {
			u.live[c.ID] = c
			u.bytes += c.Len
		}
	}
	live := map[string]bool{}
	for _, s := range keep {
		if s.Tree == "" {
			for _, f := range s.Files {
				for _, c := range f.Chunks {
					add(c)
				}
			}
			continue
		}
		err := v.walkTree(ctx, s.Tree, "", live, func(_ string, e TreeEntry) error {
			for _, c := range e.Chunks {
				add(c)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot %s: %w", s.ID, err)
		}
	}
	return use, live, nil
}

// repack copies the live chunks of sparse packs into new packs and points
// the kept snapshots at them. Order matters for a crash at any point: new
// packs first, then the retired list (so old packs outlive their grace),
// then the snapshots. It returns the packs it retired.
func (v *Vault) repack(ctx context.Context, keep []*Snapshot, sparse []string, use map[string]*packUse, retired retiredPacks, res *PruneResult) error {
	if len(sparse) == 0 {
		return nil
	}
	tr := newTracker(nil, v.o.Gate)
	defer tr.stop()
	u := v.newUploader(ctx, tr)
	moved := map[ID]Ref{}
	for _, p := range sparse {
		refs := make([]Ref, 0, len(use[p].live))
		for _, r := range use[p].live {
			refs = append(refs, r)
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].Off < refs[j].Off })
		for _, run := range runs(refs) {
			plains, err := v.fetchRun(u.ctx, run)
			if err != nil {
				u.cancel(err)
				u.finish()
				return fmt.Errorf("repack %s: %w (nothing was changed)", packKey(p), err)
			}
			for i, plain := range plains {
				id := run[i].ID
				sealed := v.k.seal(nil, plain, id[:])
				nr, _, err := u.add(id, sealed)
				if err != nil {
					u.finish()
					return err
				}
				moved[id] = nr
				res.BytesRepacked += run[i].Len
			}
		}
	}
	if err := u.finish(); err != nil {
		return fmt.Errorf("repack: %w (nothing was changed)", err)
	}
	now := time.Now().UTC()
	for _, p := range sparse {
		retired[p] = now
	}
	if err := v.storeRetired(ctx, retired); err != nil {
		return err
	}
	isSparse := map[string]bool{}
	for _, p := range sparse {
		isSparse[p] = true
	}
	tw := v.newTreeWriter(ctx)
	memo := map[string]string{}
	for _, s := range keep {
		// Snapshots in the cache are shared and read without locks: build
		// a new one rather than edit it.
		ns := &Snapshot{ID: s.ID, Project: s.Project, Seq: s.Seq, Parent: s.Parent, Device: s.Device, Time: s.Time, Tree: s.Tree}
		changed := false
		if s.Tree != "" {
			// Trees are content-addressed: a tree naming a moved chunk
			// becomes a new tree, and so do the trees above it.
			nt, err := tw.rewriteTree(s.Tree, moved, isSparse, memo)
			if err != nil {
				return fmt.Errorf("rewrite snapshot %s after repacking: %w (its old packs stay until it is rewritten)", s.ID, err)
			}
			ns.Tree, changed = nt, nt != s.Tree
		} else {
			ns.Files = make([]File, len(s.Files))
			for fi, f := range s.Files {
				ns.Files[fi] = f
				for ci, c := range f.Chunks {
					if !isSparse[c.Pack] {
						continue
					}
					if &ns.Files[fi].Chunks[0] == &f.Chunks[0] { // first change: copy
						ns.Files[fi].Chunks = append([]Ref(nil), f.Chunks...)
					}
					ns.Files[fi].Chunks[ci] = moved[c.ID]
					changed = true
				}
			}
		}
		if !changed {
			continue
		}
		if _, err := v.storeSnapshot(ctx, ns, tw); err != nil {
			return fmt.Errorf("rewrite snapshot %s after repacking: %w (its old packs stay until it is rewritten)", ns.ID, err)
		}
		v.mu.Lock()
		delete(v.snaps, ns.ID)
		v.mu.Unlock()
	}
	if err := tw.commit(); err != nil {
		return err
	}
	res.PacksRepacked = len(sparse)
	return nil
}
