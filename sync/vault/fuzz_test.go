package vault

import (
	"encoding/json"
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
