package vault

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"atelier/sync/remote"
)

// Format 2 of the vault (see docs/remote-layout.md, "Trees"): a snapshot
// names a root tree, and each directory is a content-addressed tree object
// shared by every snapshot in which that directory is the same. A snapshot
// after one changed file writes the trees on that file's path, not the
// whole listing. Format-1 snapshots (one object listing every file) are
// still read; the first snapshot committed by this version migrates the
// vault (config version 2).

// TreeEntry is one name in a directory: a file with its content, or a
// sub-directory whose tree object is Tree.
type TreeEntry struct {
	Name    string      `json:"name"`
	Tree    string      `json:"tree,omitempty"`
	Size    int64       `json:"size,omitempty"`
	Mode    fs.FileMode `json:"mode,omitempty"`
	ModTime time.Time   `json:"mtime,omitzero"`
	SHA256  string      `json:"sha256,omitempty"`
	Chunks  []Ref       `json:"chunks,omitempty"`
	// Lists replace Chunks in a stored tree for a file of many chunks:
	// the chunk list is cut into content-defined pieces stored as list
	// objects, so a small edit of a large file stores a piece or two of
	// its list, not all of it. LoadTree fills Chunks from them.
	Lists []string `json:"lists,omitempty"`
}

// listMin is the number of chunks from which a file's chunk list is
// stored in list objects.
const listMin = 64

// IsDir reports whether the entry is a directory.
func (e TreeEntry) IsDir() bool { return e.Tree != "" }

// File is the entry as the file at p.
func (e TreeEntry) File(p string) File {
	return File{Path: p, Size: e.Size, Mode: e.Mode, ModTime: e.ModTime, SHA256: e.SHA256, Chunks: e.Chunks}
}

func entryOf(name string, f File) TreeEntry {
	return TreeEntry{Name: name, Size: f.Size, Mode: f.Mode, ModTime: f.ModTime, SHA256: f.SHA256, Chunks: f.Chunks}
}

// Tree is one directory of a snapshot, entries in name order (a file
// before a directory of the same name, which only a merge of two devices'
// histories can produce).
type Tree struct {
	Entries []TreeEntry `json:"entries"`
	// Pieces replace Entries in a stored tree of a large directory: its
	// entries cut into content-defined pieces, each a tree object of its
	// own, so one changed file in a folder of thousands stores one piece.
	// LoadTree fills Entries from them.
	Pieces []string `json:"pieces,omitempty"`
}

// pieceMin is the number of entries from which a directory is stored in
// pieces.
const pieceMin = 128

// cutEntries cuts a directory's entries where an entry's name hash ends a
// piece (about 64 entries a piece, at most 256): an added or removed file
// changes the piece around it only.
func cutEntries(es []TreeEntry) [][]TreeEntry {
	var out [][]TreeEntry
	start := 0
	for i, e := range es {
		h := fnv.New32a()
		h.Write([]byte(e.Name))
		if h.Sum32()%64 == 0 || i-start+1 >= 256 {
			out = append(out, es[start:i+1])
			start = i + 1
		}
	}
	if start < len(es) {
		out = append(out, es[start:])
	}
	return out
}

func entryLess(a, b TreeEntry) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return !a.IsDir() && b.IsDir()
}

// check refuses a tree no honest writer makes: names that are empty, hold
// a slash or are . or .., entries out of order, malformed tree IDs.
func (t *Tree) check() error {
	for _, p := range t.Pieces {
		if !validTreeID(p) {
			return fmt.Errorf("piece %q: %w", p, ErrCorrupt)
		}
	}
	for i, e := range t.Entries {
		if e.Name == "" || e.Name == "." || e.Name == ".." || strings.ContainsAny(e.Name, "/\x00") {
			return fmt.Errorf("entry name %q: %w", e.Name, ErrCorrupt)
		}
		if e.IsDir() && !validTreeID(e.Tree) {
			return fmt.Errorf("entry %q names tree %q: %w", e.Name, e.Tree, ErrCorrupt)
		}
		for _, l := range e.Lists {
			if !validTreeID(l) {
				return fmt.Errorf("entry %q names chunk list %q: %w", e.Name, l, ErrCorrupt)
			}
		}
		if i > 0 && !entryLess(t.Entries[i-1], e) {
			return fmt.Errorf("entries %q and %q out of order: %w", t.Entries[i-1].Name, e.Name, ErrCorrupt)
		}
	}
	return nil
}

