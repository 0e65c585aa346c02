// Package modules holds the studio's first-party modules, written in Go for
// WASI preview 1 and signed by the demo workspace:
//
//	release-check     action: loudness target, clipping, sample rates, cover art
//	loudness-report   action: loudness.csv and loudness.html of a project
//	podcast-episode   template: a podcast episode project skeleton
//	listening-panel   panel: audience (or usage) totals for the Privacy dashboard
//
// Each folder holds atelier-module.json and the program's source (an action)
// or its template/ folder (a template). scripts/build-modules.sh (make
// modules) builds each action with GOOS=wasip1 GOARCH=wasm and stages every
// module, ready to pack and sign, under build/bin/modules/NAME.
package modules

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"atelier/signing/manifest"
)

// FirstParty names the module folders, in the order the demo installs them.
var FirstParty = []string{"release-check", "loudness-report", "podcast-episode", "listening-panel"}

// Stage assembles a module ready to pack from its source folder src: the
// manifest, the built program (wasm, for an action or a panel; "" for a
// template) as the manifest's main, and a template's template/ folder.
func Stage(src, wasm, dst string) (manifest.Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(src, manifest.FileName))
	if err != nil {
		return manifest.Manifest{}, err
	}
	m, err := manifest.Parse(raw, filepath.Join(src, manifest.FileName))
	if err != nil {
		return m, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return m, err
	}
	if err := os.WriteFile(filepath.Join(dst, manifest.FileName), raw, 0o644); err != nil {
		return m, err
	}
	if m.Runs() {
		if wasm == "" {
			return m, fmt.Errorf("%s is an %s: build its program first (make modules)", m.Name, m.Kind)
		}
		b, err := os.ReadFile(wasm)
		if err != nil {
			return m, err
		}
		p := filepath.Join(dst, filepath.FromSlash(m.Program()))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return m, err
		}
		return m, os.WriteFile(p, b, 0o644)
	}
	tmpl := filepath.Join(src, "template")
	if _, err := os.Stat(tmpl); err != nil {
		return m, nil
	}
	return m, filepath.WalkDir(tmpl, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
