// Package target writes restored files into a folder the user chose, so that
// nothing is lost and nothing lands outside it:
//
//   - every create, mkdir, rename, chmod and chtimes goes through os.Root, so
//     no path (and no link planted while a restore runs) reaches outside the
//     folder; a symbolic link in the way, inside the folder, is an error that
//     names it: a restore never writes through a link;
//   - a restore into a non-empty folder is refused unless the caller asked to
//     overwrite; then every file it replaces whose content differs is first
//     kept beside it as "name (before restore DATE).ext", and identical files
//     are left alone;
//   - each file is written atomically: a temporary file in the same folder,
//     fsync, rename, fsync of the folder;
//   - a name this platform cannot hold (a backslash or a colon on Windows) is
//     written under a safe name, and the caller is told which.
package target

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrNotEmpty is returned by Open for a non-empty folder without Overwrite.
var ErrNotEmpty = errors.New("the folder is not empty")

// ErrLink is returned when a symbolic link is where a restore would write.
var ErrLink = errors.New("a symbolic link, and a restore never writes through a link")

// TempPrefix starts the name of every temporary file a restore creates.
const TempPrefix = ".atelier-restore-"

// Options say how a restore may treat what is already in the folder.
type Options struct {
	// Overwrite allows a non-empty folder: each file replaced whose content
	// differs is first kept as "name (before restore DATE).ext".
	Overwrite bool
	// Replace allows a non-empty folder and replaces files without keeping
	// them: for a sync pull, where the merge decided the local file is the
	// common version the other device changed.
	Replace bool
	// Now dates the kept copies (zero: time.Now).
	Now time.Time
	// GOOS is the platform whose file-name rules apply ("": this one).
	GOOS string
}

// Kept is a file a restore replaced, kept under another name.
type Kept struct {
	Path   string `json:"path"`   // slash path in the folder that was replaced
	KeptAs string `json:"keptAs"` // where the previous content is now
}

// Renamed is a file written under another name than its own because this
// platform cannot hold its name.
type Renamed struct {
	Path   string `json:"path"`   // the name in the snapshot
	As     string `json:"as"`     // the name written
	Reason string `json:"reason"` // why
}

// Dir is an open restore target.
type Dir struct {
	path string
	root *os.Root
	o    Options

	mu   sync.Mutex
	kept []Kept
}

// Open prepares dir (created when missing) for a restore. Without Overwrite
// or Replace a non-empty folder is refused with ErrNotEmpty.
func Open(dir string, o Options) (*Dir, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the restore folder %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open the restore folder %s: %w", dir, err)
	}
	d := &Dir{path: dir, root: root, o: o}
	if !o.Overwrite && !o.Replace {
		if first, n, err := d.entries(); err != nil {
			root.Close()
			return nil, err
		} else if n > 0 {
			root.Close()
			what := fmt.Sprintf("%q", first)
			if n > 1 {
				what = fmt.Sprintf("%q and %d more", first, n-1)
			}
			return nil, fmt.Errorf("restore into %s refused, nothing was written: %w (it holds %s). Restore into an empty or new folder, or ask to overwrite (`--overwrite`, or \"Overwrite\" in the Sync view): every file whose content differs is then kept beside it as \"NAME (before restore DATE).EXT\" and identical files are left alone (this also finishes an interrupted restore)", dir, ErrNotEmpty, what)
		}
	}
	return d, nil
}

// entries counts what dir holds, except temporary files of an interrupted
// restore.
func (d *Dir) entries() (first string, n int, err error) {
	f, err := d.root.Open(".")
	if err != nil {
		return "", 0, fmt.Errorf("read the restore folder %s: %w", d.path, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return "", 0, fmt.Errorf("read the restore folder %s: %w", d.path, err)
	}
	for _, nm := range names {
		if strings.HasPrefix(nm, TempPrefix) {
			continue
		}
		if n == 0 || nm < first {
			first = nm
		}
		n++
	}
	return first, n, nil
}

// Close releases the folder.
func (d *Dir) Close() error { return d.root.Close() }

// Path is the folder.
func (d *Dir) Path() string { return d.path }

// Kept lists the files replaced so far and where their content is.
func (d *Dir) Kept() []Kept {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Kept{}, d.kept...)
}

func (d *Dir) abs(name string) string { return filepath.Join(d.path, filepath.FromSlash(name)) }

// checkName refuses names that are not plain relative slash paths.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("%q is not a relative path", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("%q has an empty, . or .. element", name)
		}
	}
	return nil
}

// checkParents makes sure every existing parent of name is a real folder:
// a symbolic link or a file in the way is an error naming it.
func (d *Dir) checkParents(name string) error {
	els := strings.Split(name, "/")
	for i := 1; i < len(els); i++ {
		p := strings.Join(els[:i], "/")
		fi, err := d.root.Lstat(filepath.FromSlash(p))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("restore %s: %w", d.abs(name), err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("restore %s: %s is %w; move the link aside or restore into another folder", name, d.abs(p), ErrLink)
		}
		if !fi.IsDir() {
			return fmt.Errorf("restore %s: %s is a file where the snapshot has a folder; move it aside or restore into another folder", name, d.abs(p))
		}
	}
	return nil
}

