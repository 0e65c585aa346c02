// Package vault is the private, encrypted, deduplicated side of sync: files
// are cut with FastCDC, chunks are named by keyed HMACs, sealed with
// AES-256-GCM, packed into packs of a few MiB, and described by versioned
// snapshots. The remote layout is documented in docs/remote-layout.md.
//
// A vault needs a remote.Storage and a State (the durable local state the
// app keeps in its database); it knows nothing else of the app.
package vault

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"atelier/sync/remote"
)

// Format version of the vault layout: 2 stores snapshots as trees (see
// tree.go); a format-1 vault is read as it is and migrated by the first
// snapshot this version commits.
const Version = 2

// ErrNoVault means the remote holds no vault yet (see Init).
var ErrNoVault = errors.New("no vault on this remote")

// Config is the plaintext object "config": everything needed to unlock and
// read the vault, and nothing secret.
type Config struct {
	Version  int       `json:"version"`
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	KDF      KDFParams `json:"kdf"`
	Cipher   string    `json:"cipher"`   // "aes-256-gcm"
	ChunkID  string    `json:"chunkId"`  // "hmac-sha256"
	Chunker  Chunker   `json:"chunker"`  // FastCDC sizes
	PackSize int       `json:"packSize"` // target pack size in bytes
}

// Chunker are FastCDC sizes.
type Chunker struct {
	Min int `json:"min"`
	Avg int `json:"avg"`
	Max int `json:"max"`
}

// DefaultChunker: 512 KiB average keeps the bytes re-sent after a small edit
// well under 2 MiB while a 1 GiB project stays around 2,000 chunks.
var DefaultChunker = Chunker{Min: 128 << 10, Avg: 512 << 10, Max: 2 << 20}

// Options open a vault.
type Options struct {
	Storage    remote.Storage
	State      State
	Passphrase []byte
	Device     string // this machine's name, used in conflict copies
	Log        *slog.Logger
	// Uploads is how many packs upload at once (default 4).
	Uploads int
	// Gate pauses transfers (nil: never paused).
	Gate *Gate
	// KDF and PackSize apply when Init creates a vault (tests use a cheap KDF).
	KDF      *KDFParams
	PackSize int
	Chunker  *Chunker
	// DownloadAttempts is how often a corrupt download is fetched again
	// before giving up (default 3).
	DownloadAttempts int
	// OnCorrupt is told about every download that failed verification.
	OnCorrupt func(object string, err error)
	// GOOS is the platform whose file-name rules apply to files written
	// here ("": this one; tests set "windows").
	GOOS string
}

// Vault is an unlocked vault.
type Vault struct {
	o   Options
	s   remote.Storage
	st  State
	cfg Config
	k   *keys
	log *slog.Logger

	mu    sync.Mutex
	snaps map[string]*Snapshot // cache of recently used snapshots by ID
	trees treeCache
}

// Init creates a vault on an empty remote, or opens the one already there.
func Init(ctx context.Context, o Options) (*Vault, error) {
	v, err := Open(ctx, o)
	if !errors.Is(err, ErrNoVault) {
		return v, err
	}
	if len(o.Passphrase) == 0 {
		return nil, errors.New("a new vault needs a passphrase: set one in the Sync view, with --passphrase-file or ATELIER_VAULT_PASSPHRASE")
	}
	kdf := DefaultKDF()
	if o.KDF != nil {
		kdf = *o.KDF
	}
	ch := DefaultChunker
	if o.Chunker != nil {
		ch = *o.Chunker
	}
	ps := 16 << 20
	if o.PackSize > 0 {
		ps = o.PackSize
	}
	cfg := Config{Version: Version, ID: randHex(16), Created: time.Now().UTC(), KDF: kdf, Cipher: "aes-256-gcm", ChunkID: "hmac-sha256", Chunker: ch, PackSize: ps}
	master := make([]byte, 32)
	rand.Read(master)
	kf, err := sealMaster(master, o.Passphrase, kdf)
	if err != nil {
		return nil, err
	}
	cb, _ := json.MarshalIndent(cfg, "", "  ")
	if err := o.Storage.Put(ctx, "keys/main", kf, remote.PutOptions{ContentType: "application/json", IfNotExist: true}); err != nil && !errors.Is(err, remote.ErrExists) {
		return nil, fmt.Errorf("create vault on %s: %w", o.Storage, err)
	}
	// config goes last: a vault exists once its config does.
	if err := o.Storage.Put(ctx, "config", cb, remote.PutOptions{ContentType: "application/json", IfNotExist: true}); err != nil && !errors.Is(err, remote.ErrExists) {
		return nil, fmt.Errorf("create vault on %s: %w", o.Storage, err)
	}
	return Open(ctx, o)
}

