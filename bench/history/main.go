// Command history is the benchmark driver for local history (issue 13);
// bench/history.sh runs it beside restic on the same data.
//
//	go run ./bench/history gen DIR FILES WAVMB     FILES small files + take.wav of WAVMB MiB
//	go run ./bench/history edit FILE OFF LEN SEED   rewrite LEN bytes of FILE at OFF
//	go run ./bench/history run -root DIR -data DIR [-snaps N] [-versions N]
//
// run prints one JSON object per measurement:
//
//	(a) "one-change": time and bytes written for a version after one file changed
//	(b) "list-versions": listing the versions of one file after -snaps versions
//	(c) "restore-one": restoring one file from the first version
//	(d) "wav-versions": disk used by -versions versions of take.wav, each
//	    changing one 1 MiB region, against the WAV's size
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"atelier/app/history"
	"atelier/localdb"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: history gen DIR FILES WAVMB | edit FILE OFF LEN SEED | run -root DIR -data DIR")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		if len(os.Args) != 5 {
			err = fmt.Errorf("gen DIR FILES WAVMB")
			break
		}
		n, _ := strconv.Atoi(os.Args[3])
		mb, _ := strconv.Atoi(os.Args[4])
		err = gen(os.Args[2], n, mb)
	case "edit":
		if len(os.Args) != 6 {
			err = fmt.Errorf("edit FILE OFF LEN SEED")
			break
		}
		off, _ := strconv.ParseInt(os.Args[3], 10, 64)
		n, _ := strconv.Atoi(os.Args[4])
		seed, _ := strconv.ParseUint(os.Args[5], 10, 64)
		err = edit(os.Args[2], off, n, seed)
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "history bench:", err)
		os.Exit(1)
	}
}

func fill(b []byte, seed uint64) {
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)}).Read(b)
}

// smallPath spreads files over 100 folders of two levels.
func smallPath(i int) string {
	return fmt.Sprintf("session%02d/part%d/note%06d.txt", i%20, (i/20)%5, i)
}

