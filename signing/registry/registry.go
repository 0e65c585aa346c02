// Package registry is a static, signed module registry: a folder of archives
// (with their signature files) and index.json, a DSSE-signed index with a
// version and an expiry in the style of TUF's timestamp/snapshot roles. Any web
// server or cloud bucket can serve it; clients remember the highest index
// version seen, so a frozen (expired) or rolled-back index is detected.
package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"atelier/netclient"
	"atelier/signing/internal/capped"
	"atelier/signing/internal/strictjson"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

// IndexName is the signed index at the root of a registry.
const IndexName = "index.json"

// IndexType is the index payload's _type.
const IndexType = "https://atelier.app/RegistryIndex/v1"

// MaxIndex caps the index (and its envelope).
const MaxIndex = 4 << 20

// Refusals.
var (
	ErrExpired    = errors.New("registry index expired")
	ErrRolledBack = errors.New("registry index rolled back")
	ErrNotFound   = errors.New("module not in registry")
)

// Entry is one archive in the index.
type Entry struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	Archive     string   `json:"archive"` // relative to the registry root
	SHA256      string   `json:"sha256"`
	Size        int64    `json:"size"`
}

// Index is the signed list of archives.
type Index struct {
	Type      string    `json:"_type"`
	Version   int64     `json:"version"`
	Published time.Time `json:"published"`
	Expires   time.Time `json:"expires"`
	Modules   []Entry   `json:"modules"`
}

