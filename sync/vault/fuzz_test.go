package vault

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzConfig: the plaintext config comes from the bucket; no input may
// panic or pass with sizes that would make chunking allocate absurdly.
func FuzzConfig(f *testing.F) {
	good, _ := json.Marshal(Config{Version: Version, KDF: KDFParams{Alg: "argon2id", Time: 1, Memory: 8, Threads: 1, Salt: []byte("saltsalt")}, Chunker: DefaultChunker, PackSize: 16 << 20})
	f.Add(good)
	f.Add([]byte(`{"version":1,"chunker":{"min":1,"avg":0,"max":-1}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := parseConfig(b, "fuzz")
		if err == nil && (cfg.Chunker.Max > 64<<20 || cfg.Chunker.Min < 64 || cfg.PackSize <= 0) {
			t.Fatalf("accepted %+v", cfg)
		}
	})
}

// FuzzKeyFile: a damaged or hostile keys/main is refused, never a panic.
func FuzzKeyFile(f *testing.F) {
	p := KDFParams{Alg: "argon2id", Time: 1, Memory: 8, Threads: 1, Salt: []byte("saltsalt")}
	kf, _ := sealMaster(make([]byte, 32), []byte("pw"), p)
	f.Add(kf)
	f.Add([]byte(`{"version":1,"sealed":"AAAA"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := openMaster(b, []byte("pw"), p); err == nil && len(m) != 32 {
			t.Fatalf("master of %d bytes", len(m))
		}
	})
}

// FuzzSealed: tampered sealed objects never open.
func FuzzSealed(f *testing.F) {
	k, _ := newKeys(make([]byte, 32))
	f.Add(k.seal(nil, []byte("hello"), []byte("snapshots/x")), 3)
	f.Fuzz(func(t *testing.T, b []byte, flip int) {
		if len(b) == 0 {
			return
		}
		sealed := k.seal(nil, b, []byte("k"))
		i := (flip%len(sealed) + len(sealed)) % len(sealed)
		sealed[i] ^= 1
		if _, err := k.open(sealed, []byte("k")); err == nil {
			t.Fatal("a tampered object opened")
		}
		var v any
		_ = (&Vault{k: k}).openJSON("k", b, &v)
	})
}

// FuzzTree: a tree or snapshot object that decrypts (a bug, or a key
// holder gone rogue) but is malformed is refused, never a panic: names
// with slashes or dots, unordered entries, bad tree and list IDs.
func FuzzTree(f *testing.F) {
	good, _ := json.Marshal(Tree{Entries: []TreeEntry{{Name: "a.wav", Size: 3, SHA256: "00"}, {Name: "stems", Tree: strings.Repeat("ab", 32)}}})
	f.Add(good)
	f.Add([]byte(`{"entries":[{"name":"..","tree":"x"},{"name":"a/b"}]}`))
	f.Add([]byte(`{"id":"x","tree":"zz","files":"tree"}`))
	f.Add([]byte(`{"id":"x","files":[{"path":"a","chunks":[{"i":"00"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr Tree
		if json.Unmarshal(b, &tr) == nil && tr.check() == nil {
			for _, e := range tr.Entries {
				if e.Name == "" || strings.Contains(e.Name, "/") || (e.IsDir() && !validTreeID(e.Tree)) {
					t.Fatalf("accepted entry %+v", e)
				}
				for _, part := range cutLists(e.Chunks) {
					if len(part) == 0 || len(part) > 512 {
						t.Fatalf("list piece of %d refs", len(part))
					}
				}
			}
			readDirFlat([]File{{Path: "a/b"}}, "a")
		}
		w := snapshotWire{Snapshot: &Snapshot{}}
		if json.Unmarshal(b, &w) == nil && w.Tree == "" {
			var files []File
			_ = json.Unmarshal(w.Files, &files)
		}
	})
}
