package signing_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubPEM(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := keys.PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keyID(k *ecdsa.PrivateKey) string { id, _ := keys.ID(&k.PublicKey); return id }

// policyWith pins each key for its scope.
func policyWith(t testing.TB, pins map[*ecdsa.PrivateKey][]string) trust.Policy {
	t.Helper()
	p := trust.Policy{Keys: map[string]trust.Key{}, Modules: map[string]trust.Module{}}
	for k, scopes := range pins {
		tk, err := trust.NewKey("test", pubPEM(t, k), scopes, time.Time{}, time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		p.Keys[tk.ID] = tk
	}
	return p
}

func man(name, version string, perms ...string) manifest.Manifest {
	if perms == nil {
		perms = []string{}
	}
	return manifest.Manifest{Name: name, Version: version, Description: "test module", License: "MIT", Author: "Test", Permissions: perms}
}

// writeModule makes a module folder with m and files.
func writeModule(t testing.TB, m manifest.Manifest, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, manifest.FileName), m.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	for p, c := range files {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(fp), 0o755)
		if err := os.WriteFile(fp, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// packSigned packs and signs a module into a fresh folder and returns the archive path.
func packSigned(t testing.TB, m manifest.Manifest, files map[string]string, k *ecdsa.PrivateKey) string {
	t.Helper()
	src := writeModule(t, m, files)
	out := filepath.Join(t.TempDir(), pack.ArchiveName(m))
	if _, err := pack.PackFile(context.Background(), src, out); err != nil {
		t.Fatal(err)
	}
	if _, err := signing.SignArchive(context.Background(), out, k, "test", now); err != nil {
		t.Fatal(err)
	}
	return out
}

// rawEntry is one tar entry of a hand-made (possibly hostile) archive.
type rawEntry struct {
	hdr  tar.Header
	body []byte
}

func reg(name string, body string) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: pack.Epoch}, body: []byte(body)}
}

// rawArchive writes entries after a valid manifest and a file list built from
// listed (the regular entries, unless list overrides it).
func rawArchive(t testing.TB, m manifest.Manifest, entries []rawEntry, list *pack.FileList) []byte {
	return rawArchiveListed(t, m, entries, entries, list)
}

// rawArchiveListed lists only listed in the file list but streams entries.
func rawArchiveListed(t testing.TB, m manifest.Manifest, entries, listed []rawEntry, list *pack.FileList) []byte {
	t.Helper()
	mraw := m.Marshal()
	if list == nil {
		l := pack.FileList{Module: m.Name, Version: m.Version}
		files := append([]rawEntry{reg(manifest.FileName, string(mraw))}, listed...)
		seen := map[string]bool{}
		for _, e := range files {
			if seen[e.hdr.Name] {
				continue
			}
			seen[e.hdr.Name] = true
			s := sha256.Sum256(e.body)
			l.Files = append(l.Files, pack.File{Path: e.hdr.Name, Size: int64(len(e.body)), Mode: "0644", SHA256: hex.EncodeToString(s[:])})
		}
		sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Path < l.Files[j].Path })
		list = &l
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	all := append([]rawEntry{reg(manifest.FileName, string(mraw)), reg(pack.FileListName, string(list.Marshal()))}, entries...)
	for _, e := range all {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if len(e.body) > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// signBytes writes data as an archive in a fresh folder with a bundle and
// detached signature made directly (no archive parsing), so hostile archives
// can carry valid signatures.
func signBytes(t testing.TB, name string, data []byte, k *ecdsa.PrivateKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(data)
	sig, err := sign.SignDigest(k, d)
	if err != nil {
		t.Fatal(err)
	}
	env, err := sign.Attest(k, sign.ProvenanceInput{ArchiveName: name, ArchiveDigest: d, BuilderVersion: "test", Started: now, Finished: now})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p+signing.SigSuffix, sig, 0o644)
	os.WriteFile(p+signing.BundleSuffix, sign.NewBundle(env, keys.Hint(keyID(k))).Marshal(), 0o644)
	return p
}

func material(t testing.TB, archive string) signing.Material {
	t.Helper()
	m, err := signing.LoadMaterial(archive)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// listDir returns every path below dir (empty when dir is missing).
func listDir(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func packFile(src, out string) (pack.Result, error) {
	return pack.PackFile(context.Background(), src, out)
}

// policyWithPEM is a trust policy pinning one PEM public key, named name,
// for the module scope given, and that key's ID.
func policyWithPEM(t testing.TB, name string, pub []byte, scope string) (trust.Policy, string) {
	t.Helper()
	tk, err := trust.NewKey(name, pub, []string{scope}, time.Time{}, time.Time{}, now)
	if err != nil {
		t.Fatal(err)
	}
	return trust.Policy{Keys: map[string]trust.Key{tk.ID: tk}, Modules: map[string]trust.Module{}}, tk.ID
}
