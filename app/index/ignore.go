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
	"Bounced Files/.tmp*", ".atelier-tmp-*",
}

// Ignorer decides which paths are left out of the index.
type Ignorer struct {
	def  *gitignore.GitIgnore
	user *gitignore.GitIgnore
}

// LoadIgnorer builds the ignorer for a project root: the defaults plus the
// root's .atelierignore, if any.
func LoadIgnorer(root string) *Ignorer {
	ig := &Ignorer{def: gitignore.CompileIgnoreLines(DefaultIgnores...)}
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
	p := rel
	if isDir {
		p += "/"
	}
	return ig.def.MatchesPath(p) || (ig.user != nil && ig.user.MatchesPath(p))
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