// existing reports what is at name: nil when nothing; an error for a link,
// a folder or anything but a regular file.
func (d *Dir) existing(name string) (fs.FileInfo, error) {
	fi, err := d.root.Lstat(filepath.FromSlash(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", d.abs(name), err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("restore %s: %s is %w; move the link aside or restore into another folder", name, d.abs(name), ErrLink)
	case fi.IsDir():
		return nil, fmt.Errorf("restore %s: %s is a folder where the snapshot has a file; move it aside or restore into another folder", name, d.abs(name))
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("restore %s: %s is not a regular file; move it aside or restore into another folder", name, d.abs(name))
	}
	return fi, nil
}

// Same reports whether name already holds a regular file (not a link) of
// size bytes whose SHA-256 is sum (hex).
func (d *Dir) Same(name string, size int64, sum string) bool {
	if checkName(name) != nil || d.checkParents(name) != nil {
		return false
	}
	fi, err := d.existing(name)
	if err != nil || fi == nil || fi.Size() != size {
		return false
	}
	got, err := d.hash(name)
	return err == nil && got == sum
}

func (d *Dir) hash(name string) (string, error) {
	f, err := d.root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|o_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Write creates name with what fill writes, atomically, with perm and
// mtime (zero: now). When name exists with other content it is kept first
// (Overwrite), replaced (Replace), or the write is refused; with the same
// content it is left alone. A failed fill leaves name untouched.
func (d *Dir) Write(name string, perm fs.FileMode, mtime time.Time, fill func(io.Writer) error) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("restore into %s: %w", d.path, err)
	}
	if err := d.checkParents(name); err != nil {
		return err
	}
	dir := path.Dir(name)
	if dir != "." {
		if err := d.root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return fmt.Errorf("create the folder %s: %w", d.abs(dir), err)
		}
		// A link made meanwhile stays inside the folder (os.Root), but
		// is still not written through.
		if err := d.checkParents(name); err != nil {
			return err
		}
	}
	tmp := path.Join(dir, TempPrefix+randHex()+".part")
	f, err := d.root.OpenFile(filepath.FromSlash(tmp), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", d.abs(name), err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			d.root.Remove(filepath.FromSlash(tmp))
		}
	}()
	h := sha256.New()
	if err := fill(io.MultiWriter(f, h)); err != nil {
		return err
	}
	if perm == 0 {
		perm = 0o644
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", d.abs(name), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", d.abs(name), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", d.abs(name), err)
	}
	if !mtime.IsZero() {
		if err := d.root.Chtimes(filepath.FromSlash(tmp), mtime, mtime); err != nil {
			return fmt.Errorf("write %s: %w", d.abs(name), err)
		}
	}
	fi, err := d.existing(name)
	if err != nil {
		return err
	}
	if fi != nil {
		if sum, err := d.hash(name); err == nil && sum == hex.EncodeToString(h.Sum(nil)) {
			// Identical: left alone.
			d.root.Remove(filepath.FromSlash(tmp))
			done = true
			return nil
		}
		switch {
		case d.o.Replace:
		case d.o.Overwrite:
			if err := d.keep(name); err != nil {
				return err
			}
		default:
			return fmt.Errorf("restore %s: the file appeared while the restore ran; it was left as it is. Restore again with overwrite to keep it beside the restored version", d.abs(name))
		}
	}
	if err := d.root.Rename(filepath.FromSlash(tmp), filepath.FromSlash(name)); err != nil {
		return fmt.Errorf("write %s: %w", d.abs(name), err)
	}
	done = true
	if df, err := d.root.Open(filepath.FromSlash(dir)); err == nil {
		df.Sync()
		df.Close()
	}
	return nil
}

// BeforeRestoreName is where a replaced file is kept:
// "dir/name (before restore 2006-01-02 150405).ext", with " 2", " 3"...
// after the time when that is taken.
func BeforeRestoreName(p string, t time.Time, n int) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" {
		stem, ext = base, ""
	}
	suffix := ""
	if n > 1 {
		suffix = fmt.Sprintf(" %d", n)
	}
	return fmt.Sprintf("%s%s (before restore %s%s)%s", dir, stem, t.UTC().Format("2006-01-02 150405"), suffix, ext)
}

// keep gives name's current content a free "before restore" name: a hard
// link where the file system has them (name is never missing, not even for
// a moment), a rename where it has not.
func (d *Dir) keep(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for n := 1; n < 1000; n++ {
		k := BeforeRestoreName(name, d.o.Now, n)
		if _, err := d.root.Lstat(filepath.FromSlash(k)); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keep %s before replacing it: %w; nothing was replaced", d.abs(name), err)
		}
		err := d.root.Link(filepath.FromSlash(name), filepath.FromSlash(k))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			err = d.root.Rename(filepath.FromSlash(name), filepath.FromSlash(k))
		}
		if err != nil {
			return fmt.Errorf("keep %s as %s before replacing it: %w; nothing was replaced", d.abs(name), d.abs(k), err)
		}
		d.kept = append(d.kept, Kept{Path: name, KeptAs: k})
		return nil
	}
	return fmt.Errorf("keep %s before replacing it: 999 earlier copies are in the way; nothing was replaced", d.abs(name))
}

// Remove deletes name (a sync pull applying a deletion made elsewhere)
// without following links; a missing file is not an error.
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := d.checkParents(name); err != nil {
		return err
	}
	if fi, err := d.root.Lstat(filepath.FromSlash(name)); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	} else if fi.IsDir() {
		return fmt.Errorf("%s is a folder, not a file", d.abs(name))
	}
	err := d.root.Remove(filepath.FromSlash(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func randHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
