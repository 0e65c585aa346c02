package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Copying snapshots between vaults (docs/remote-layout.md, "One history,
// two vaults"): local history takes the snapshots, and cloud sync copies
// them to the remote vault, like `restic copy` or `kopia snapshot copy`.
// The two vaults have their own keys, so a chunk's ID differs between them
// (IDs are keyed HMACs): a chunk the destination lacks is opened, named
// with the destination's key and sealed again, never cut again, so the
// source's chunk boundaries (and their deduplication across versions) carry
// over. Which source chunk is which destination chunk is remembered in the
// destination's state (xchunk/, a pure function of the content), and which
// source tree became which destination tree (xtree/, dropped with the
// chunk index when the destination's epoch changes), so a copy after one
// changed file opens the trees on that file's path and nothing else.

// ErrNeedsMerge is CopyFrom's answer when the destination's history of the
// project moved on since this device last had it in common (another device
// committed), or the destination has lost data to heal: the caller merges
// with Sync instead of copying.
var ErrNeedsMerge = errors.New("the vault has changes from elsewhere: merge with a sync")

// CopyOptions say what CopyFrom copies.
type CopyOptions struct {
	// Project is the project's name in both vaults.
	Project string
	// Snapshot is the source snapshot ("": the source's newest of Project).
	Snapshot string
	// Select keeps a file (nil: every file). Folders left empty are
	// dropped.
	Select func(path string, size int64) bool
	// SelectKey names Select: trees copied under one key are reused only
	// by copies under the same key (change it when the selection changes).
	SelectKey string
	Progress  func(Progress)
}

// CopyResult is what a copy stored.
type CopyResult struct {
	Head     Head `json:"head"`
	NoChange bool `json:"noChange"`
	// Chunks opened in the source and stored in the destination, and
	// those the destination already held.
	ChunksCopied  int   `json:"chunksCopied"`
	ChunksDeduped int   `json:"chunksDeduped"`
	FilesCopied   int   `json:"filesCopied"`  // files with chunks copied
	BytesNew      int64 `json:"bytesNew"`     // plaintext of the copied chunks
	BytesDeduped  int64 `json:"bytesDeduped"` // plaintext the destination held
	BytesSent     int64 `json:"bytesSent"`    // packs written
	Trees         int   `json:"trees"`        // source trees translated (not reused)
}

// copier translates one source snapshot into the destination.
type copier struct {
	dst, src *Vault
	ctx      context.Context
	o        CopyOptions
	tw       *treeWriter
	u        *uploader
	tr       *tracker
	res      *CopyResult
	parent   *Snapshot         // the destination's newest snapshot (nil: none)
	xchunk   map[string][]byte // new xchunk/ entries
	xtree    map[string][]byte // new xtree/ entries
	files    int
	bytes    int64
}

func (c *copier) xtreeKey(srcTree string) string {
	return "xtree/" + c.src.cfg.ID + "/" + c.o.SelectKey + "/" + srcTree
}

func (c *copier) xchunkKey(id ID) string { return "xchunk/" + c.src.cfg.ID + "/" + id.String() }

// xtreeVal is what a translated tree stands for.
type xtreeVal struct {
	Tree  string `json:"t"` // "": nothing selected in it
	Files int    `json:"f"`
	Bytes int64  `json:"b"`
}

// CopyFrom copies a snapshot of o.Project from src into v as the project's
// next snapshot in v: only the chunks and trees v lacks are stored. It
// commits only on top of the snapshot this device last had in common with
// v (ErrNeedsMerge otherwise) and records the new head as that snapshot.
func (v *Vault) CopyFrom(ctx context.Context, src *Vault, o CopyOptions) (CopyResult, error) {
	res := CopyResult{}
	if _, err := v.checkEpoch(ctx); err != nil {
		return res, err
	}
	lost, err := v.lostChunks(o.Project)
	if err != nil {
		return res, err
	}
	if len(lost) > 0 {
		return res, fmt.Errorf("%w (%d chunks of %s are lost on %s)", ErrNeedsMerge, len(lost), o.Project, v.s)
	}
	lh, have, err := v.localHead(o.Project)
	if err != nil {
		return res, err
	}
	rh, rhave, err := v.latestHead(ctx, o.Project, lh, have)
	if err != nil {
		return res, err
	}
	if rhave && (!have || rh.Snapshot != lh.Snapshot) {
		return res, ErrNeedsMerge
	}
	var snap *Snapshot
	if o.Snapshot == "" {
		snap, err = src.FindSnapshot(ctx, o.Project, "")
		if err == nil {
			snap, err = src.SnapshotHeader(ctx, snap.ID)
		}
	} else {
		snap, err = src.SnapshotHeader(ctx, o.Snapshot)
	}
	if err != nil {
		return res, fmt.Errorf("copy %s from %s: %w", o.Project, src.s, err)
	}
	tr := newTracker(o.Progress, v.o.Gate)
	defer tr.stop()
	tr.setPhase("upload")
	c := &copier{dst: v, src: src, ctx: ctx, o: o, tw: v.newTreeWriter(ctx), tr: tr, res: &res,
		xchunk: map[string][]byte{}, xtree: map[string][]byte{}}
	if rhave {
		if c.parent, err = v.SnapshotHeader(ctx, rh.Snapshot); err != nil {
			return res, err
		}
	}
	c.u = v.newUploader(ctx, tr)
	var root xtreeVal
	if snap.Tree != "" {
		root, err = c.tree(snap.Tree, "")
	} else {
		// A format-1 source snapshot: its listing becomes trees here.
		root, err = c.flat(snap.Files)
	}
	if ferr := c.u.finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return res, fmt.Errorf("copy %s from %s to %s: %w", o.Project, src.s, v.s, err)
	}
	res.BytesSent, res.BytesDeduped = tr.bytesSent.Load(), tr.bytesDeduped.Load()
	if root.Tree == "" {
		if root.Tree, err = c.tw.emptyTree(); err != nil {
			return res, err
		}
	}
	// Chunk state is written by the uploader once packs are stored; the
	// trees and the translations are recorded only now that they are.
	if err := c.tw.commit(); err != nil {
		return res, err
	}
	puts := c.xchunk
	for k, b := range c.xtree {
		puts[k] = b
	}
	if len(puts) > 0 {
		if err := v.st.Apply(puts, nil); err != nil {
			return res, fmt.Errorf("record the copy of %s in the local state: %w", o.Project, err)
		}
	}
	tr.setPhase("commit")
	if c.parent != nil && c.parent.Tree == root.Tree {
		res.NoChange, res.Head = true, rh
		tr.setPhase("done")
		return res, nil
	}
	out := &Snapshot{ID: randHex(16), Project: o.Project, Device: v.o.Device, Time: snap.Time.UTC(), Tree: root.Tree}
	if out.Time.IsZero() {
		out.Time = time.Now().UTC()
	}
	out.Seq = 1
	if rhave {
		out.Seq, out.Parent = rh.Seq+1, rh.Snapshot
	}
	if _, err := v.storeSnapshot(ctx, out, c.tw); err != nil {
		return res, err
	}
	head := Head{Project: o.Project, Seq: out.Seq, Snapshot: out.ID, Parent: out.Parent, Device: v.o.Device, Time: out.Time, Files: root.Files, Bytes: root.Bytes}
	if _, err := v.putHead(ctx, head); err != nil {
		if errors.Is(err, errRace) {
			return res, ErrNeedsMerge
		}
		return res, err
	}
	if err := v.setLocalHead(o.Project, head); err != nil {
		return res, err
	}
	res.Head = head
	tr.setPhase("done")
	v.log.Info("snapshot copied", "project", o.Project, "from", src.s.String(), "to", v.s.String(), "seq", head.Seq, "chunks", res.ChunksCopied, "deduped", res.ChunksDeduped, "trees", res.Trees)
	return res, nil
}