func validTreeID(id string) bool {
	if len(id) != 64 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func treeKey(id string) string { return "trees/" + id[:2] + "/" + id }

// treeID names a tree by a keyed hash of its plaintext JSON: the same
// directory gets the same ID in every snapshot, and the ID says nothing
// without the key.
func (v *Vault) treeID(plain []byte) string {
	b := make([]byte, 0, len(plain)+5)
	b = append(b, "tree\x00"...)
	b = append(b, plain...)
	id := v.k.chunkID(b)
	return id.String()
}

// treeCache keeps recently read trees; trees are immutable, but a repack
// makes a cached one name retired packs, so resets clear it. It is bounded
// by entries as well as trees: a first version of 100,000 files left every
// directory of the project cached (~25 MB held by an idle daemon).
type treeCache struct {
	mu      sync.Mutex
	m       map[string]*Tree
	entries int // entries of the cached trees
}

const (
	treeCacheMax        = 16384
	treeCacheMaxEntries = 65536
)

func (c *treeCache) get(id string) *Tree {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[id]
}

func (c *treeCache) put(id string, t *Tree) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*Tree{}
	}
	if old := c.m[id]; old != nil {
		c.entries -= len(old.Entries)
		delete(c.m, id)
	}
	// Evict about a quarter (map order: random) until both bounds hold (a
	// directory larger than the bound is then cached alone).
	for len(c.m) > 0 && (len(c.m) >= treeCacheMax || c.entries+len(t.Entries) > treeCacheMaxEntries) {
		n := 0
		for k, old := range c.m {
			delete(c.m, k)
			c.entries -= len(old.Entries)
			if n++; n > max(len(c.m)/4, 1) {
				break
			}
		}
	}
	c.m[id] = t
	c.entries += len(t.Entries)
}

// drop empties the cache and frees its map.
func (c *treeCache) drop() {
	c.mu.Lock()
	c.m = nil
	c.entries = 0
	c.mu.Unlock()
}

func (c *treeCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.entries = 0
	c.mu.Unlock()
}

// LoadTree reads the tree object id (cached).
func (v *Vault) LoadTree(ctx context.Context, id string) (*Tree, error) {
	if !validTreeID(id) {
		return nil, fmt.Errorf("tree ID %q: %w", id, ErrCorrupt)
	}
	if t := v.trees.get(id); t != nil {
		return t, nil
	}
	t := &Tree{}
	if err := v.getJSON(ctx, treeKey(id), t); err != nil {
		if errors.Is(err, remote.ErrNotFound) {
			return nil, fmt.Errorf("tree %s is missing from %s: %w; run `atelier sync verify PROJECT --repair`", id, v.s, err)
		}
		return nil, fmt.Errorf("read tree %s: %w", id, err)
	}
	if len(t.Pieces) > 0 {
		if len(t.Entries) > 0 {
			return nil, fmt.Errorf("tree %s has both entries and pieces: %w", id, ErrCorrupt)
		}
		for _, p := range t.Pieces {
			if !validTreeID(p) {
				return nil, fmt.Errorf("tree %s: piece %q: %w", id, p, ErrCorrupt)
			}
			var piece Tree
			if err := v.getJSON(ctx, treeKey(p), &piece); err != nil {
				return nil, fmt.Errorf("tree %s: piece %s: %w", id, p, err)
			}
			if len(piece.Pieces) > 0 {
				return nil, fmt.Errorf("tree %s: piece %s has pieces: %w", id, p, ErrCorrupt)
			}
			t.Entries = append(t.Entries, piece.Entries...)
		}
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("tree %s: %w", id, err)
	}
	for i, e := range t.Entries {
		if len(e.Lists) == 0 {
			continue
		}
		var chunks []Ref
		for _, l := range e.Lists {
			var part []Ref
			if err := v.getJSON(ctx, listKey(l), &part); err != nil {
				return nil, fmt.Errorf("tree %s: chunk list of %q: %w", id, e.Name, err)
			}
			chunks = append(chunks, part...)
		}
		t.Entries[i].Chunks = chunks
	}
	v.trees.put(id, t)
	return t, nil
}

