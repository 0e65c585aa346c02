// Command library is the benchmark helper for the Library issue: it reads
// the metadata of every file under a directory, the way the render queue
// does, and reports the rate.
//
//	go run ./bench/library meta DIR
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"atelier/app/library/meta"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "meta" {
		fmt.Fprintln(os.Stderr, "usage: library meta DIR")
		os.Exit(2)
	}
	t0 := time.Now()
	n, tagged, failed := 0, 0, 0
	err := filepath.WalkDir(os.Args[2], func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		m, err := meta.ReadFile(p)
		switch {
		case err == meta.ErrUnsupported:
		case err != nil:
			failed++
		case m.Format != "":
			tagged++
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	el := time.Since(t0)
	fmt.Printf("%d files, %d with metadata, %d unreadable, in %v (%.0f files/s)\n", n, tagged, failed, el.Round(time.Millisecond), float64(n)/el.Seconds())
	if failed > 0 {
		os.Exit(1)
	}
}