// Open unlocks the vault on o.Storage with o.Passphrase.
func Open(ctx context.Context, o Options) (*Vault, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Uploads <= 0 {
		o.Uploads = 4
	}
	if o.DownloadAttempts <= 0 {
		o.DownloadAttempts = 3
	}
	if o.Device == "" {
		o.Device = "device"
	}
	cb, err := o.Storage.Get(ctx, "config")
	if errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("%w %s", ErrNoVault, o.Storage)
	}
	if err != nil {
		return nil, fmt.Errorf("read the vault config on %s: %w", o.Storage, err)
	}
	cfg, err := parseConfig(cb, o.Storage.String())
	if err != nil {
		return nil, err
	}
	if len(o.Passphrase) == 0 {
		return nil, fmt.Errorf("the vault on %s is locked: give its passphrase (Sync view, --passphrase-file or ATELIER_VAULT_PASSPHRASE)", o.Storage)
	}
	kb, err := o.Storage.Get(ctx, "keys/main")
	if err != nil {
		return nil, fmt.Errorf("read the vault key on %s: %w", o.Storage, err)
	}
	master, err := openMaster(kb, o.Passphrase, cfg.KDF)
	if errors.Is(err, ErrWrongPassphrase) {
		return nil, fmt.Errorf("%w: the passphrase does not unlock the vault on %s; check the keyring entry, --passphrase-file or ATELIER_VAULT_PASSPHRASE", ErrWrongPassphrase, o.Storage)
	}
	if err != nil {
		return nil, err
	}
	k, err := newKeys(master)
	if err != nil {
		return nil, err
	}
	return &Vault{o: o, s: o.Storage, st: o.State, cfg: cfg, k: k, log: o.Log, snaps: map[string]*Snapshot{}}, nil
}

// parseConfig reads and checks the plaintext config object (which anyone
// with access to the bucket could have written).
func parseConfig(b []byte, where string) (Config, error) {
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("the vault config on %s is damaged (%v): restore the object \"config\" from a copy", where, err)
	}
	if cfg.Version != 1 && cfg.Version != Version {
		return cfg, fmt.Errorf("the vault on %s has format version %d; this Atelier reads version %d: update Atelier", where, cfg.Version, Version)
	}
	c := cfg.Chunker
	if c.Min < 64 || c.Avg < c.Min || c.Max < c.Avg || c.Max > 64<<20 || cfg.PackSize <= 0 || cfg.PackSize > 1<<30 {
		return cfg, fmt.Errorf("the vault config on %s has implausible sizes: it is damaged", where)
	}
	if cfg.KDF.Alg != "argon2id" {
		return cfg, fmt.Errorf("the vault on %s uses key derivation %q, which this Atelier does not know: update Atelier", where, cfg.KDF.Alg)
	}
	return cfg, nil
}

// Config returns the vault's config.
func (v *Vault) Config() Config { return v.cfg }

// Storage is the remote the vault lives on.
func (v *Vault) Storage() remote.Storage { return v.s }

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Ref locates a sealed chunk: pack ID, offset and sealed length.
type Ref struct {
	ID   ID     `json:"i"`
	Pack string `json:"p"`
	Off  int64  `json:"o"`
	Len  int64  `json:"l"`
}

// Size is the plaintext size of the chunk.
func (r Ref) Size() int64 { return r.Len - overhead }

// File is one file in a snapshot.
type File struct {
	Path    string      `json:"path"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"mode"`
	ModTime time.Time   `json:"mtime"`
	SHA256  string      `json:"sha256"`
	Chunks  []Ref       `json:"chunks"`
}