func listKey(id string) string { return "lists/" + id[:2] + "/" + id }

// cutLists cuts a chunk list where a chunk ID ends a piece (its first two
// bytes ≡ 0 mod 128, so about 128 chunks a piece, at most 512): the cuts
// depend on the content, so an edit changes the pieces around it only.
func cutLists(refs []Ref) [][]Ref {
	var out [][]Ref
	start := 0
	for i, r := range refs {
		if (uint16(r.ID[0])<<8|uint16(r.ID[1]))%128 == 0 || i-start+1 >= 512 {
			out = append(out, refs[start:i+1])
			start = i + 1
		}
	}
	if start < len(refs) {
		out = append(out, refs[start:])
	}
	return out
}

// storeLists stores the pieces of a long chunk list and returns their IDs.
func (tw *treeWriter) storeLists(refs []Ref) ([]string, error) {
	var ids []string
	for _, part := range cutLists(refs) {
		plain, err := json.Marshal(part)
		if err != nil {
			return nil, err
		}
		b := append([]byte("list\x00"), plain...)
		id := tw.v.k.chunkID(b).String()
		ids = append(ids, id)
		if _, ok := tw.known["list/"+id]; ok {
			continue
		}
		if _, ok, err := tw.v.st.Get("list/" + id); err != nil {
			return nil, err
		} else if ok {
			continue
		}
		key := listKey(id)
		sealed, err := tw.v.sealJSON(key, part)
		if err != nil {
			return nil, err
		}
		if err := tw.v.s.Put(tw.ctx, key, sealed, remote.PutOptions{}); err != nil {
			return nil, fmt.Errorf("store chunk list %s: %w", key, err)
		}
		tw.written++
		tw.bytes += int64(len(sealed))
		tw.known["list/"+id] = []byte{1}
	}
	return ids, nil
}

// treeWriter stores the trees of one commit, skipping those the vault is
// known to hold (local state "tree/<id>", recorded after the write).
type treeWriter struct {
	v       *Vault
	ctx     context.Context
	known   map[string][]byte // new state entries, applied once at the end
	written int               // tree objects stored
	bytes   int64             // their sealed size
}

func (v *Vault) newTreeWriter(ctx context.Context) *treeWriter {
	return &treeWriter{v: v, ctx: ctx, known: map[string][]byte{}}
}

func (tw *treeWriter) store(t *Tree) (string, error) {
	if t.Entries == nil {
		t.Entries = []TreeEntry{}
	}
	// The stored form: long chunk lists as list objects.
	stored := &Tree{Entries: make([]TreeEntry, len(t.Entries))}
	for i, e := range t.Entries {
		e.Lists = nil
		if !e.IsDir() && len(e.Chunks) >= listMin {
			ids, err := tw.storeLists(e.Chunks)
			if err != nil {
				return "", err
			}
			t.Entries[i].Lists = ids
			e.Lists, e.Chunks = ids, nil
		}
		stored.Entries[i] = e
	}
	t.Pieces = nil
	if len(stored.Entries) >= pieceMin {
		var ids []string
		for _, part := range cutEntries(stored.Entries) {
			id, err := tw.put(&Tree{Entries: part}, nil)
			if err != nil {
				return "", err
			}
			ids = append(ids, id)
		}
		t.Pieces = ids
		stored = &Tree{Pieces: ids}
	}
	return tw.put(stored, t)
}

// put stores the tree object stored (unless known) and caches mem, its
// resolved form (nil: a piece, read only through its tree).
func (tw *treeWriter) put(stored *Tree, mem *Tree) (string, error) {
	plain, err := json.Marshal(stored)
	if err != nil {
		return "", err
	}
	id := tw.v.treeID(plain)
	if _, ok := tw.known["tree/"+id]; ok {
		return id, nil
	}
	if _, ok, err := tw.v.st.Get("tree/" + id); err != nil {
		return "", err
	} else if ok {
		return id, nil
	}
	key := treeKey(id)
	sealed, err := tw.v.sealJSON(key, stored)
	if err != nil {
		return "", err
	}
	if err := tw.v.s.Put(tw.ctx, key, sealed, remote.PutOptions{}); err != nil {
		return "", fmt.Errorf("store tree %s: %w", key, err)
	}
	tw.written++
	tw.bytes += int64(len(sealed))
	tw.known["tree/"+id] = []byte{1}
	if mem != nil {
		tw.v.trees.put(id, mem)
	}
	return id, nil
}

