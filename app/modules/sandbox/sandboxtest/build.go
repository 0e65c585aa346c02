// Package sandboxtest builds Go programs for wasip1 in tests: hostile modules
// and the studio's first-party modules. Builds are cached under the
// repository's ignored .cache/wasm folder, keyed by the Go version and every
// non-standard source file the program depends on, so a test run that changes
// nothing builds nothing.
package sandboxtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

var buildMu sync.Mutex

// Build builds the main package in dir (a path, e.g. "./testdata/hostile")
// for GOOS=wasip1 GOARCH=wasm and returns the path of the .wasm file. A build
// failure fails the test: a test that needs a module never skips.
func Build(t testing.TB, dir string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	root := repoRoot(t, abs)
	env := append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	list := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", ".")
	list.Dir, list.Env = abs, env
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list the dependencies of %s: %v (%s)", dir, err, stderrOf(err))
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	hashFile(h, filepath.Join(root, "go.sum"))
	dirs := strings.Fields(string(out))
	sort.Strings(dirs)
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.go"))
		sort.Strings(files)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fmt.Fprintln(h, f)
			hashFile(h, f)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))[:24]
	cacheDir := filepath.Join(root, ".cache", "wasm")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(cacheDir, filepath.Base(abs)+"-"+sum+".wasm")
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	tmp := dst + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, ".")
	cmd.Dir, cmd.Env = abs, env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=wasip1 GOARCH=wasm go build %s: %v\n%s", dir, err, b)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func hashFile(w io.Writer, p string) {
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	io.Copy(w, f)
}

func repoRoot(t testing.TB, dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// Install copies a built program into a module folder as name (e.g.
// main.wasm) next to the manifest the caller writes.
func Install(t testing.TB, wasm, moduleDir, name string) {
	t.Helper()
	b, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(moduleDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
