package index

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	gitignore "github.com/sabhiram/go-gitignore"
)

// IgnoreFile is the per-project ignore file, in gitignore syntax.
const IgnoreFile = ".atelierignore"

// DefaultIgnores are never indexed: version control, package folders, OS
// litter, editors' temp and swap files, and DAW autosave and temp folders.
var DefaultIgnores = []string{
	".git/", ".hg/", ".svn/", "node_modules/", ".DS_Store", "Thumbs.db", "desktop.ini",
	"._*", ".Spotlight-V100/", ".Trashes/", ".fseventsd/", "$RECYCLE.BIN/",
	"*.swp", "*.swo", "*.swx", "*~", ".#*", "#*#", "*.tmp", "*.temp", "*.part", "*.crdownload",
	".~lock.*#", "~$*", ".goutputstream-*", "*.kate-swp", "4913",
	// DAWs and editors: autosaves, backups, caches, peak files
	"Backup/", "Autosave/", "Auto-Save/", "*.reapeaks", "*.asd", "*.pkf", "*.RPP-bak", "*.rpp-bak",
	"*.als.bak", "Ableton Project Info/", "*.bak", "*.peak", "*.sfk", "*.ptx.bak", "Session File Backups/",
	".atelier-tmp-*",
}

// nameMatcher matches base names against the default patterns. Every default
// is a name pattern (no inner slash), so matching the base name alone is the
// gitignore meaning; doing it without regular expressions keeps a walk of
// 100,000 files cheap (go-gitignore's regexps cost ~40 µs a path).
type nameMatcher struct {
	exact, dirs        map[string]bool
	suffixes, prefixes []string // "*.swp", "._*": the common shapes, without path.Match
	globs              []string // the rest
	dirGlobs           []string // "dir/" patterns have the slash removed and apply to dirs only
}

func newNameMatcher(patterns []string) *nameMatcher {
	m := &nameMatcher{exact: map[string]bool{}, dirs: map[string]bool{}}
	for _, p := range patterns {
		dirOnly := strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		literal := !strings.ContainsAny(p, "*?[")
		switch {
		case dirOnly && literal:
			m.dirs[p] = true
		case dirOnly:
			m.dirGlobs = append(m.dirGlobs, p)
		case literal:
			m.exact[p] = true
		case strings.HasPrefix(p, "*") && !strings.ContainsAny(p[1:], "*?["):
			m.suffixes = append(m.suffixes, p[1:])
		case strings.HasSuffix(p, "*") && !strings.ContainsAny(p[:len(p)-1], "*?["):
			m.prefixes = append(m.prefixes, p[:len(p)-1])
		default:
			m.globs = append(m.globs, p)
		}
	}
	return m
}

func (m *nameMatcher) match(name string, isDir bool) bool {
	if m.exact[name] || (isDir && m.dirs[name]) {
		return true
	}
	for _, x := range m.suffixes {
		if strings.HasSuffix(name, x) {
			return true
		}
	}
	for _, x := range m.prefixes {
		if strings.HasPrefix(name, x) {
			return true
		}
	}
	for _, g := range m.globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	if isDir {
		for _, g := range m.dirGlobs {
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
	}
	return false
}

var defaultMatcher = newNameMatcher(DefaultIgnores)

// Ignorer decides which paths are left out of the index.
type Ignorer struct {
	def  *nameMatcher
	user *gitignore.GitIgnore
}

// LoadIgnorer builds the ignorer for a project root: the defaults plus the
// root's .atelierignore, if any.
func LoadIgnorer(root string) *Ignorer {
	ig := &Ignorer{def: defaultMatcher}
	if b, err := os.ReadFile(filepath.Join(root, IgnoreFile)); err == nil {
		ig.user = gitignore.CompileIgnoreLines(strings.Split(string(b), "\n")...)
	}
	return ig
}

// Ignored reports whether the slash-separated relative path rel is ignored by
// itself (walks skip ignored directories, so parents need no check there).
// Directories are matched with a trailing slash so "dir/" patterns apply.
func (ig *Ignorer) Ignored(rel string, isDir bool) bool {
	if ig == nil || rel == "" || rel == "." {
		return false
	}
	if ig.def.match(path.Base(rel), isDir) {
		return true
	}
	if ig.user == nil {
		return false
	}
	p := rel
	if isDir {
		p += "/"
	}
	return ig.user.MatchesPath(p)
}

// IgnoredPath is Ignored for rel or any directory above it, for paths that do
// not come from a walk that already skipped ignored directories.
func (ig *Ignorer) IgnoredPath(rel string, isDir bool) bool {
	if ig.Ignored(rel, isDir) {
		return true
	}
	for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
		if ig.Ignored(d, true) {
			return true
		}
	}
	return false
}