// commit records the stored trees in the local state.
func (tw *treeWriter) commit() error {
	if len(tw.known) == 0 {
		return nil
	}
	return tw.v.st.Apply(tw.known, nil)
}

// node is a directory being assembled from a flat file list.
type node struct {
	files []TreeEntry
	dirs  map[string]*node
}

// buildFull stores the trees of files (any order) and returns the root ID.
func (tw *treeWriter) buildFull(files []File) (string, error) {
	root := &node{}
	for _, f := range files {
		if err := safePath(f.Path); err != nil {
			return "", fmt.Errorf("snapshot file %q: %w", f.Path, err)
		}
		n := root
		parts := strings.Split(f.Path, "/")
		for _, d := range parts[:len(parts)-1] {
			if n.dirs == nil {
				n.dirs = map[string]*node{}
			}
			c := n.dirs[d]
			if c == nil {
				c = &node{}
				n.dirs[d] = c
			}
			n = c
		}
		n.files = append(n.files, entryOf(parts[len(parts)-1], f))
	}
	return tw.storeNode(root)
}

func (tw *treeWriter) storeNode(n *node) (string, error) {
	t := &Tree{Entries: append([]TreeEntry(nil), n.files...)}
	for name, c := range n.dirs {
		id, err := tw.storeNode(c)
		if err != nil {
			return "", err
		}
		t.Entries = append(t.Entries, TreeEntry{Name: name, Tree: id})
	}
	sort.Slice(t.Entries, func(i, j int) bool { return entryLess(t.Entries[i], t.Entries[j]) })
	return tw.store(t)
}