// tree translates the source tree id (at dir) and returns the destination
// tree, reusing the translation of an earlier copy.
func (c *copier) tree(id, dir string) (xtreeVal, error) {
	if b, ok := c.xtree[c.xtreeKey(id)]; ok {
		var x xtreeVal
		return x, json.Unmarshal(b, &x)
	}
	if b, ok, err := c.dst.st.Get(c.xtreeKey(id)); err != nil {
		return xtreeVal{}, err
	} else if ok {
		var x xtreeVal
		if json.Unmarshal(b, &x) == nil {
			if x.Tree == "" {
				return x, nil
			}
			if _, ok, err := c.dst.st.Get("tree/" + x.Tree); err != nil {
				return xtreeVal{}, err
			} else if ok {
				return x, nil
			}
			// The destination was pruned since (its tree index is
			// dropped with the epoch): a tree still there is reused, as a
			// sync carries an unchanged file's references over.
			if _, err := c.dst.LoadTree(c.ctx, x.Tree); err == nil {
				c.tw.known["tree/"+x.Tree] = []byte{1}
				return x, nil
			}
		}
	}
	if err := c.ctx.Err(); err != nil {
		return xtreeVal{}, err
	}
	t, err := c.src.LoadTree(c.ctx, id)
	if err != nil {
		return xtreeVal{}, err
	}
	c.res.Trees++
	var out xtreeVal
	nt := &Tree{Entries: make([]TreeEntry, 0, len(t.Entries))}
	for _, e := range t.Entries {
		p := e.Name
		if dir != "" {
			p = dir + "/" + e.Name
		}
		if e.IsDir() {
			sub, err := c.tree(e.Tree, p)
			if err != nil {
				return xtreeVal{}, err
			}
			if sub.Tree != "" {
				nt.Entries = append(nt.Entries, TreeEntry{Name: e.Name, Tree: sub.Tree})
				out.Files += sub.Files
				out.Bytes += sub.Bytes
			}
			continue
		}
		if c.o.Select != nil && !c.o.Select(p, e.Size) {
			continue
		}
		f, err := c.file(e.File(p))
		if err != nil {
			return xtreeVal{}, err
		}
		nt.Entries = append(nt.Entries, entryOf(e.Name, f))
		out.Files++
		out.Bytes += f.Size
	}
	if len(nt.Entries) > 0 {
		if out.Tree, err = c.tw.store(nt); err != nil {
			return xtreeVal{}, err
		}
	}
	b, _ := json.Marshal(out)
	c.xtree[c.xtreeKey(id)] = b
	return out, nil
}