// Publish indexes every signed archive in dir and writes dir/index.json,
// signed with priv, one version above the index already there.
func Publish(ctx context.Context, dir string, priv *ecdsa.PrivateKey, ttl time.Duration, now time.Time) (Index, error) {
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	idx := Index{Type: IndexType, Version: 1, Published: now.UTC().Truncate(time.Second), Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	if raw, err := os.ReadFile(filepath.Join(dir, IndexName)); err == nil {
		env, err := sign.ParseEnvelope(raw, filepath.Join(dir, IndexName))
		if err != nil {
			return Index{}, err
		}
		prev, err := sign.VerifyEnvelope(env, &priv.PublicKey, sign.IndexPayloadType, filepath.Join(dir, IndexName))
		if err != nil {
			return Index{}, fmt.Errorf("the existing index was signed by another key (%v): publish with that key or start a new folder", err)
		}
		old, err := parseIndex(prev, IndexName)
		if err != nil {
			return Index{}, err
		}
		idx.Version = old.Version + 1
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil {
		return Index{}, err
	}
	sort.Strings(matches)
	for _, a := range matches {
		if err := ctx.Err(); err != nil {
			return Index{}, err
		}
		if _, err := os.Stat(a + ".sigstore.json"); err != nil {
			return Index{}, fmt.Errorf("%s has no %s beside it: sign it first with `atelier module sign`", a, ".sigstore.json")
		}
		f, err := os.Open(a)
		if err != nil {
			return Index{}, err
		}
		d, n, err := sign.Digest(f)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		var h pack.Head
		if err == nil {
			h, err = pack.Check(ctx, f, a, pack.DefaultLimits()) // the checks install makes
		}
		f.Close()
		if err != nil {
			return Index{}, err
		}
		idx.Modules = append(idx.Modules, Entry{Name: h.Manifest.Name, Version: h.Manifest.Version, Description: h.Manifest.Description,
			Permissions: h.Manifest.Permissions, Archive: filepath.Base(a), SHA256: hex.EncodeToString(d[:]), Size: n})
	}
	payload, err := jsonMarshal(idx)
	if err != nil {
		return Index{}, err
	}
	env, err := sign.SignEnvelope(priv, sign.IndexPayloadType, payload)
	if err != nil {
		return Index{}, err
	}
	return idx, writeAtomic(filepath.Join(dir, IndexName), env.Marshal())
}

func parseIndex(payload []byte, what string) (Index, error) {
	var idx Index
	if err := strictjson.Decode(payload, MaxIndex, what, &idx); err != nil {
		return Index{}, err
	}
	if idx.Type != IndexType {
		return Index{}, fmt.Errorf("%s: not an Atelier registry index (type %q)", what, idx.Type)
	}
	for _, e := range idx.Modules {
		if err := (manifest.Manifest{Name: e.Name, Version: e.Version, License: "x", Permissions: e.Permissions}).Validate(); err != nil {
			return Index{}, fmt.Errorf("%s: entry %s: %w", what, e.Name, err)
		}
		if err := pack.CheckPath(e.Archive); err != nil || strings.Contains(e.Archive, "/") {
			return Index{}, fmt.Errorf("%s: entry %s has an unsafe archive name %q", what, e.Name, e.Archive)
		}
		if len(e.SHA256) != 64 {
			return Index{}, fmt.Errorf("%s: entry %s has no SHA-256", what, e.Name)
		}
	}
	return idx, nil
}

// State is what a client remembers of a registry between fetches.
type State struct {
	Source      string    `json:"source"` // folder or http(s) URL
	KeyID       string    `json:"keyId"`
	Version     int64     `json:"version"`
	IndexDigest string    `json:"indexDigest"`
	Expires     time.Time `json:"expires"`
	CheckedAt   time.Time `json:"checkedAt"`
	Index       Index     `json:"index"`
}

// Open verifies a fetched index against the policy and the previous state:
// signed by a pinned, unrevoked key (the same key as before), not expired,
// and not older than the version seen before; the same version must have the
// same content.
func Open(raw []byte, src string, pol trust.Policy, prev State, now time.Time) (State, error) {
	what := src + "/" + IndexName
	env, err := sign.ParseEnvelope(raw, what)
	if err != nil {
		return State{}, err
	}
	var payload []byte
	var key trust.Key
	for id, k := range pol.Keys {
		if prev.KeyID != "" && id != prev.KeyID {
			continue
		}
		pub, err := k.Public()
		if err != nil {
			continue
		}
		if p, err := sign.VerifyEnvelope(env, pub, sign.IndexPayloadType, what); err == nil {
			payload, key = p, k
			break
		} else if errors.Is(err, sign.ErrPayloadType) {
			return State{}, err
		}
	}
	if payload == nil {
		return State{}, fmt.Errorf("%w: %s is not signed by a key in your trust policy%s; add the registry owner's key with `atelier trust add`", trust.ErrUntrusted, what, map[bool]string{true: " (the key it was added with)", false: ""}[prev.KeyID != ""])
	}
	if key.Revoked {
		return State{}, fmt.Errorf("%w: %s is signed by revoked key %s (%s)", trust.ErrRevoked, what, key.ID[:12], key.Name)
	}
	if (!key.NotBefore.IsZero() && now.Before(key.NotBefore)) || (!key.NotAfter.IsZero() && now.After(key.NotAfter)) {
		return State{}, fmt.Errorf("%w: %s is signed by key %s outside its validity window", trust.ErrExpired, what, key.ID[:12])
	}
	idx, err := parseIndex(payload, what)
	if err != nil {
		return State{}, err
	}
	sum := sha256.Sum256(payload)
	digest := hex.EncodeToString(sum[:])
	if now.After(idx.Expires) {
		return State{}, fmt.Errorf("%w: %s expired on %s (a frozen index could hide updates); ask the registry owner to publish again", ErrExpired, what, idx.Expires.Format(time.RFC3339))
	}
	if idx.Version < prev.Version {
		return State{}, fmt.Errorf("%w: %s is version %d, older than version %d seen before (a replayed index could hide updates)", ErrRolledBack, what, idx.Version, prev.Version)
	}
	if idx.Version == prev.Version && prev.IndexDigest != "" && digest != prev.IndexDigest {
		return State{}, fmt.Errorf("%w: %s version %d differs from the version %d seen before: the registry changed its index without a new version", ErrRolledBack, what, idx.Version, prev.Version)
	}
	return State{Source: src, KeyID: key.ID, Version: idx.Version, IndexDigest: digest, Expires: idx.Expires, CheckedAt: now, Index: idx}, nil
}

// Find returns the entry for name at version ("" = highest).
func (idx Index) Find(name, version string) (Entry, error) {
	var best *Entry
	for i, e := range idx.Modules {
		if e.Name != name || (version != "" && e.Version != version) {
			continue
		}
		if best == nil || manifest.Compare(e.Version, best.Version) > 0 {
			best = &idx.Modules[i]
		}
	}
	if best == nil {
		v := ""
		if version != "" {
			v = "@" + version
		}
		return Entry{}, fmt.Errorf("%w: %s%s (search with `atelier module search`)", ErrNotFound, name, v)
	}
	return *best, nil
}

// Search lists entries whose name or description contains q (all when q is empty).
func (idx Index) Search(q string) []Entry {
	q = strings.ToLower(q)
	var out []Entry
	for _, e := range idx.Modules {
		if q == "" || strings.Contains(strings.ToLower(e.Name), q) || strings.Contains(strings.ToLower(e.Description), q) {
			out = append(out, e)
		}
	}
	return out
}

// Network limits of registry fetches (variables so tests can shorten them).
var (
	// HTTPClient carries registry traffic: connect, TLS, header and idle time-outs.
	HTTPClient = netclient.New(netclient.Defaults)
	// FetchTimeout bounds a metadata fetch (the index, signature files) as a
	// whole: they are small, so a server trickling them is cut off.
	FetchTimeout = 2 * time.Minute
	// StallWindow and StallMin: an archive download that moves fewer than
	// StallMin bytes in any StallWindow is stopped.
	StallWindow       = 30 * time.Second
	StallMin    int64 = 4 << 10
)

// open opens rel (a file name in the registry) in src, a folder or an http(s)
// URL. An http fetch ends after overall (0: no overall limit) and when it
// moves less than StallMin bytes in a StallWindow.
func open(ctx context.Context, src, rel string, overall time.Duration) (io.ReadCloser, error) {
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		u.Path = path.Join(u.Path, rel)
		ctx, cancel := context.WithCancelCause(ctx)
		stopTimer := func() bool { return false }
		if overall > 0 {
			t := time.AfterFunc(overall, func() {
				cancel(fmt.Errorf("fetch %s: no complete answer within %s: the server is too slow or stuck; try again later", u, overall))
			})
			stopTimer = t.Stop
		}
		fail := func(err error) (io.ReadCloser, error) {
			stopTimer()
			cancel(nil)
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return fail(err)
		}
		resp, err := HTTPClient.Do(req)
		if err != nil {
			if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
				err = c
			}
			return fail(fmt.Errorf("fetch %s: %w", u, err))
		}
		if resp.StatusCode == http.StatusNotFound {
			resp.Body.Close()
			return fail(fmt.Errorf("fetch %s: %w", u, os.ErrNotExist))
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fail(fmt.Errorf("fetch %s: %s", u, resp.Status))
		}
		body := netclient.Watch(resp.Body, u.String(), StallWindow, StallMin, cancel)
		return &causeBody{ReadCloser: body, ctx: ctx, done: func() { stopTimer(); cancel(nil) }}, nil
	}
	return os.Open(filepath.Join(src, filepath.FromSlash(rel)))
}