// edit applies edits (path relative to this tree → new file, nil to
// delete) to the tree id ("" is empty) and returns the new tree's ID (""
// when it is left empty). replaced is told each file entry an edit
// replaced or deleted, under its full path (dir + name).
func (tw *treeWriter) edit(id, dir string, edits map[string]*File, replaced func(string, TreeEntry)) (string, error) {
	var old []TreeEntry
	if id != "" {
		t, err := tw.v.LoadTree(tw.ctx, id)
		if err != nil {
			return "", err
		}
		old = t.Entries
	}
	fileEdits := map[string]*File{}
	sub := map[string]map[string]*File{}
	for p, f := range edits {
		if i := strings.IndexByte(p, '/'); i >= 0 {
			d := p[:i]
			if sub[d] == nil {
				sub[d] = map[string]*File{}
			}
			sub[d][p[i+1:]] = f
		} else {
			fileEdits[p] = f
		}
	}
	// Sized for this directory's own entries, not every edit below it: the
	// tree is cached after it is stored, and a root sized by a first
	// version's 100,000 edits held 13 MB for one directory.
	out := make([]TreeEntry, 0, len(old)+len(fileEdits)+len(sub))
	seenDir := map[string]bool{}
	for _, e := range old {
		switch {
		case !e.IsDir():
			if f, ok := fileEdits[e.Name]; ok {
				replaced(dir+e.Name, e)
				if f != nil {
					out = append(out, entryOf(e.Name, *f))
				}
				delete(fileEdits, e.Name)
				continue
			}
			out = append(out, e)
		default:
			seenDir[e.Name] = true
			se, ok := sub[e.Name]
			if !ok {
				out = append(out, e)
				continue
			}
			nid, err := tw.edit(e.Tree, dir+e.Name+"/", se, replaced)
			if err != nil {
				return "", err
			}
			if nid != "" {
				out = append(out, TreeEntry{Name: e.Name, Tree: nid})
			}
		}
	}
	for name, f := range fileEdits {
		if f != nil {
			out = append(out, entryOf(name, *f))
		}
	}
	for d, se := range sub {
		if seenDir[d] {
			continue
		}
		nid, err := tw.edit("", dir+d+"/", se, replaced)
		if err != nil {
			return "", err
		}
		if nid != "" {
			out = append(out, TreeEntry{Name: d, Tree: nid})
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	sort.Slice(out, func(i, j int) bool { return entryLess(out[i], out[j]) })
	return tw.store(&Tree{Entries: out})
}

// emptyTree stores (once) and returns the ID of the tree with no entries:
// the root of a snapshot of an empty project.
func (tw *treeWriter) emptyTree() (string, error) { return tw.store(&Tree{}) }

// walkTree calls fn for every file under the tree id, with its full path
// (prefix + name), in tree order. seen (may be nil) skips trees already
// walked and is told every tree visited (prune marks them live).
func (v *Vault) walkTree(ctx context.Context, id, prefix string, seen map[string]bool, fn func(p string, e TreeEntry) error) error {
	if seen != nil {
		if seen[id] {
			return nil
		}
		seen[id] = true
	}
	t, err := v.LoadTree(ctx, id)
	if err != nil {
		return err
	}
	for _, p := range t.Pieces {
		if seen != nil {
			seen[p] = true // pieces are live with their tree
		}
	}
	for _, e := range t.Entries {
		if seen != nil {
			for _, l := range e.Lists {
				seen[l] = true // chunk lists are live with their tree
			}
		}
		if e.IsDir() {
			if err := v.walkTree(ctx, e.Tree, prefix+e.Name+"/", seen, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(prefix+e.Name, e); err != nil {
			return err
		}
	}
	return nil
}

// flatten fills s.Files from its trees.
func (v *Vault) flatten(ctx context.Context, s *Snapshot) error {
	var files []File
	err := v.walkTree(ctx, s.Tree, "", nil, func(p string, e TreeEntry) error {
		files = append(files, e.File(p))
		return nil
	})
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", s.ID, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	s.Files = files
	return nil
}

// Lookup finds the file at p in snap, reading only the trees on its path
// (a format-1 snapshot is searched in its file list).
func (v *Vault) Lookup(ctx context.Context, snap *Snapshot, p string) (File, bool, error) {
	if snap.Tree == "" || snap.Files != nil {
		f, ok := snap.byPath()[p]
		if !ok {
			return File{}, false, nil
		}
		return *f, true, nil
	}
	parts := strings.Split(p, "/")
	id := snap.Tree
	for i, name := range parts {
		t, err := v.LoadTree(ctx, id)
		if err != nil {
			return File{}, false, err
		}
		last := i == len(parts)-1
		j := sort.Search(len(t.Entries), func(k int) bool { return t.Entries[k].Name >= name })
		found := false
		for ; j < len(t.Entries) && t.Entries[j].Name == name; j++ {
			e := t.Entries[j]
			if last && !e.IsDir() {
				return e.File(p), true, nil
			}
			if !last && e.IsDir() {
				id, found = e.Tree, true
				break
			}
		}
		if !found {
			return File{}, false, nil
		}
	}
	return File{}, false, nil
}

// ReadDir lists the directory dir ("" is the project's top) of snap: its
// files and sub-directories, in name order.
func (v *Vault) ReadDir(ctx context.Context, snap *Snapshot, dir string) ([]TreeEntry, error) {
	dir = strings.Trim(dir, "/")
	if snap.Tree == "" || snap.Files != nil {
		return readDirFlat(snap.Files, dir), nil
	}
	id := snap.Tree
	if dir != "" {
		for _, name := range strings.Split(dir, "/") {
			t, err := v.LoadTree(ctx, id)
			if err != nil {
				return nil, err
			}
			next := ""
			for _, e := range t.Entries {
				if e.Name == name && e.IsDir() {
					next = e.Tree
				}
			}
			if next == "" {
				return nil, fmt.Errorf("no folder %q in snapshot %s: %w", dir, snap.ID, fs.ErrNotExist)
			}
			id = next
		}
	}
	t, err := v.LoadTree(ctx, id)
	if err != nil {
		return nil, err
	}
	return append([]TreeEntry(nil), t.Entries...), nil
}

func readDirFlat(files []File, dir string) []TreeEntry {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	var out []TreeEntry
	dirs := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, prefix) {
			continue
		}
		rest := f.Path[len(prefix):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			if !dirs[rest[:i]] {
				dirs[rest[:i]] = true
				// format 1 has no tree IDs: a marker that is a valid ID
				out = append(out, TreeEntry{Name: rest[:i], Tree: strings.Repeat("0", 64)})
			}
			continue
		}
		out = append(out, entryOf(rest, f))
	}
	sort.Slice(out, func(i, j int) bool { return entryLess(out[i], out[j]) })
	return out
}

// snapshotWire is a snapshot object as stored. In format 2, "files" is the
// string "tree": Atelier versions that predate trees refuse such a snapshot
// as damaged rather than read it as an empty project.
// It carries Snapshot's fields (same names and order on the wire); its own
// Files shadows Snapshot.Files. Set Snapshot before unmarshalling into it.
type snapshotWire struct {
	*Snapshot
	Files json.RawMessage `json:"files"`
}

var treeMarker = json.RawMessage(`"tree"`)

// loadHeader reads a snapshot object without reading its trees: Files is
// nil for a format-2 snapshot (use Lookup, ReadDir, walkTree).
func (v *Vault) loadHeader(ctx context.Context, id string) (*Snapshot, error) {
	s := &Snapshot{}
	w := snapshotWire{Snapshot: s}
	if err := v.getJSON(ctx, snapshotKey(id), &w); err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", id, err)
	}
	if w.ID != id {
		return nil, fmt.Errorf("snapshot %s names itself %s: %w", id, w.ID, ErrCorrupt)
	}
	if w.Tree != "" {
		if !validTreeID(w.Tree) {
			return nil, fmt.Errorf("snapshot %s names tree %q: %w", id, w.Tree, ErrCorrupt)
		}
		return s, nil
	}
	if err := json.Unmarshal(w.Files, &s.Files); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w: %v", id, ErrCorrupt, err)
	}
	if s.Files == nil {
		s.Files = []File{}
	}
	return s, nil
}

