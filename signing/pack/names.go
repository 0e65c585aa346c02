package pack

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxPathLen caps an entry name; MaxComponentLen caps one path element.
const (
	MaxPathLen      = 1024
	MaxComponentLen = 255
)

var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
}

func init() {
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "¹", "²", "³"} {
		windowsReserved["COM"+d] = true
		windowsReserved["LPT"+d] = true
	}
}

// CheckPath refuses any entry name that could escape the destination or that
// some supported OS cannot represent faithfully: absolute paths, "..", drive
// letters, UNC and backslash paths, NTFS alternate streams (':'), Windows
// reserved device names, trailing dots or spaces, control characters and
// invalid UTF-8. Names are slash-separated and relative.
func CheckPath(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty entry name")
	case len(name) > MaxPathLen:
		return fmt.Errorf("entry name %.60q… is longer than %d bytes", name, MaxPathLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("entry name %q is not valid UTF-8", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("entry %q is an absolute path (zip-slip): a module may only contain relative paths", name)
	case strings.Contains(name, `\`):
		return fmt.Errorf("entry %q contains a backslash (a Windows or UNC path, zip-slip): use '/' separators", name)
	case strings.Contains(name, ":"):
		if len(name) >= 2 && name[1] == ':' {
			return fmt.Errorf("entry %q starts with a drive letter (zip-slip)", name)
		}
		return fmt.Errorf("entry %q contains ':' (an NTFS alternate data stream on Windows)", name)
	}
	for _, c := range strings.Split(name, "/") {
		if err := checkComponent(name, c); err != nil {
			return err
		}
	}
	return nil
}

func checkComponent(name, c string) error {
	switch c {
	case "":
		return fmt.Errorf("entry %q has an empty path element ('//' or a trailing '/')", name)
	case ".", "..":
		return fmt.Errorf("entry %q contains %q (zip-slip): paths must stay inside the module", name, c)
	}
	if len(c) > MaxComponentLen {
		return fmt.Errorf("entry %q has an element longer than %d bytes", name, MaxComponentLen)
	}
	for _, r := range c {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`<>"|?*`, r) {
			return fmt.Errorf("entry %q contains the character %q, which Windows cannot store", name, r)
		}
	}
	if strings.HasSuffix(c, ".") || strings.HasSuffix(c, " ") {
		return fmt.Errorf("entry %q has an element ending in a dot or space, which Windows silently strips", name)
	}
	base := c
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if windowsReserved[strings.ToUpper(strings.TrimRight(base, " "))] {
		return fmt.Errorf("entry %q uses the Windows reserved device name %q: rename it", name, base)
	}
	return nil
}

// foldKey is the identity of a name on a case-insensitive, normalising file
// system (macOS, Windows): NFC then Unicode case folding.
func foldKey(name string) string {
	return cases.Fold().String(norm.NFC.String(name))
}

// nameSet detects names that collide after case folding and Unicode
// normalisation, and files that would also have to be directories.
type nameSet struct {
	files map[string]string // fold key → original
	dirs  map[string]string
}

func newNameSet() *nameSet {
	return &nameSet{files: map[string]string{}, dirs: map[string]string{}}
}

func (s *nameSet) add(name string) error {
	k := foldKey(name)
	if prev, ok := s.files[k]; ok {
		if prev == name {
			return fmt.Errorf("entry %q appears twice", name)
		}
		return fmt.Errorf("entries %q and %q are the same file after case folding or Unicode normalisation (they would overwrite each other on macOS and Windows)", prev, name)
	}
	if prev, ok := s.dirs[k]; ok {
		return fmt.Errorf("entry %q is both a file and the folder of %q", name, prev)
	}
	s.files[k] = name
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '/' {
			continue
		}
		dk := foldKey(name[:i])
		if prev, ok := s.files[dk]; ok {
			return fmt.Errorf("entry %q needs folder %q, which is also the file %q", name, name[:i], prev)
		}
		if _, ok := s.dirs[dk]; ok {
			break // parents already recorded
		}
		s.dirs[dk] = name
	}
	return nil
}