// causeBody reports why its request was cancelled (a time-out, a stall)
// instead of a bare "context canceled", and releases the request on Close.
type causeBody struct {
	io.ReadCloser
	ctx  context.Context
	done func()
}

func (b *causeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		if c := context.Cause(b.ctx); c != nil {
			err = c
		}
	}
	return n, err
}

func (b *causeBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// Fetch reads rel from src, capped at max bytes, within FetchTimeout.
func Fetch(ctx context.Context, src, rel string, max int64) ([]byte, error) {
	r, err := open(ctx, src, rel, FetchTimeout)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return capped.ReadAll(r, max, src+"/"+rel)
}

// Download streams an entry's archive and signature files into dir, checking
// the archive's size and digest against the signed index.
func Download(ctx context.Context, src string, e Entry, dir string, maxSize int64) (string, error) {
	if e.Size > maxSize {
		return "", fmt.Errorf("%s@%s is %d bytes, over the %d-byte cap", e.Name, e.Version, e.Size, maxSize)
	}
	r, err := open(ctx, src, e.Archive, 0)
	if err != nil {
		return "", err
	}
	defer r.Close()
	out := filepath.Join(dir, e.Archive)
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, e.Size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return "", fmt.Errorf("download %s from %s: %w", e.Archive, src, err)
	}
	if n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		os.Remove(out)
		return "", fmt.Errorf("%s from %s does not match the signed index (digest or size differs): the registry is damaged or tampered with", e.Archive, src)
	}
	for _, suf := range []string{".sig", ".intoto.json", ".sigstore.json", ".rotation.json"} {
		sb, err := Fetch(ctx, src, e.Archive+suf, sign.MaxEnvelope)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(out+suf, sb, 0o600); err != nil {
			return "", err
		}
	}
	return out, nil
}

// KeyID names the key an index is signed with, for display.
func KeyID(priv *ecdsa.PrivateKey) string { id, _ := keys.ID(&priv.PublicKey); return id }
