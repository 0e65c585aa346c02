package history_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchEnv is a project of n small files with a first version taken.
func benchEnv(b *testing.B, n int) *env {
	e := openEnv(b, b.TempDir(), b.TempDir(), b.TempDir(), &clock{t: time.Now()})
	for i := 0; i < n; i++ {
		p := filepath.Join(e.root, fmt.Sprintf("s%02d/p%d/n%05d.txt", i%20, (i/20)%5, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(fmt.Sprintf("note %d", i)), 0o644)
	}
	if _, err := e.h.FlushProject(ctx, "song"); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkVersionOneChange: the cost of a version after one file of a
// 10,000-file project changed (issue 13 (a); bench/history.sh runs it at
// 100,000 files beside restic).
func BenchmarkVersionOneChange(b *testing.B) {
	e := benchEnv(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.save(b, "s03/p0/n00003.txt", "edit "+strconv.Itoa(i))
		if _, err := e.h.FlushProject(ctx, "song"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVersionsList: the versions of one file after 300 versions of
// the project (issue 13 (b)).
func BenchmarkVersionsList(b *testing.B) {
	e := benchEnv(b, 1000)
	for i := 0; i < 300; i++ {
		e.save(b, "s03/p0/n00003.txt", "edit "+strconv.Itoa(i))
		if _, err := e.h.FlushProject(ctx, "song"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vs, err := e.h.Versions("song", "s03/p0/n00003.txt")
		if err != nil || len(vs) != 301 {
			b.Fatal(len(vs), err)
		}
	}
}

// BenchmarkRestoreOneFile: one file from the first version as a copy
// (issue 13 (c)).
func BenchmarkRestoreOneFile(b *testing.B) {
	e := benchEnv(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.h.RestoreAs(ctx, "song", "s07/p1/n00027.txt", "1", "restored.txt"); err != nil {
			b.Fatal(err)
		}
	}
}