// flat translates a format-1 listing.
func (c *copier) flat(files []File) (xtreeVal, error) {
	var out xtreeVal
	var kept []File
	for _, f := range files {
		if c.o.Select != nil && !c.o.Select(f.Path, f.Size) {
			continue
		}
		nf, err := c.file(f)
		if err != nil {
			return out, err
		}
		kept = append(kept, nf)
		out.Files++
		out.Bytes += nf.Size
	}
	if len(kept) == 0 {
		return out, nil
	}
	var err error
	out.Tree, err = c.tw.buildFull(kept)
	return out, err
}

// file translates f's chunk references: a chunk the destination holds is
// referenced where it is; any other is read from the source (verified),
// named with the destination's key and sealed into a destination pack.
func (c *copier) file(f File) (File, error) {
	c.tr.setFile(f.Path)
	out := f
	out.Chunks = make([]Ref, len(f.Chunks))
	var need []int // indexes of chunks to read from the source
	for i, r := range f.Chunks {
		did, ok, err := c.dstID(r.ID)
		if err != nil {
			return f, err
		}
		if ok {
			if ref, known, err := c.dst.knownChunk(did); err != nil {
				return f, err
			} else if known {
				out.Chunks[i] = ref
				c.res.ChunksDeduped++
				c.tr.bytesDeduped.Add(r.Size())
				continue
			}
		}
		need = append(need, i)
	}
	if len(need) == 0 {
		return out, nil
	}
	if c.parent != nil {
		// The same content at the same path in the destination's newest
		// snapshot (a sync stored it, or pulled it from another device):
		// its references carry over, as a sync's do.
		pf, ok, err := c.dst.Lookup(c.ctx, c.parent, f.Path)
		if err != nil {
			return f, err
		}
		if ok && pf.SHA256 == f.SHA256 && pf.Size == f.Size && f.SHA256 != "" {
			out.Chunks = pf.Chunks
			c.res.ChunksDeduped += len(need)
			for _, i := range need {
				c.tr.bytesDeduped.Add(f.Chunks[i].Size())
			}
			return out, nil
		}
	}
	refs := make([]Ref, len(need))
	for j, i := range need {
		refs[j] = f.Chunks[i]
	}
	c.res.FilesCopied++
	j := 0
	for _, run := range runs(refs) {
		if err := c.dst.o.Gate.Wait(c.u.ctx); err != nil {
			return f, err
		}
		parts, err := c.src.fetchRun(c.ctx, run)
		if err != nil {
			return f, fmt.Errorf("read %s: %w", f.Path, err)
		}
		for k, plain := range parts {
			src := run[k]
			did := c.dst.k.chunkID(plain)
			c.xchunk[c.xchunkKey(src.ID)] = did[:]
			ref, known, err := c.dst.knownChunk(did)
			if err != nil {
				return f, err
			}
			n := int64(len(plain))
			if known {
				c.res.ChunksDeduped++
				c.tr.bytesDeduped.Add(n)
			} else {
				sealed := c.dst.k.seal(getBuf(&sealPool, len(plain)+overhead), plain, did[:])
				var dup bool
				ref, dup, err = c.u.add(did, sealed)
				putBuf(&sealPool, sealed)
				if err != nil {
					return f, err
				}
				if dup {
					c.res.ChunksDeduped++
					c.tr.bytesDeduped.Add(n)
				} else {
					c.res.ChunksCopied++
					c.res.BytesNew += n
					c.tr.bytesNew.Add(n)
				}
			}
			c.tr.bytesDone.Add(n)
			out.Chunks[need[j]] = ref
			j++
		}
	}
	return out, nil
}

// dstID is the destination's ID of the source chunk id, when a copy
// already read that chunk.
func (c *copier) dstID(id ID) (ID, bool, error) {
	var did ID
	b, ok := c.xchunk[c.xchunkKey(id)]
	if !ok {
		var err error
		if b, ok, err = c.dst.st.Get(c.xchunkKey(id)); err != nil || !ok {
			return did, false, err
		}
	}
	if len(b) != len(did) {
		return did, false, nil
	}
	copy(did[:], b)
	return did, true, nil
}
