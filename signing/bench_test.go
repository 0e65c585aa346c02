package signing_test

import (
	"context"
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/signing"
	"atelier/signing/manifest"
)

// BenchmarkVerifySmallModule is one offline verification of a small signed
// module (a few presets): hash, attestation, detached signature, policy.
// `make bench` reports it as verifications per second.
func BenchmarkVerifySmallModule(b *testing.B) {
	k := newKey(b)
	pol := policyWith(b, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	files := map[string]string{}
	for _, n := range []string{"hall", "room", "plate", "spring"} {
		files["presets/"+n+".json"] = `{"decay":` + strings.Repeat("1", 200) + `}`
	}
	arc := packSigned(b, man("@alice/reverb", "1.0.0", manifest.PermProjectRead), files, k)
	m := material(b, arc)
	opt := signing.Options{Policy: pol, Now: now, Approve: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := signing.Verify(context.Background(), m, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyArchive verifies the archive named by ATELIER_BENCH_ARCHIVE
// (signed, with its pinned public key in ATELIER_BENCH_PUB); bench/modules.sh
// uses it on a 1 GiB module to compare with sha256sum without CLI start-up.
func BenchmarkVerifyArchive(b *testing.B) {
	arc, pubFile := os.Getenv("ATELIER_BENCH_ARCHIVE"), os.Getenv("ATELIER_BENCH_PUB")
	if arc == "" || pubFile == "" {
		b.Fatal("set ATELIER_BENCH_ARCHIVE and ATELIER_BENCH_PUB (bench/modules.sh does)")
	}
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		b.Fatal(err)
	}
	m := material(b, arc)
	pol, _ := policyWithPEM(b, "bench", pub, "@bench/*")
	fi, _ := os.Stat(arc)
	b.SetBytes(fi.Size())
	for i := 0; i < b.N; i++ {
		if _, err := signing.Verify(context.Background(), m, signing.Options{Policy: pol, Approve: true}); err != nil {
			b.Fatal(filepath.Base(arc), err)
		}
	}
}

// BenchmarkVerifySmallModuleParallel is the same on every core: the rate a
// registry sync or a library check of many modules reaches.
func BenchmarkVerifySmallModuleParallel(b *testing.B) {
	k := newKey(b)
	pol := policyWith(b, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	arc := packSigned(b, man("@alice/reverb", "1.0.0", manifest.PermProjectRead), map[string]string{"presets/hall.json": `{"decay":2}`}, k)
	m := material(b, arc)
	opt := signing.Options{Policy: pol, Now: now, Approve: true}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := signing.Verify(context.Background(), m, opt); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
