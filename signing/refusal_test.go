package signing_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/registry"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

// refusalEnv is what every row gets: two keys, a policy trusting the first
// for @alice/*, and a fresh modules folder.
type refusalEnv struct {
	t      *testing.T
	k, k2  *ecdsa.PrivateKey
	pol    trust.Policy
	mods   string
	before []string // listDir(mods) right before the refused step
	lim    pack.Limits
}

func (e *refusalEnv) install(arc string, approve bool) error {
	_, err := signing.Install(context.Background(), material(e.t, arc), signing.Options{Policy: e.pol, Now: now, Approve: approve, Limits: e.lim}, e.mods)
	return err
}

// installOK installs and records it in the policy, as the app does.
func (e *refusalEnv) installOK(arc string) {
	e.t.Helper()
	inst, err := signing.Install(context.Background(), material(e.t, arc), signing.Options{Policy: e.pol, Now: now, Approve: true}, e.mods)
	if err != nil {
		e.t.Fatalf("setup install: %v", err)
	}
	prev, known := e.pol.Modules[inst.Manifest.Name]
	e.pol.Modules[inst.Manifest.Name] = trust.Record(prev, known, inst.Manifest, inst.KeyID, now)
}

func (e *refusalEnv) snap() { e.before = listDir(e.mods) }

// hostile signs a raw archive with the trusted key and installs it.
func (e *refusalEnv) hostile(entries []rawEntry) error {
	return e.hostileListed(entries, entries)
}

func (e *refusalEnv) hostileListed(entries, listed []rawEntry) error {
	arc := signBytes(e.t, "alice-x-1.0.0.tgz", rawArchiveListed(e.t, man("@alice/x", "1.0.0"), entries, listed, nil), e.k)
	return e.install(arc, true)
}

func hdr(name string, typ byte, mode int64) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: typ, Name: name, Mode: mode, ModTime: pack.Epoch, Linkname: "/etc/passwd"}}
}

func editBundle(t *testing.T, arc string, edit func(b map[string]any)) {
	t.Helper()
	raw, _ := os.ReadFile(arc + signing.BundleSuffix)
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	edit(b)
	out, _ := json.Marshal(b)
	os.WriteFile(arc+signing.BundleSuffix, out, 0o644)
}

