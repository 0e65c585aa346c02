// Command foundation is the benchmark helper for the foundation issue:
// generate trees, and measure change latency on a live engine.
//
//	go run ./bench/foundation gen-large DIR     2,000 files totalling 1 GiB
//	go run ./bench/foundation gen-small DIR     100,000 files of 1 KiB
//	go run ./bench/foundation latency N         write N files, time index and UI event
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"atelier/app"
	"atelier/app/index"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: foundation gen-large|gen-small DIR | latency N")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen-large":
		err = gen(os.Args[2], 2000, 512<<10, 20)
	case "gen-small":
		err = gen(os.Args[2], 100000, 1<<10, 100)
	case "latency":
		n, _ := strconv.Atoi(os.Args[2])
		err = latency(n)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "foundation:", err)
		os.Exit(1)
	}
}

func gen(dir string, n, size, dirs int) error {
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, size)
	for i := range n {
		rng.Read(buf)
		p := filepath.Join(dir, fmt.Sprintf("d%03d", i%dirs), fmt.Sprintf("e%02d", (i/dirs)%10), fmt.Sprintf("f%06d.dat", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// latency measures, for n single-file writes, the time from the write to the
// index record and to the activity event the UI receives.
func latency(n int) error {
	home, _ := os.MkdirTemp("", "atelier-latency-")
	defer os.RemoveAll(home)
	proj := filepath.Join(home, "project")
	os.MkdirAll(proj, 0o755)
	e, err := app.Open(app.DirsUnder(home), app.Options{Background: true})
	if err != nil {
		return err
	}
	defer e.Close()
	p, err := e.Projects.Add(proj)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	events, cancel := e.Hub().Subscribe()
	defer cancel()
	var toIndex, toUI []time.Duration
	store := index.NewStore(e.DB, p.ID)
	for i := range n {
		name := fmt.Sprintf("notes%04d.txt", i)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(proj, name), []byte(name), 0o644); err != nil {
			return err
		}
		indexed, seen := false, false
		deadline := time.After(10 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		for !indexed || !seen {
			select {
			case ev := <-events:
				if b, ok := ev.Data.(app.ActivityBatch); ok && !seen {
					for _, it := range b.Items {
						if it.Path == name {
							seen = true
							toUI = append(toUI, time.Since(start))
						}
					}
				}
			case <-tick.C:
				if !indexed {
					if _, ok, _ := store.Get(name); ok {
						indexed = true
						toIndex = append(toIndex, time.Since(start))
					}
				}
			case <-deadline:
				tick.Stop()
				return fmt.Errorf("%s: not indexed/seen within 10 s", name)
			}
		}
		tick.Stop()
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("change latency over %d writes (debounce 100 ms, UI batches every %s):\n", n, app.ActivityBatchInterval)
	fmt.Printf("  write -> index record   p50 %6.1f ms   p99 %6.1f ms\n", ms(pct(toIndex, 50)), ms(pct(toIndex, 99)))
	fmt.Printf("  write -> UI event       p50 %6.1f ms   p99 %6.1f ms\n", ms(pct(toUI, 50)), ms(pct(toUI, 99)))
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
