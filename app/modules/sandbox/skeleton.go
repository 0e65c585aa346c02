package sandbox

import (
	"fmt"
	"sort"
	"strings"

	"atelier/signing/manifest"
)

// Skeleton returns the files of a new module of the given kind, by path:
// a manifest and, for an action or a panel, a working Go program with its
// go.mod and a build script, so `atelier module run --dev DIR` runs it at
// once under the sandbox a user's Atelier will apply.
func Skeleton(kind, name, version, license, author string) (map[string][]byte, error) {
	m := manifest.Manifest{Name: name, Version: version, Kind: kind, License: license, Author: author, Permissions: []string{}}
	files := map[string][]byte{}
	switch kind {
	case manifest.KindAction:
		m.Description = "Reads the project and writes a report."
		m.Permissions = []string{manifest.PermScriptRun, manifest.PermProjectRead, manifest.PermModuleWrite}
		files["main.go"] = []byte(actionMain)
	case manifest.KindPanel:
		m.Description = "Draws a chart from analytics rollups."
		m.Permissions = []string{manifest.PermScriptRun, manifest.PermAnalyticsRead}
		files["main.go"] = []byte(panelMain)
	case manifest.KindTemplate:
		m.Description = "A project skeleton."
		files["template/README.md"] = []byte("# {{project}}\n\nStarted on {{date}}.\n")
	case manifest.KindPreset:
		m.Description = "Presets installed into a folder you pick."
		m.Permissions = []string{manifest.PermFolderPrefix + "presets"}
		files["preset/README.txt"] = []byte("Put the preset files here.\n")
	default:
		return nil, fmt.Errorf("kind %q is not one of %s", kind, strings.Join(manifest.KindNames(), ", "))
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	files[manifest.FileName] = m.Marshal()
	if m.Runs() {
		mod := strings.NewReplacer("@", "", "/", "-").Replace(name)
		files["go.mod"] = []byte("module " + mod + "\n\ngo 1.26\n")
		files["build.sh"] = []byte(buildScript)
		files[".gitignore"] = []byte("*.wasm\n")
	}
	return files, nil
}

// SkeletonPaths lists a skeleton's paths in a stable order (for messages).
func SkeletonPaths(files map[string][]byte) []string {
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

const buildScript = `#!/bin/sh
# Builds the module's program for WebAssembly (WASI preview 1).
set -e
cd "$(dirname "$0")"
GOOS=wasip1 GOARCH=wasm go build -o main.wasm .
echo "built main.wasm: try it with  atelier module run --dev . PROJECT"
`

const actionMain = `// An Atelier action module. It runs in a sandbox: the project is mounted
// read-only at $ATELIER_PROJECT (only the selected files when the creator ran
// it on a selection; they are also the arguments), its output folder at
// $ATELIER_OUT. Nothing else is reachable: no other file, no network.
// What it prints is the report the creator sees; files it writes into the
// output folder are linked from the report.
//
// Build: ./build.sh   Run: atelier module run --dev . PROJECT
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	project, out := os.Getenv("ATELIER_PROJECT"), os.Getenv("ATELIER_OUT")
	var files int
	var bytes int64
	err := filepath.WalkDir(project, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			files++
			bytes += info.Size()
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "walk the project:", err)
		os.Exit(1)
	}
	report := fmt.Sprintf("%d files, %d bytes\n", files, bytes)
	fmt.Print(report)
	if out != "" {
		if err := os.WriteFile(filepath.Join(out, "summary.txt"), []byte(report), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write summary.txt:", err)
			os.Exit(1)
		}
	}
}
`

const panelMain = `// An Atelier panel module. It runs in a sandbox with the analytics rollups
// it was granted mounted read-only at $ATELIER_ROLLUPS, and prints a chart
// spec (JSON) that the Privacy dashboard draws.
//
// Build: ./build.sh
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := os.Getenv("ATELIER_ROLLUPS")
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	chart := map[string]any{"type": "bar", "title": "Rollups", "labels": []string{}, "values": []int{}}
	for _, n := range names {
		chart["labels"] = append(chart["labels"].([]string), filepath.Base(n))
		info, err := os.Stat(n)
		if err != nil {
			continue
		}
		chart["values"] = append(chart["values"].([]int), int(info.Size()))
	}
	b, _ := json.Marshal(chart)
	fmt.Println(string(b))
}
`