// Snapshot is one committed version of a project.
type Snapshot struct {
	ID      string    `json:"id"`
	Project string    `json:"project"`
	Seq     int64     `json:"seq"`
	Parent  string    `json:"parent,omitempty"`
	Device  string    `json:"device"`
	Time    time.Time `json:"time"`
	// Tree is the root tree (format 2; "" for a format-1 snapshot).
	Tree  string `json:"tree,omitempty"`
	Files []File `json:"files"`

	once     sync.Once
	index    map[string]*File
	sumsOnce sync.Once
	sumIdx   map[string]sizeSum
}

type sizeSum struct {
	size int64
	sum  [32]byte
}

// sums indexes sizes and binary content hashes by path, for the no-change check.
func (s *Snapshot) sums() map[string]sizeSum {
	s.sumsOnce.Do(func() {
		s.sumIdx = make(map[string]sizeSum, len(s.Files))
		for _, f := range s.Files {
			var e sizeSum
			e.size = f.Size
			hex.Decode(e.sum[:], []byte(f.SHA256))
			s.sumIdx[f.Path] = e
		}
	})
	return s.sumIdx
}

// byPath indexes the files by path (built once; snapshots are immutable).
func (s *Snapshot) byPath() map[string]*File {
	s.once.Do(func() {
		s.index = make(map[string]*File, len(s.Files))
		for i := range s.Files {
			s.index[s.Files[i].Path] = &s.Files[i]
		}
	})
	return s.index
}

// Head is the object heads/<project>/<seq>: one version in a project's
// history, in order. Heads are created with If-None-Match so two devices
// never both commit the same sequence number.
type Head struct {
	Project  string    `json:"project"`
	Seq      int64     `json:"seq"`
	Snapshot string    `json:"snapshot"`
	Parent   string    `json:"parent,omitempty"`
	Device   string    `json:"device"`
	Time     time.Time `json:"time"`
	Files    int       `json:"files"`
	Bytes    int64     `json:"bytes"`
	Pruned   bool      `json:"pruned,omitempty"`
	// Digest is filesDigest of the snapshot's files: a no-change sync
	// compares it with the index and never loads the snapshot.
	Digest string `json:"digest,omitempty"`
}

// filesDigest hashes (path, size, SHA-256) of n files in path order; at(i)
// gives the i-th file. A file not hashed yet (zero sum) makes the digest
// match no snapshot.
func filesDigest(n int, at func(i int) (path string, size int64, sum [32]byte)) string {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sorted := true
	for i := 1; i < n && sorted; i++ {
		a, _, _ := at(i - 1)
		b, _, _ := at(i)
		sorted = a < b
	}
	if !sorted {
		sort.Slice(order, func(i, j int) bool {
			a, _, _ := at(order[i])
			b, _, _ := at(order[j])
			return a < b
		})
	}
	h := sha256.New()
	var rec []byte
	for _, i := range order {
		p, size, sum := at(i)
		rec = append(rec[:0], p...)
		rec = append(rec, 0)
		rec = binary.BigEndian.AppendUint64(rec, uint64(size))
		rec = append(rec, sum[:]...)
		h.Write(rec)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func localDigest(files []LocalFile) string {
	return filesDigest(len(files), func(i int) (string, int64, [32]byte) {
		return files[i].Path, files[i].Size, files[i].SHA256
	})
}

func (s *Snapshot) digest() string {
	return filesDigest(len(s.Files), func(i int) (string, int64, [32]byte) {
		var sum [32]byte
		hex.Decode(sum[:], []byte(s.Files[i].SHA256))
		return s.Files[i].Path, s.Files[i].Size, sum
	})
}

func (v *Vault) headKey(project string, seq int64) string {
	return fmt.Sprintf("heads/%s/%012d", v.k.name(project), seq)
}

func (v *Vault) headPrefix(project string) string { return "heads/" + v.k.name(project) + "/" }

func packKey(id string) string { return "data/" + id[:2] + "/" + id }

func snapshotKey(id string) string { return "snapshots/" + id }

// sealJSON gzips and seals v for the object at key.
func (v *Vault) sealJSON(key string, val any) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(val); err != nil {
		return nil, err
	}
	zw.Close()
	return v.k.seal(nil, buf.Bytes(), []byte(key)), nil
}

func (v *Vault) openJSON(key string, b []byte, out any) error {
	plain, err := v.k.open(b, []byte(key))
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(plain))
	if err != nil {
		return fmt.Errorf("%s: %w: %v", key, ErrCorrupt, err)
	}
	if err := json.NewDecoder(io.LimitReader(zr, 1<<30)).Decode(out); err != nil {
		return fmt.Errorf("%s: %w: %v", key, ErrCorrupt, err)
	}
	return nil
}