// SnapshotHeader reads the snapshot id without its trees (cheap): for
// Lookup and ReadDir.
func (v *Vault) SnapshotHeader(ctx context.Context, id string) (*Snapshot, error) {
	v.mu.Lock()
	s := v.snaps[id]
	v.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return v.loadHeader(ctx, id)
}

// storeSnapshot writes snap in format 2: the trees of its files (when it
// has no root yet), then the snapshot object.
func (v *Vault) storeSnapshot(ctx context.Context, snap *Snapshot, tw *treeWriter) (int64, error) {
	if snap.Tree == "" {
		root, err := tw.buildFull(snap.Files)
		if err != nil {
			return 0, err
		}
		snap.Tree = root
	}
	if err := v.migrate(ctx); err != nil {
		return 0, err
	}
	w := snapshotWire{Snapshot: snap, Files: treeMarker}
	b, err := v.sealJSON(snapshotKey(snap.ID), w)
	if err != nil {
		return 0, err
	}
	if err := v.s.Put(ctx, snapshotKey(snap.ID), b, remote.PutOptions{}); err != nil {
		return 0, fmt.Errorf("store snapshot of %s: %w", snap.Project, err)
	}
	return int64(len(b)), nil
}

// migrate raises the config of a format-1 vault to format 2 before the
// first tree snapshot is stored, so Atelier versions that cannot read
// trees refuse the vault instead of misreading it.
func (v *Vault) migrate(ctx context.Context) error {
	if v.cfg.Version >= Version {
		return nil
	}
	cfg := v.cfg
	cfg.Version = Version
	cb, _ := json.MarshalIndent(cfg, "", "  ")
	if err := v.s.Put(ctx, "config", cb, remote.PutOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("migrate the vault on %s to format %d: %w", v.s, Version, err)
	}
	v.log.Info("vault migrated to tree snapshots", "remote", v.s.String(), "from", v.cfg.Version, "to", Version)
	v.cfg = cfg
	return nil
}

