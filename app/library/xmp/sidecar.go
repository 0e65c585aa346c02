package xmp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"atelier/atomicfile"
)

// Style is where a new sidecar goes.
type Style string

const (
	// StyleExt names it file.ext.xmp (darktable, digiKam): one sidecar per file.
	StyleExt Style = "ext"
	// StyleBase names it file.xmp (Lightroom, Bridge, Capture One).
	StyleBase Style = "base"
)

// Sidecars finds, reads and writes the sidecars of one project's files.
type Sidecars struct {
	Root  string // the project folder
	Dir   string // "" keeps sidecars beside the files; else they live here, in the same tree
	Style Style  // for new sidecars ("" = StyleExt)
}

// Sidecar is a sidecar read from disk.
type Sidecar struct {
	Path    string    `json:"path"` // absolute
	Marks   Marks     `json:"marks"`
	ModTime time.Time `json:"modTime"`
}

// IsSidecar reports whether a project path is an XMP sidecar.
func IsSidecar(rel string) bool { return strings.EqualFold(path.Ext(rel), ".xmp") }

// Owners lists which of a folder's files a sidecar belongs to: "a.wav.xmp"
// to "a.wav"; "a.xmp" to every "a.*" (a RAW and its JPEG share one).
// siblings are the other files' names in the sidecar's folder.
func Owners(sidecar string, siblings []string) []string {
	dir, name := path.Split(sidecar)
	stem := name[:len(name)-len(path.Ext(name))]
	var out []string
	for _, s := range siblings {
		if IsSidecar(s) {
			continue
		}
		if s == stem || strings.TrimSuffix(s, path.Ext(s)) == stem && path.Ext(s) != "" {
			out = append(out, dir+s)
		}
	}
	return out
}

// candidates are where the sidecar of rel may be: file.ext.xmp, then file.xmp.
func (s Sidecars) candidates(rel string) []string {
	base := s.Root
	if s.Dir != "" {
		base = s.Dir
	}
	p := filepath.Join(base, filepath.FromSlash(rel))
	out := []string{p + ".xmp"}
	if ext := filepath.Ext(p); ext != "" && !strings.EqualFold(ext, ".xmp") {
		out = append(out, strings.TrimSuffix(p, ext)+".xmp")
	}
	return out
}

// Path is where the sidecar of rel is, or would be written.
func (s Sidecars) Path(rel string) string {
	c := s.candidates(rel)
	for _, p := range c {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if s.Style == StyleBase && len(c) > 1 {
		return c[1]
	}
	return c[0]
}

// Read reads the sidecar of rel. With both conventions present, the newer
// one wins. ok is false when there is none.
func (s Sidecars) Read(rel string) (sc Sidecar, ok bool, err error) {
	for _, p := range s.candidates(rel) {
		one, found, err := readFile(p)
		if err != nil {
			return Sidecar{}, false, err
		}
		if found && (!ok || one.ModTime.After(sc.ModTime)) {
			sc, ok = one, true
		}
	}
	return sc, ok, nil
}

func readFile(p string) (Sidecar, bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Sidecar{}, false, nil
	}
	if err != nil {
		return Sidecar{}, false, fmt.Errorf("read the sidecar %s: %w", p, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Sidecar{}, false, fmt.Errorf("read the sidecar %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return Sidecar{}, false, fmt.Errorf("the sidecar %s is not a regular file", p)
	}
	doc, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return Sidecar{}, false, fmt.Errorf("read the sidecar %s: %w", p, err)
	}
	m, err := Parse(doc)
	if err != nil {
		return Sidecar{}, false, fmt.Errorf("the sidecar %s cannot be read (%v): fix or delete it to rate and tag the file here", p, err)
	}
	return Sidecar{Path: p, Marks: m, ModTime: st.ModTime()}, true, nil
}

// Write stores m in the sidecar of rel: the existing one is updated in place
// (keeping everything else in it; every existing convention is updated), or
// a new one is made, atomically. Marks that say nothing clear the four
// properties of an existing sidecar and make no new one.
func (s Sidecars) Write(rel string, m Marks) ([]string, error) {
	var written []string
	for _, p := range s.candidates(rel) {
		doc, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return written, fmt.Errorf("read the sidecar %s: %w", p, err)
		}
		if err := s.writeOne(p, doc, m); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	if len(written) > 0 {
		return written, nil
	}
	if m.Normalize().IsZero() {
		return nil, nil // nothing to say, and no sidecar to update
	}
	p := s.Path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("make the folder for the sidecar %s: %w", p, err)
	}
	return []string{p}, s.writeOne(p, nil, m)
}

func (s Sidecars) writeOne(p string, doc []byte, m Marks) error {
	out, err := Update(doc, m)
	if err != nil {
		return fmt.Errorf("the sidecar %s cannot be updated (%v): fix or delete it to rate and tag the file here", p, err)
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(p); err == nil {
		perm = st.Mode().Perm()
	}
	if err := atomicfile.WriteFile(p, out, perm); err != nil {
		return fmt.Errorf("write the sidecar %s: %w", p, err)
	}
	return nil
}

// Newer picks the marks that win when the database and a sidecar disagree:
// the one changed last (a sidecar edited by darktable after Atelier wrote
// it wins; a rating given in Atelier after the sidecar was written wins).
func Newer(db Marks, dbAt time.Time, sc Sidecar) (Marks, bool) {
	if sc.ModTime.After(dbAt) {
		return sc.Marks, true
	}
	return db, false
}
