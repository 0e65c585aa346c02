package vault_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"atelier/sync/vault"
)

// BenchmarkPush measures chunking, hashing, sealing and packing of a 64 MiB
// project into a folder remote (the S3 comparison is bench/sync.sh).
func BenchmarkPush(b *testing.B) {
	root := b.TempDir()
	for i := 0; i < 4; i++ {
		buf := make([]byte, 16<<20)
		fill(buf, uint64(i+1))
		os.WriteFile(filepath.Join(root, fmt.Sprintf("f%d.bin", i)), buf, 0o644)
	}
	files := scan(b, root)
	b.SetBytes(64 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := fileRemoteB(b)
		o := opts(s, vault.NewMemState(), "bench")
		o.PackSize = 16 << 20
		v, err := vault.Init(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := v.Sync(ctx, vault.Job{Project: "p", Root: root, Files: files}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoChange100k is a sync with nothing to do over 100,000 files.
func BenchmarkNoChange100k(b *testing.B) {
	root := b.TempDir()
	for i := 0; i < 100000; i++ {
		d := filepath.Join(root, fmt.Sprintf("d%03d", i%200))
		if i < 200 {
			os.MkdirAll(d, 0o755)
		}
		os.WriteFile(filepath.Join(d, fmt.Sprintf("f%06d.txt", i)), []byte(fmt.Sprint(i)), 0o644)
	}
	files := scan(b, root)
	v, err := vault.Init(ctx, opts(fileRemoteB(b), vault.NewMemState(), "bench"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Sync(ctx, vault.Job{Project: "p", Root: root, Files: files}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := v.Sync(ctx, vault.Job{Project: "p", Root: root, Files: files})
		if err != nil || !r.NoChange {
			b.Fatal(err, r.NoChange)
		}
	}
}