func gen(dir string, n, wavMB int) error {
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, filepath.FromSlash(smallPath(i)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		b := make([]byte, 200+i%800)
		fill(b, uint64(i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	b := make([]byte, wavMB<<20)
	fill(b, 424242)
	return os.WriteFile(filepath.Join(dir, "take.wav"), b, 0o644)
}

func edit(file string, off int64, n int, seed uint64) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	b := make([]byte, n)
	fill(b, seed)
	if _, err := f.WriteAt(b, off); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type src struct{ root string }

func (s src) Root(string) (string, error) { return s.root, nil }
func (s src) Files(string) ([]history.File, error) {
	var out []history.File
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(s.root, p)
		fi, _ := d.Info()
		out = append(out, history.File{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode()})
		return nil
	})
	return out, err
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func tell(h *history.History, root, p string) error {
	abs := filepath.Join(root, filepath.FromSlash(p))
	fi, err := os.Stat(abs)
	if err != nil {
		return err
	}
	return h.Consider(history.Change{Project: "bench", Op: history.OpModify, Path: p, Size: fi.Size(), ModTime: fi.ModTime()})
}

func run(args []string) error {
	fl := flag.NewFlagSet("run", flag.ExitOnError)
	root := fl.String("root", "", "project folder (from gen)")
	data := fl.String("data", "", "an empty folder for the history vault and database")
	snaps := fl.Int("snaps", 1000, "versions taken before listing one file's versions")
	versions := fl.Int("versions", 50, "versions of take.wav, each changing one 1 MiB region")
	firstOnly := fl.Bool("first-only", false, "stop after the first version (with -cpuprofile/-heapprofile: profile it)")
	cpuProf := fl.String("cpuprofile", "", "write a CPU profile of the first version to this file")
	heapProf := fl.String("heapprofile", "", "write a heap profile at the first version's peak live heap to this file")
	fl.Parse(args)
	ctx := context.Background()
	db, err := localdb.Open(filepath.Join(*data, "db"), localdb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	vdir := filepath.Join(*data, "history")
	h, err := history.Open(ctx, history.Options{Dir: vdir, DB: db, Files: src{*root}, Settle: time.Millisecond})
	if err != nil {
		return err
	}
	defer h.Close()
	wav := filepath.Join(*root, "take.wav")
	wfi, err := os.Stat(wav)
	if err != nil {
		return err
	}

	t0, cpu0 := time.Now(), cpuTime()
	stopProf, err := profile(*cpuProf, *heapProf)
	if err != nil {
		return err
	}
	first, err := h.FlushProject(ctx, "bench")
	if err != nil {
		return err
	}
	peak := stopProf()
	emit(map[string]any{"phase": "first-version", "files": first.Files, "seconds": time.Since(t0).Seconds(), "cpuSeconds": (cpuTime() - cpu0).Seconds(),
		"peakLiveHeapMiB": float64(peak) / (1 << 20), "peakRSSMiB": float64(peakRSS()) / (1 << 20), "vaultBytes": dirSize(vdir)})
	if *firstOnly {
		return nil
	}

	// (a) one small file changes.
	var best, bestCPU time.Duration
	var bytes int64
	for i := 0; i < 5; i++ {
		p := smallPath(i * 7)
		b := []byte(fmt.Sprintf("edit %d %d", i, time.Now().UnixNano()))
		os.WriteFile(filepath.Join(*root, filepath.FromSlash(p)), b, 0o644)
		if err := tell(h, *root, p); err != nil {
			return err
		}
		before := dirSize(vdir)
		t, c := time.Now(), cpuTime()
		if _, err := h.FlushProject(ctx, "bench"); err != nil {
			return err
		}
		d, dc := time.Since(t), cpuTime()-c
		if best == 0 || d < best {
			best, bytes = d, dirSize(vdir)-before
		}
		if bestCPU == 0 || dc < bestCPU {
			bestCPU = dc
		}
	}
	// cpuMs is the process's CPU time (background work included): the
	// figure to trust on a loaded machine.
	emit(map[string]any{"phase": "one-change", "ms": float64(best.Microseconds()) / 1000, "cpuMs": float64(bestCPU.Microseconds()) / 1000, "bytesWritten": bytes})

	// (b) list one file's versions after many versions.
	target := smallPath(3)
	for i := 0; i < *snaps; i++ {
		p := target
		if i%2 == 1 {
			p = smallPath(11)
		}
		os.WriteFile(filepath.Join(*root, filepath.FromSlash(p)), []byte(fmt.Sprintf("v%d", i)), 0o644)
		if err := tell(h, *root, p); err != nil {
			return err
		}
		if _, err := h.FlushProject(ctx, "bench"); err != nil {
			return err
		}
	}
	var n int
	t1, c1 := time.Now(), cpuTime()
	const reps = 20
	for i := 0; i < reps; i++ {
		vs, err := h.Versions("bench", target)
		if err != nil {
			return err
		}
		n = len(vs)
	}
	el, elCPU := time.Since(t1), cpuTime()-c1
	tl, _ := h.Timeline("bench")
	emit(map[string]any{"phase": "list-versions", "ms": float64(el.Microseconds()) / 1000 / reps, "cpuMs": float64(elCPU.Microseconds()) / 1000 / reps, "versions": n, "points": len(tl)})

	// (c) restore one file from the first version (cold tree cache: a new process would be colder still).
	out := filepath.Join(*root, "restored-note.txt")
	os.Remove(out)
	t2 := time.Now()
	if _, err := h.RestoreAs(ctx, "bench", smallPath(42), strconv.FormatInt(first.Seq, 10), "restored-note.txt"); err != nil {
		return err
	}
	emit(map[string]any{"phase": "restore-one", "ms": float64(time.Since(t2).Microseconds()) / 1000})
	os.Remove(out)

	// (d) versions of the WAV, each changing one 1 MiB region.
	before := dirSize(vdir)
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < *versions; i++ {
		off := r.Int64N(wfi.Size() - 1<<20)
		if err := edit(wav, off, 1<<20, uint64(1000+i)); err != nil {
			return err
		}
		if err := tell(h, *root, "take.wav"); err != nil {
			return err
		}
		if _, err := h.FlushProject(ctx, "bench"); err != nil {
			return err
		}
	}
	grown := dirSize(vdir) - before
	vs, _ := h.Versions("bench", "take.wav")
	emit(map[string]any{"phase": "wav-versions", "versions": len(vs), "wavBytes": wfi.Size(), "addedBytes": grown, "ratio": float64(wfi.Size()+grown) / float64(wfi.Size())})
	return nil
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set (VmHWM), 0 when unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// profile starts a CPU profile (cpu != "") and a watcher of the live heap:
// every half second it collects and reads the live heap; at a new peak it
// writes the heap profile to heap (when set). The stop function returns
// the peak live heap seen. The forced collections cost some CPU time.
func profile(cpu, heap string) (stop func() int64, err error) {
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	done := make(chan struct{})
	var peak int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if int64(ms.HeapAlloc) <= peak {
				continue
			}
			peak = int64(ms.HeapAlloc)
			if heap != "" {
				if f, err := os.Create(heap); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() int64 {
		close(done)
		wg.Wait()
		if cpu != "" {
			pprof.StopCPUProfile()
		}
		return peak
	}, nil
}
