// Package studio is what the first-party modules share: finding the files an
// action was given, measuring audio with Atelier's own decoders, and writing
// results into the run's output folder. It runs inside the sandbox (wasip1),
// where the project is at $ATELIER_PROJECT and the output folder at
// $ATELIER_OUT, and natively in tests and benchmarks.
package studio

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // cover art
	_ "image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"atelier/app/preview/audio"
)

// Env is where an action runs: the project, its selection and its output folder.
type Env struct {
	Project string   // host or guest path of the project ("" if not granted)
	Out     string   // output folder ("" if not granted)
	Paths   []string // selection relative to Project; empty: everything
}

// FromArgs reads the environment the sandbox gives an action: the selected
// paths are the arguments.
func FromArgs() Env {
	return Env{Project: os.Getenv("ATELIER_PROJECT"), Out: os.Getenv("ATELIER_OUT"), Paths: os.Args[1:]}
}

// audioExt and imageExt are what the modules look at.
var (
	audioExt = map[string]bool{".wav": true, ".wave": true, ".flac": true, ".mp3": true}
	imageExt = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}
)

// IsAudio reports whether a path names an audio file the modules measure.
func IsAudio(p string) bool { return audioExt[strings.ToLower(path.Ext(p))] }

// IsImage reports whether a path names an image the modules look at.
func IsImage(p string) bool { return imageExt[strings.ToLower(path.Ext(p))] }

// Files lists the project's files (slash paths relative to the project),
// sorted, limited to the selection when there is one.
func (e Env) Files() ([]string, error) {
	if e.Project == "" {
		return nil, errors.New("this module needs permission project:read to see the project")
	}
	roots := e.Paths
	if len(roots) == 0 {
		roots = []string{"."}
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range roots {
		err := filepath.WalkDir(filepath.Join(e.Project, filepath.FromSlash(r)), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: skipped, as a creator's own tools would
			}
			if d.IsDir() {
				if n := d.Name(); p != e.Project && (strings.HasPrefix(n, ".") || n == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(e.Project, p)
			if err != nil {
				return nil
			}
			rel = filepath.ToSlash(rel)
			if !seen[rel] {
				seen[rel] = true
				out = append(out, rel)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Measure is one audio file's format and loudness.
type Measure struct {
	Path     string         `json:"path"`
	Info     audio.Info     `json:"info"`
	Loudness audio.Loudness `json:"loudness"`
	Error    string         `json:"error,omitempty"`
}

// ImageSize reads an image's dimensions without decoding its pixels.
func (e Env) ImageSize(rel string) (int, int, error) {
	f, err := os.Open(filepath.Join(e.Project, filepath.FromSlash(rel)))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	c, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s is not a readable JPEG or PNG: %w", rel, err)
	}
	return c.Width, c.Height, nil
}

// Write writes a file into the output folder.
func (e Env) Write(name string, data []byte) error {
	if e.Out == "" {
		return errors.New("this module needs permission module:write to write its report files")
	}
	return os.WriteFile(filepath.Join(e.Out, name), data, 0o644)
}
