package sandbox

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"atelier/app/modules/sandbox/sandboxtest"
	"atelier/signing/manifest"
)

func benchModule(b *testing.B) Module {
	wasm := sandboxtest.Build(b, "./testdata/hostile")
	dir := b.TempDir()
	sandboxtest.Install(b, wasm, dir, manifest.DefaultMain)
	return Module{Manifest: manifest.Manifest{Name: "@bench/noop", Version: "1.0.0", Kind: manifest.KindAction, License: "MIT", Permissions: []string{manifest.PermScriptRun, manifest.PermProjectRead, manifest.PermModuleWrite}}, Dir: dir}
}

// cpuTime is the process's user+system CPU time: on a busy machine it says
// more about a run's cost than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ms/op to a benchmark's figures.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func benchRun(b *testing.B, r *Runner, m Module, req Request) *Record {
	rec, err := r.Run(context.Background(), m, req)
	if err != nil {
		b.Fatalf("%v\n%s", err, rec.Log)
	}
	return rec
}

// BenchmarkStartCold is the first run of a module version: compile, then run.
func BenchmarkStartCold(b *testing.B) {
	m := benchModule(b)
	req := Request{Project: b.TempDir(), Args: []string{"noop"}}
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		r, err := New(context.Background(), Config{CacheDir: b.TempDir(), Log: quiet})
		if err != nil {
			b.Fatal(err)
		}
		benchRun(b, r, m, req)
		r.Close(context.Background())
	}
}

// BenchmarkStartWarmCache is a new process's first run of a module compiled
// before: the compiled code comes from the cache folder (goal: ≤ 20 ms).
func BenchmarkStartWarmCache(b *testing.B) {
	m := benchModule(b)
	req := Request{Project: b.TempDir(), Args: []string{"noop"}}
	cache := b.TempDir()
	r, _ := New(context.Background(), Config{CacheDir: cache, Log: quiet})
	benchRun(b, r, m, req)
	r.Close(context.Background())
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		r, err := New(context.Background(), Config{CacheDir: cache, Log: quiet})
		if err != nil {
			b.Fatal(err)
		}
		benchRun(b, r, m, req)
		r.Close(context.Background())
	}
}

// BenchmarkStartWarm is a later run in the same process (the engine's case):
// the compiled module is in memory (goal: ≤ 20 ms).
func BenchmarkStartWarm(b *testing.B) {
	m := benchModule(b)
	req := Request{Project: b.TempDir(), Args: []string{"noop"}}
	r, _ := New(context.Background(), Config{CacheDir: b.TempDir(), Log: quiet})
	defer r.Close(context.Background())
	benchRun(b, r, m, req)
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		benchRun(b, r, m, req)
	}
}

func benchProject(b *testing.B) (string, int64) {
	dir := b.TempDir()
	var total int64
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for i := 0; i < 64; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%4), fmt.Sprintf("f%02d.bin", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(buf))
	}
	return dir, total
}

// BenchmarkReadSandboxed reads 64 MiB in 64 files from inside the sandbox
// (start included); compare with BenchmarkReadNative.
func BenchmarkReadSandboxed(b *testing.B) {
	m := benchModule(b)
	dir, total := benchProject(b)
	r, _ := New(context.Background(), Config{CacheDir: b.TempDir(), Log: quiet})
	defer r.Close(context.Background())
	req := Request{Project: dir, Args: []string{"readall"}}
	benchRun(b, r, m, req)
	b.SetBytes(total)
	for b.Loop() {
		rec := benchRun(b, r, m, req)
		if strings.TrimSpace(rec.Report) != fmt.Sprint(total) {
			b.Fatalf("read %s, want %d", rec.Report, total)
		}
	}
}

// BenchmarkReadNative is the same reads done by the host.
func BenchmarkReadNative(b *testing.B) {
	dir, total := benchProject(b)
	b.SetBytes(total)
	buf := make([]byte, 64<<10)
	for b.Loop() {
		var n int64
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			for {
				k, err := f.Read(buf)
				n += int64(k)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
			}
		})
		if n != total {
			b.Fatalf("read %d", n)
		}
	}
}

var quiet = slog.New(slog.DiscardHandler)
