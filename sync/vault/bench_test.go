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

// oneChangeProject is 10,000 small files in 100 folders plus a 16 MiB take.
func oneChangeProject(b *testing.B) string {
	root := b.TempDir()
	for i := 0; i < 10000; i++ {
		d := filepath.Join(root, fmt.Sprintf("d%02d", i%100))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, fmt.Sprintf("f%05d.txt", i)), []byte(fmt.Sprint("note ", i)), 0o644)
	}
	buf := make([]byte, 16<<20)
	fill(buf, 99)
	os.WriteFile(filepath.Join(root, "take.wav"), buf, 0o644)
	return root
}

// editTake rewrites 64 KiB in the middle of take.wav.
func editTake(b *testing.B, root string, i int) {
	f, err := os.OpenFile(filepath.Join(root, "take.wav"), os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	fill(buf, uint64(1000+i))
	f.WriteAt(buf, 8<<20)
	f.Close()
}

// BenchmarkCopyOneChange is what a cloud sync sends after one edit of a
// 16 MiB take in a 10,000-file project since history copied: local history
// takes the version, the copy translates its new chunks and the trees on
// its path (its peer is BenchmarkSyncOneChange: the sync chunking the take
// itself).
func BenchmarkCopyOneChange(b *testing.B) {
	root := oneChangeProject(b)
	ho := opts(fileRemoteB(b), vault.NewMemState(), "bench")
	ho.Chunker = &vault.Chunker{Min: 8 << 10, Avg: 32 << 10, Max: 128 << 10}
	hv, err := vault.Init(ctx, ho)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := hv.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: scan(b, root)}); err != nil {
		b.Fatal(err)
	}
	cv, err := vault.Init(ctx, opts(fileRemoteB(b), vault.NewMemState(), "bench"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "p"}); err != nil {
		b.Fatal(err)
	}
	var sent int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		editTake(b, root, i)
		if _, err := hv.Commit(ctx, vault.Commit{Project: "p", Root: root, Put: []vault.LocalFile{{Path: "take.wav"}}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := cv.CopyFrom(ctx, hv, vault.CopyOptions{Project: "p"})
		if err != nil || r.NoChange {
			b.Fatal(err, r.NoChange)
		}
		sent += r.BytesSent
	}
	b.ReportMetric(float64(sent)/float64(b.N), "sent-bytes/op")
}

// BenchmarkSyncOneChange is the peer of BenchmarkCopyOneChange: the sync
// reading and chunking the edited take itself (512 KiB chunks).
func BenchmarkSyncOneChange(b *testing.B) {
	root := oneChangeProject(b)
	cv, err := vault.Init(ctx, opts(fileRemoteB(b), vault.NewMemState(), "bench"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cv.Sync(ctx, vault.Job{Project: "p", Root: root, Files: scan(b, root)}); err != nil {
		b.Fatal(err)
	}
	var sent int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		editTake(b, root, i)
		files := scan(b, root)
		b.StartTimer()
		r, err := cv.Sync(ctx, vault.Job{Project: "p", Root: root, Files: files})
		if err != nil || r.NoChange {
			b.Fatal(err, r.NoChange)
		}
		sent += r.BytesSent
	}
	b.ReportMetric(float64(sent)/float64(b.N), "sent-bytes/op")
}