func TestRefusals(t *testing.T) {
	files := map[string]string{"presets/hall.json": `{"decay":2.5}`}
	rows := []struct {
		name string
		is   error  // errors.Is target, or nil
		want string // substring of the error
		run  func(e *refusalEnv) error
	}{
		// Verify reads every byte through the archive checks, so a flipped
		// byte is caught as damage (the gzip checksum) before the digest.
		{"changed byte in archive", pack.ErrRefused, "damaged archive", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			b, _ := os.ReadFile(arc)
			b[len(b)-1] ^= 1
			os.WriteFile(arc, b, 0o644)
			return e.install(arc, true)
		}},
		{"changed byte in manifest", signing.ErrDigest, "other bytes", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			m := man("@alice/x", "1.0.0")
			m.Description = "test modulf"
			src := writeModule(e.t, m, files)
			if _, err := pack.PackFile(context.Background(), src, arc); err != nil {
				e.t.Fatal(err)
			}
			return e.install(arc, true)
		}},
		{"changed byte in envelope", sign.ErrBadSignature, "not signed by any key", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			editBundle(e.t, arc, func(b map[string]any) {
				env := b["dsseEnvelope"].(map[string]any)
				p, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
				p[len(p)/2] ^= 1
				env["payload"] = base64.StdEncoding.EncodeToString(p)
			})
			return e.install(arc, true)
		}},
		{"valid signature by an untrusted key", trust.ErrUntrusted, "not in your trust policy", func(e *refusalEnv) error {
			return e.install(packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k2), true)
		}},
		{"key past its validity window", trust.ErrExpired, "validity window", func(e *refusalEnv) error {
			k := e.pol.Keys[keyID(e.k)]
			k.NotAfter = now.Add(-time.Hour)
			e.pol.Keys[k.ID] = k
			return e.install(packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k), true)
		}},
		{"key before its validity window", trust.ErrExpired, "validity window", func(e *refusalEnv) error {
			k := e.pol.Keys[keyID(e.k)]
			k.NotBefore = now.Add(time.Hour)
			e.pol.Keys[k.ID] = k
			return e.install(packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k), true)
		}},
		{"revoked key", trust.ErrRevoked, "revoked", func(e *refusalEnv) error {
			k := e.pol.Keys[keyID(e.k)]
			k.Revoked, k.RevokedAt, k.Reason = true, now.Add(-time.Hour), "laptop stolen"
			e.pol.Keys[k.ID] = k
			return e.install(packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k), true)
		}},
		{"publisher key outside its name scope", trust.ErrScope, "trusted for @alice/* only", func(e *refusalEnv) error {
			return e.install(packSigned(e.t, man("@bob/x", "1.0.0"), files, e.k), true)
		}},
		{"key change without a rotation statement", trust.ErrKeyChange, "rotation statement", func(e *refusalEnv) error {
			e.pol = policyWith(e.t, map[*ecdsa.PrivateKey][]string{e.k: {"@alice/*"}, e.k2: {"@alice/*"}})
			e.installOK(packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k))
			e.snap()
			return e.install(packSigned(e.t, man("@alice/x", "1.1.0"), files, e.k2), true)
		}},
		{"stripped signature in the bundle", nil, "no signature (stripped)", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			editBundle(e.t, arc, func(b map[string]any) { b["dsseEnvelope"].(map[string]any)["signatures"] = []any{} })
			return e.install(arc, true)
		}},
		{"stripped signature files", signing.ErrNoSignature, "ask the publisher", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			for _, s := range []string{signing.BundleSuffix, signing.EnvelopeSuffix, signing.SigSuffix} {
				os.Remove(arc + s)
			}
			return e.install(arc, true)
		}},
		{"envelope moved from module A to module B", signing.ErrDigest, "other bytes", func(e *refusalEnv) error {
			a := packSigned(e.t, man("@alice/a", "1.0.0"), files, e.k)
			b := packSigned(e.t, man("@alice/b", "1.0.0"), files, e.k)
			raw, _ := os.ReadFile(a + signing.BundleSuffix)
			os.WriteFile(b+signing.BundleSuffix, raw, 0o644)
			return e.install(b, true)
		}},
		{"wrong DSSE payload type", sign.ErrPayloadType, "payload type", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			raw, _ := os.ReadFile(arc + signing.EnvelopeSuffix)
			env, _ := sign.ParseEnvelope(raw, "env")
			p, _ := env.DecodePayload()
			env2, err := sign.SignEnvelope(e.k, "application/json", p)
			if err != nil {
				e.t.Fatal(err)
			}
			os.WriteFile(arc+signing.BundleSuffix, sign.NewBundle(env2, keys.Hint(keyID(e.k))).Marshal(), 0o644)
			return e.install(arc, true)
		}},
		{"rollback to an older version", trust.ErrRollback, "older than 2.0.0", func(e *refusalEnv) error {
			e.installOK(packSigned(e.t, man("@alice/x", "2.0.0"), files, e.k))
			e.snap()
			return e.install(packSigned(e.t, man("@alice/x", "1.9.9"), files, e.k), true)
		}},
		{"expired registry index", registry.ErrExpired, "expired", func(e *refusalEnv) error {
			dir := e.t.TempDir()
			if _, err := registry.Publish(context.Background(), dir, e.k, time.Hour, now); err != nil {
				e.t.Fatal(err)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, registry.IndexName))
			_, err := registry.Open(raw, dir, e.pol, registry.State{}, now.Add(2*time.Hour))
			return err
		}},
		{"rolled-back registry index", registry.ErrRolledBack, "older than version 2", func(e *refusalEnv) error {
			dir := e.t.TempDir()
			registry.Publish(context.Background(), dir, e.k, time.Hour, now)
			v1, _ := os.ReadFile(filepath.Join(dir, registry.IndexName))
			registry.Publish(context.Background(), dir, e.k, time.Hour, now)
			v2, _ := os.ReadFile(filepath.Join(dir, registry.IndexName))
			st, err := registry.Open(v2, dir, e.pol, registry.State{}, now)
			if err != nil {
				e.t.Fatal(err)
			}
			_, err = registry.Open(v1, dir, e.pol, st, now)
			return err
		}},
		{"files mixed from another version (content)", pack.ErrRefused, "mixed from another version", func(e *refusalEnv) error {
			m := man("@alice/x", "2.0.0")
			l := pack.FileList{Module: m.Name, Version: m.Version}
			good := rawArchive(e.t, m, []rawEntry{reg("a.txt", "v2")}, nil)
			h, _ := pack.ReadHead(bytes.NewReader(good), "good", pack.DefaultLimits())
			l.Files = h.Files.Files
			arc := signBytes(e.t, "x.tgz", rawArchive(e.t, m, []rawEntry{reg("a.txt", "v1")}, &l), e.k)
			return e.install(arc, true)
		}},
		{"files mixed from another version (file list)", pack.ErrRefused, "mixed from another version", func(e *refusalEnv) error {
			old := rawArchive(e.t, man("@alice/x", "1.0.0"), []rawEntry{reg("a.txt", "v1")}, nil)
			h, _ := pack.ReadHead(bytes.NewReader(old), "old", pack.DefaultLimits())
			arc := signBytes(e.t, "x.tgz", rawArchive(e.t, man("@alice/x", "2.0.0"), []rawEntry{reg("a.txt", "v1")}, &h.Files), e.k)
			return e.install(arc, true)
		}},
		{"zip-slip ../", pack.ErrRefused, "zip-slip", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg("presets/../../evil.sh", "x")}, nil)
		}},
		{"zip-slip absolute path", pack.ErrRefused, "absolute path", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg("/etc/cron.d/evil", "x")}, nil)
		}},
		{"zip-slip drive letter", pack.ErrRefused, "drive letter", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg("C:/Windows/evil.dll", "x")}, nil)
		}},
		{"zip-slip UNC path", pack.ErrRefused, "UNC", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg(`\\server\share\evil`, "x")}, nil)
		}},
		{"zip-slip NTFS stream", pack.ErrRefused, "alternate data stream", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg("readme.txt:hidden", "x")}, nil)
		}},
		{"symlink", pack.ErrRefused, "symbolic link", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{hdr("link", tar.TypeSymlink, 0o644)}, nil)
		}},
		{"hardlink", pack.ErrRefused, "hard link", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{hdr("link", tar.TypeLink, 0o644)}, nil)
		}},
		{"character device", pack.ErrRefused, "device node", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{hdr("tty", tar.TypeChar, 0o644)}, nil)
		}},
		{"block device", pack.ErrRefused, "device node", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{hdr("sda", tar.TypeBlock, 0o644)}, nil)
		}},
		{"FIFO", pack.ErrRefused, "FIFO", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{hdr("pipe", tar.TypeFifo, 0o644)}, nil)
		}},
		{"duplicate after case folding", pack.ErrRefused, "case folding", func(e *refusalEnv) error {
			return e.hostile([]rawEntry{reg("README.TXT", "a"), reg("readme.txt", "b")})
		}},
		{"duplicate after Unicode normalisation", pack.ErrRefused, "normalisation", func(e *refusalEnv) error {
			return e.hostile([]rawEntry{reg("cafe\u0301.txt", "a"), reg("caf\u00e9.txt", "b")})
		}},
		{"Windows reserved name", pack.ErrRefused, "reserved device name", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg("presets/aux.json", "x")}, nil)
		}},
		{"Windows reserved name with digit", pack.ErrRefused, "reserved device name", func(e *refusalEnv) error {
			return e.hostileListed([]rawEntry{reg("LPT1", "x")}, nil)
		}},
		{"setuid bit", pack.ErrRefused, "setuid", func(e *refusalEnv) error {
			r := reg("run.sh", "x")
			r.hdr.Mode = 0o4755
			return e.hostile([]rawEntry{r})
		}},
		{"setgid bit", pack.ErrRefused, "setgid", func(e *refusalEnv) error {
			r := reg("run.sh", "x")
			r.hdr.Mode = 0o2755
			return e.hostile([]rawEntry{r})
		}},
		{"bomb: total size", pack.ErrRefused, "cap on total size", func(e *refusalEnv) error {
			e.lim = pack.Limits{MaxTotal: 64 << 10, MaxFile: 1 << 20, MaxEntries: 100, MaxRatio: 1 << 20}
			big := strings.Repeat("a", 40<<10)
			return e.hostile([]rawEntry{reg("a.bin", big), reg("b.bin", big)})
		}},
		{"bomb: entry count", pack.ErrRefused, "cap on entry count", func(e *refusalEnv) error {
			e.lim = pack.Limits{MaxTotal: 1 << 20, MaxFile: 1 << 20, MaxEntries: 4, MaxRatio: 1 << 20}
			var es []rawEntry
			for i := range 6 {
				es = append(es, reg(string(rune('a'+i))+".txt", "x"))
			}
			return e.hostile(es)
		}},
		{"bomb: compression ratio", pack.ErrRefused, "compression ratio", func(e *refusalEnv) error {
			e.lim = pack.Limits{MaxTotal: 64 << 20, MaxFile: 64 << 20, MaxEntries: 100, MaxRatio: 20}
			return e.hostile([]rawEntry{reg("zeros.bin", string(make([]byte, 3<<20)))})
		}},
		{"bomb: per-file size", pack.ErrRefused, "cap per file", func(e *refusalEnv) error {
			e.lim = pack.Limits{MaxTotal: 1 << 20, MaxFile: 1 << 10, MaxEntries: 100, MaxRatio: 1 << 20}
			return e.hostile([]rawEntry{reg("a.bin", strings.Repeat("a", 2<<10))})
		}},
		{"bomb: per-file size while streaming", pack.ErrRefused, "cap per file", func(e *refusalEnv) error {
			e.lim = pack.Limits{MaxTotal: 1 << 20, MaxFile: 1 << 10, MaxEntries: 100, MaxRatio: 1 << 20}
			return e.hostileListed([]rawEntry{reg("a.bin", strings.Repeat("a", 2<<10))}, nil)
		}},
		{"permission escalation on update without approval", trust.ErrNeedsApproval, "net:example.com", func(e *refusalEnv) error {
			e.installOK(packSigned(e.t, man("@alice/x", "1.0.0", manifest.PermProjectRead), files, e.k))
			e.snap()
			return e.install(packSigned(e.t, man("@alice/x", "1.1.0", manifest.PermProjectRead, "net:example.com"), files, e.k), false)
		}},
		{"unknown permission", pack.ErrRefused, "unknown permission", func(e *refusalEnv) error {
			arc := signBytes(e.t, "x.tgz", rawArchive(e.t, man("@alice/x", "1.0.0", "root:everything"), nil, nil), e.k)
			return e.install(arc, true)
		}},
		{"weak algorithm: P-384 key", nil, "only ECDSA P-256", func(e *refusalEnv) error {
			k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
			_, err := trust.NewKey("p384", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), []string{"@alice/*"}, time.Time{}, time.Time{}, now)
			return err
		}},
		{"unexpected algorithm: RSA key", nil, "only ECDSA P-256", func(e *refusalEnv) error {
			k, _ := rsa.GenerateKey(rand.Reader, 1024)
			der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
			_, err := keys.LoadPublic(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "rsa.pub")
			return err
		}},
		{"unexpected signature encoding: IEEE P1363", nil, "ASN.1 DER", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			os.WriteFile(arc+signing.SigSuffix, []byte(base64.StdEncoding.EncodeToString(make([]byte, 64))), 0o644)
			return e.install(arc, true)
		}},
		{"empty passphrase", keys.ErrEmptyPassphrase, "empty passphrase", func(e *refusalEnv) error {
			_, err := keys.Generate(nil)
			return err
		}},
		{"oversized PEM", nil, "over the 16384-byte limit", func(e *refusalEnv) error {
			_, err := keys.LoadPublic(bytes.Repeat([]byte("A"), 20<<10), "big.pub")
			return err
		}},
		{"PEM with trailing data", nil, "trailing data", func(e *refusalEnv) error {
			_, err := keys.LoadPublic(append(pubPEM(e.t, e.k), "junk"...), "pub.pem")
			return err
		}},
		{"malformed PEM", nil, "not a PEM key file", func(e *refusalEnv) error {
			_, err := keys.LoadPublic([]byte("-----BEGIN PUBLIC KEY-----\n!!!\n"), "pub.pem")
			return err
		}},
		{"manifest JSON with duplicate keys", nil, `duplicate key "version"`, func(e *refusalEnv) error {
			_, err := manifest.Parse([]byte(`{"name":"@alice/x","version":"1.0.0","version":"9.0.0","description":"","license":"MIT","author":"a","permissions":[]}`), "m.json")
			return err
		}},
		{"manifest JSON with trailing data", nil, "trailing data", func(e *refusalEnv) error {
			_, err := manifest.Parse(append(man("@alice/x", "1.0.0").Marshal(), "{}"...), "m.json")
			return err
		}},
		{"manifest with unknown field", nil, "unknown field", func(e *refusalEnv) error {
			_, err := manifest.Parse([]byte(`{"name":"@alice/x","version":"1.0.0","license":"MIT","permissions":[],"postinstall":"rm -rf ~"}`), "m.json")
			return err
		}},
		{"oversized JSON bundle", nil, "over the", func(e *refusalEnv) error {
			_, err := sign.ParseBundle(bytes.Repeat([]byte(" "), sign.MaxEnvelope+1), "b.json")
			return err
		}},
		{"bundle with trailing data", nil, "trailing data", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			raw, _ := os.ReadFile(arc + signing.BundleSuffix)
			os.WriteFile(arc+signing.BundleSuffix, append(raw, "[]"...), 0o644)
			return e.install(arc, true)
		}},
		{"envelope with duplicate keys", nil, "duplicate key", func(e *refusalEnv) error {
			_, err := sign.ParseEnvelope([]byte(`{"payloadType":"a","payloadType":"b","payload":"","signatures":[]}`), "env")
			return err
		}},
		{"detached signature alone, by an untrusted key", trust.ErrUntrusted, "not a signature of this archive", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k2)
			os.Remove(arc + signing.BundleSuffix)
			os.Remove(arc + signing.EnvelopeSuffix)
			return e.install(arc, true)
		}},
		{"detached signature alone, of other bytes", trust.ErrUntrusted, "not a signature of this archive", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			other := packSigned(e.t, man("@alice/x", "1.0.1"), files, e.k)
			os.Remove(arc + signing.BundleSuffix)
			os.Remove(arc + signing.EnvelopeSuffix)
			sig, _ := os.ReadFile(other + signing.SigSuffix)
			os.WriteFile(arc+signing.SigSuffix, sig, 0o644)
			return e.install(arc, true)
		}},
		{"malformed signature", nil, "not base64", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			os.WriteFile(arc+signing.SigSuffix, []byte("not*a*signature"), 0o644)
			return e.install(arc, true)
		}},
		{"oversized signature", nil, "larger than", func(e *refusalEnv) error {
			arc := packSigned(e.t, man("@alice/x", "1.0.0"), files, e.k)
			os.WriteFile(arc+signing.SigSuffix, bytes.Repeat([]byte("A"), 4096), 0o644)
			_, err := signing.LoadMaterial(arc)
			return err
		}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := &refusalEnv{t: t, k: newKey(t), k2: newKey(t), mods: t.TempDir()}
			e.pol = policyWith(t, map[*ecdsa.PrivateKey][]string{e.k: {"@alice/*"}})
			err := r.run(e)
			if err == nil {
				t.Fatal("accepted; want a refusal")
			}
			if r.is != nil && !errors.Is(err, r.is) {
				t.Errorf("error %q is not %v", err, r.is)
			}
			if !strings.Contains(err.Error(), r.want) {
				t.Errorf("error %q does not say %q", err, r.want)
			}
			if got := listDir(e.mods); strings.Join(got, "\n") != strings.Join(e.before, "\n") {
				t.Errorf("modules folder changed on refusal:\nbefore %v\nafter  %v", e.before, got)
			}
		})
	}
}