// getJSON fetches, verifies and decodes an object, fetching again when a
// download fails verification.
func (v *Vault) getJSON(ctx context.Context, key string, out any) error {
	var err error
	for i := 0; i < v.o.DownloadAttempts; i++ {
		var b []byte
		b, err = v.s.Get(ctx, key)
		if err != nil {
			return err
		}
		if err = v.openJSON(key, b, out); err == nil {
			return nil
		}
		v.corrupt(key, err)
	}
	return fmt.Errorf("%w (fetched %d times); run `atelier sync verify PROJECT --repair` on a device that has the files", err, v.o.DownloadAttempts)
}

func (v *Vault) corrupt(obj string, err error) {
	v.log.Warn("download failed verification, fetching again", "object", obj, "err", err)
	if v.o.OnCorrupt != nil {
		v.o.OnCorrupt(obj, err)
	}
}

// LoadSnapshot fetches (or takes from the cache) the snapshot with id.
func (v *Vault) LoadSnapshot(ctx context.Context, id string) (*Snapshot, error) {
	v.mu.Lock()
	s := v.snaps[id]
	v.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := v.loadHeader(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Tree != "" {
		if err := v.flatten(ctx, s); err != nil {
			return nil, err
		}
	}
	v.cache(s)
	return s, nil
}

// DropCaches forgets the snapshots and trees kept from recent reads (an idle
// engine's memory: a flattened snapshot of 100,000 files holds every file's
// chunk list); the next use reads them again.
func (v *Vault) DropCaches() {
	v.mu.Lock()
	v.snaps = map[string]*Snapshot{}
	v.mu.Unlock()
	v.trees.drop()
}

func (v *Vault) cache(s *Snapshot) {
	v.mu.Lock()
	if len(v.snaps) > 16 {
		for k := range v.snaps {
			delete(v.snaps, k)
			break
		}
	}
	v.snaps[s.ID] = s
	v.mu.Unlock()
}

// localHead is the last snapshot this device committed or pulled for project.
func (v *Vault) localHead(project string) (Head, bool, error) { return LocalHead(v.st, project) }

// LocalHead is the last snapshot this device committed or pulled for
// project, read from a vault's local state alone (no storage, no
// passphrase): what a status display shows without opening the vault.
func LocalHead(st State, project string) (Head, bool, error) {
	b, ok, err := st.Get("head/" + project)
	if err != nil || !ok {
		return Head{}, false, err
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return Head{}, false, fmt.Errorf("local sync state for %s is damaged: %w", project, err)
	}
	return h, true, nil
}

// LastSnapshot is the ID of the last snapshot this device has in common
// with the vault for project ("" when none).
func (v *Vault) LastSnapshot(project string) (Head, bool, error) { return v.localHead(project) }

func (v *Vault) getHead(ctx context.Context, key string) (Head, error) {
	var h Head
	err := v.getJSON(ctx, key, &h)
	return h, err
}

// latestHead finds the newest head of project at or after seq without
// listing: it probes seq+1, seq+2... and lists the project's heads only when
// far behind.
func (v *Vault) latestHead(ctx context.Context, project string, from Head, have bool) (Head, bool, error) {
	if !have {
		return v.listLatest(ctx, project)
	}
	cur := from
	for i := 0; i < 8; i++ {
		h, err := v.getHead(ctx, v.headKey(project, cur.Seq+1))
		if errors.Is(err, remote.ErrNotFound) {
			return cur, true, nil
		}
		if err != nil {
			return Head{}, false, err
		}
		cur = h
	}
	return v.listLatest(ctx, project)
}

func (v *Vault) listLatest(ctx context.Context, project string) (Head, bool, error) {
	var last string
	err := v.s.List(ctx, v.headPrefix(project), func(i remote.Info) error {
		if isTemp(i.Key) {
			return nil
		}
		if i.Key > last {
			last = i.Key
		}
		return nil
	})
	if err != nil || last == "" {
		return Head{}, false, err
	}
	h, err := v.getHead(ctx, last)
	if err != nil {
		return Head{}, false, err
	}
	return h, true, nil
}

// Heads lists the history of project, oldest first.
func (v *Vault) Heads(ctx context.Context, project string) ([]Head, error) {
	return v.headsUnder(ctx, v.headPrefix(project))
}

// AllHeads lists every project's history.
func (v *Vault) AllHeads(ctx context.Context) ([]Head, error) {
	return v.headsUnder(ctx, "heads/")
}

// headsUnder opens every head whose key starts with prefix, in key order.
func (v *Vault) headsUnder(ctx context.Context, prefix string) ([]Head, error) {
	var keys []string
	err := v.s.List(ctx, prefix, func(i remote.Info) error {
		if !isTemp(i.Key) {
			keys = append(keys, i.Key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	out := make([]Head, 0, len(keys))
	for _, k := range keys {
		h, err := v.getHead(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// FindSnapshot resolves id (a snapshot ID, a unique prefix of one, a
// sequence number, or "" / "latest") within project.
func (v *Vault) FindSnapshot(ctx context.Context, project, id string) (*Snapshot, error) {
	// A cached snapshot may name packs a repack has since retired.
	if _, err := v.checkEpoch(ctx); err != nil {
		return nil, err
	}
	if id == "" || id == "latest" {
		lh, have, err := v.localHead(project)
		if err != nil {
			return nil, err
		}
		h, ok, err := v.latestHead(ctx, project, lh, have)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, noSnapshot{fmt.Errorf("the vault on %s has no snapshot of %s yet: run `atelier sync run` first", v.s, project)}
		}
		return v.LoadSnapshot(ctx, h.Snapshot)
	}
	hs, err := v.Heads(ctx, project)
	if err != nil {
		return nil, err
	}
	var match []Head
	for _, h := range hs {
		if h.Snapshot == id || strconv.FormatInt(h.Seq, 10) == id {
			match = []Head{h}
			break
		}
		if len(id) >= 4 && strings.HasPrefix(h.Snapshot, id) {
			match = append(match, h)
		}
	}
	switch {
	case len(match) == 0:
		return nil, noSnapshot{fmt.Errorf("no snapshot %q of %s: see `atelier sync snapshots %s`", id, project, project)}
	case len(match) > 1:
		return nil, fmt.Errorf("snapshot %q of %s is ambiguous: give more of its ID", id, project)
	case match[0].Pruned:
		return nil, fmt.Errorf("snapshot %s of %s was pruned by the retention policy", match[0].Snapshot, project)
	}
	return v.LoadSnapshot(ctx, match[0].Snapshot)
}

// ErrNoSnapshot matches (errors.Is) FindSnapshot's answer when no snapshot
// has the ID asked for, or the project has none yet.
var ErrNoSnapshot = errors.New("no such snapshot")

// noSnapshot keeps its message and reads as ErrNoSnapshot.
type noSnapshot struct{ error }

func (e noSnapshot) Is(target error) bool { return target == ErrNoSnapshot }
func (e noSnapshot) Unwrap() error        { return e.error }

// Gate pauses and resumes transfers.
type Gate struct {
	mu     sync.Mutex
	paused bool
	ch     chan struct{}
}

// Pause stops new transfers until Resume (those under way finish).
func (g *Gate) Pause() {
	g.mu.Lock()
	if !g.paused {
		g.paused = true
		g.ch = make(chan struct{})
	}
	g.mu.Unlock()
}

// Resume lets transfers continue.
func (g *Gate) Resume() {
	g.mu.Lock()
	if g.paused {
		g.paused = false
		close(g.ch)
	}
	g.mu.Unlock()
}

// Paused reports whether the gate is closed.
func (g *Gate) Paused() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// Wait blocks while paused.
func (g *Gate) Wait(ctx context.Context) error {
	if g == nil {
		return ctx.Err()
	}
	g.mu.Lock()
	ch, p := g.ch, g.paused
	g.mu.Unlock()
	if !p {
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isTemp reports a half-written object a killed writer left on a file://
// remote (gocloud's fileblob writes "KEY.RANDOM.tmp" and renames it): never
// a vault object; prune deletes it once older than the grace period.
func isTemp(key string) bool { return strings.HasSuffix(key, ".tmp") }

func workers() int { return max(2, runtime.GOMAXPROCS(0)) }