// rewriteTree returns the ID of the tree id with every chunk in moved
// pointing at its new place (memo: old ID → new ID).
func (tw *treeWriter) rewriteTree(id string, moved map[ID]Ref, isSparse map[string]bool, memo map[string]string) (string, error) {
	if n, ok := memo[id]; ok {
		return n, nil
	}
	t, err := tw.v.LoadTree(tw.ctx, id)
	if err != nil {
		return "", err
	}
	nt := &Tree{Entries: make([]TreeEntry, len(t.Entries))}
	changed := false
	for i, e := range t.Entries {
		nt.Entries[i] = e
		if e.IsDir() {
			nid, err := tw.rewriteTree(e.Tree, moved, isSparse, memo)
			if err != nil {
				return "", err
			}
			if nid != e.Tree {
				nt.Entries[i].Tree = nid
				changed = true
			}
			continue
		}
		copied := false
		for ci, c := range e.Chunks {
			if !isSparse[c.Pack] {
				continue
			}
			if !copied {
				nt.Entries[i].Chunks = append([]Ref(nil), e.Chunks...)
				copied = true
			}
			nt.Entries[i].Chunks[ci] = moved[c.ID]
			changed = true
		}
	}
	nid := id
	if changed {
		if nid, err = tw.store(nt); err != nil {
			return "", err
		}
	}
	memo[id] = nid
	return nid, nil
}

// Diff compares two snapshots of a project and calls fn for every path
// whose file differs: old nil for an added file, new nil for a removed one.
// Trees with the same ID are skipped unread, so comparing two close
// points of a large project reads only what changed.
func (v *Vault) Diff(ctx context.Context, a, b *Snapshot, fn func(p string, old, new *File) error) error {
	if a.Tree == "" || b.Tree == "" {
		fa, fb, err := v.filesOf(ctx, a, b)
		if err != nil {
			return err
		}
		ma, mb := map[string]*File{}, map[string]*File{}
		for i := range fa {
			ma[fa[i].Path] = &fa[i]
		}
		for i := range fb {
			mb[fb[i].Path] = &fb[i]
		}
		var paths []string
		for p := range ma {
			paths = append(paths, p)
		}
		for p := range mb {
			if ma[p] == nil {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			o, n := ma[p], mb[p]
			if o != nil && n != nil && o.SHA256 == n.SHA256 && o.Size == n.Size {
				continue
			}
			if err := fn(p, o, n); err != nil {
				return err
			}
		}
		return nil
	}
	return v.diffTrees(ctx, a.Tree, b.Tree, "", fn)
}

func (v *Vault) filesOf(ctx context.Context, a, b *Snapshot) ([]File, []File, error) {
	get := func(s *Snapshot) ([]File, error) {
		if s.Tree == "" || s.Files != nil {
			return s.Files, nil
		}
		full, err := v.LoadSnapshot(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		return full.Files, nil
	}
	fa, err := get(a)
	if err != nil {
		return nil, nil, err
	}
	fb, err := get(b)
	return fa, fb, err
}

func (v *Vault) diffTrees(ctx context.Context, ida, idb, prefix string, fn func(p string, old, new *File) error) error {
	if ida == idb {
		return nil
	}
	var ea, eb []TreeEntry
	if ida != "" {
		t, err := v.LoadTree(ctx, ida)
		if err != nil {
			return err
		}
		ea = t.Entries
	}
	if idb != "" {
		t, err := v.LoadTree(ctx, idb)
		if err != nil {
			return err
		}
		eb = t.Entries
	}
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		var a, b *TreeEntry
		switch {
		case j >= len(eb) || (i < len(ea) && entryLess(ea[i], eb[j])):
			a = &ea[i]
			i++
		case i >= len(ea) || entryLess(eb[j], ea[i]):
			b = &eb[j]
			j++
		default:
			a, b = &ea[i], &eb[j]
			i++
			j++
		}
		e := a
		if e == nil {
			e = b
		}
		p := prefix + e.Name
		if e.IsDir() {
			ta, tb := "", ""
			if a != nil {
				ta = a.Tree
			}
			if b != nil {
				tb = b.Tree
			}
			if err := v.diffTrees(ctx, ta, tb, p+"/", fn); err != nil {
				return err
			}
			continue
		}
		var fo, fnw *File
		if a != nil {
			f := a.File(p)
			fo = &f
		}
		if b != nil {
			f := b.File(p)
			fnw = &f
		}
		if fo != nil && fnw != nil && fo.SHA256 == fnw.SHA256 && fo.Size == fnw.Size {
			continue
		}
		if err := fn(p, fo, fnw); err != nil {
			return err
		}
	}
	return nil
}
