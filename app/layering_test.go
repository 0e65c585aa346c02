package app

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// featurePackages are the feature packages under app/: each is built with
// narrow interfaces in wire.go and never imports another one, directly or
// through a package in between.
var featurePackages = []string{
	"atelier/app/projects",
	"atelier/app/library",
	"atelier/app/sync",
	"atelier/app/modules",
	"atelier/app/privacy",
	"atelier/app/history",
}

// importsOf reads the imports of the non-test Go files of an atelier/...
// package (its folder under the module root "..").
func importsOf(t *testing.T, pkg string) []string {
	dir := filepath.Join("..", strings.TrimPrefix(pkg, "atelier/"))
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	seen := map[string]bool{}
	fs := token.NewFileSet()
	for _, en := range ents {
		n := en.Name()
		if en.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fs, filepath.Join(dir, n), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", n, err)
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			seen[p] = true
		}
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TestFeaturesDoNotImportEachOther walks each feature package's imports
// within the module, transitively, and fails on any path that reaches
// another feature package or the engine (atelier/app) itself.
func TestFeaturesDoNotImportEachOther(t *testing.T) {
	feature := map[string]bool{}
	for _, p := range featurePackages {
		feature[p] = true
	}
	for _, root := range featurePackages {
		via := map[string]string{root: ""}
		queue := []string{root}
		for len(queue) > 0 {
			pkg := queue[0]
			queue = queue[1:]
			for _, im := range importsOf(t, pkg) {
				if im != "atelier" && !strings.HasPrefix(im, "atelier/") {
					continue
				}
				if _, ok := via[im]; ok {
					continue
				}
				via[im] = pkg
				if im == "atelier/app" || (feature[im] && im != root) {
					chain := []string{im}
					for p := pkg; p != ""; p = via[p] {
						chain = append([]string{p}, chain...)
					}
					t.Errorf("%s reaches %s: %s; hand it a narrow interface in app/wire.go instead", root, im, strings.Join(chain, " -> "))
					continue
				}
				queue = append(queue, im)
			}
		}
		if len(via) < 3 {
			t.Errorf("%s: only %d packages reached; is the walk reading the right folders?", root, len(via))
		}
	}
}
