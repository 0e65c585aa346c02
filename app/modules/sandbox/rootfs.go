package sandbox

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// rootFS is a wazero file system over an os.Root: a guest path can name only
// what lies under the root, and a symbolic link that leads out of it is
// refused (os.Root semantics), whatever the module asks. wazero's WASI layer
// already refuses ".." and absolute paths before they reach here; the root is
// the second wall.
//
// A read-only rootFS refuses every change. A selection (paths relative to the
// root) hides every file that is not selected, not under a selected folder
// and not a folder leading to one.
type rootFS struct {
	experimentalsys.UnimplementedFS
	root     *os.Root
	mount    string // guest path, for messages
	readOnly bool
	sel      *selection
	run      *runState
	perm     string // the permission this mount stands for, recorded as used
}

func (r *rootFS) String() string { return r.mount }

// errno maps an os.Root error to a WASI errno. An error that is not a system
// errno is os.Root refusing a path that escapes the root: EPERM, recorded.
func (r *rootFS) errno(op, name string, err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	var pe *os.PathError
	var le *os.LinkError
	inner := err
	if errors.As(err, &pe) {
		inner = pe.Err
	} else if errors.As(err, &le) {
		inner = le.Err
	}
	var en syscall.Errno
	if errors.As(inner, &en) || errors.Is(inner, fs.ErrNotExist) || errors.Is(inner, fs.ErrExist) || errors.Is(inner, fs.ErrPermission) || errors.Is(inner, fs.ErrClosed) || errors.Is(inner, fs.ErrInvalid) {
		if en == syscall.ELOOP {
			r.run.deny("%s %s: a symbolic link loop or a link that may not be followed", op, r.guest(name))
		}
		return experimentalsys.UnwrapOSError(err)
	}
	r.run.deny("%s %s: it leads outside %s (a link or path escaping the folder)", op, r.guest(name), r.mount)
	return experimentalsys.EPERM
}

func (r *rootFS) guest(name string) string {
	if name == "" || name == "." {
		return r.mount
	}
	return r.mount + "/" + strings.TrimSuffix(name, "/")
}

func clean(name string) string {
	c := path.Clean("/" + name)[1:]
	if c == "" {
		return "."
	}
	return c
}

func (r *rootFS) visible(op, name string) experimentalsys.Errno {
	if r.sel == nil {
		return 0
	}
	rel := clean(name)
	if !r.sel.visible(rel) {
		r.run.deny("%s %s: not among the files this run was given", op, r.guest(name))
		return experimentalsys.ENOENT
	}
	// A selected name may not be a link: it would stand for an unselected file.
	if fi, err := r.root.Lstat(strings.TrimSuffix(name, "/")); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		r.run.deny("%s %s: a symbolic link in a selection is not followed", op, r.guest(name))
		return experimentalsys.EPERM
	}
	return 0
}

func (r *rootFS) refuseWrite(op, name string) experimentalsys.Errno {
	r.run.deny("%s %s: %s is read-only", op, r.guest(name), r.mount)
	return experimentalsys.EROFS
}

// OpenFile implements experimentalsys.FS.
func (r *rootFS) OpenFile(name string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	writing := flag&(experimentalsys.O_RDWR|experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_TRUNC|experimentalsys.O_APPEND) != 0
	if writing && r.readOnly {
		return nil, r.refuseWrite("write", name)
	}
	if e := r.visible("open", name); e != 0 {
		return nil, e
	}
	of := 0
	switch {
	case flag&experimentalsys.O_RDWR != 0:
		of = os.O_RDWR
	case flag&experimentalsys.O_WRONLY != 0:
		of = os.O_WRONLY
	}
	if flag&experimentalsys.O_APPEND != 0 {
		of |= os.O_APPEND
	}
	if flag&experimentalsys.O_CREAT != 0 {
		of |= os.O_CREATE
	}
	if flag&experimentalsys.O_EXCL != 0 {
		of |= os.O_EXCL
	}
	if flag&experimentalsys.O_TRUNC != 0 {
		of |= os.O_TRUNC
	}
	if flag&experimentalsys.O_NOFOLLOW != 0 {
		of |= syscall.O_NOFOLLOW
	}
	if flag&experimentalsys.O_DIRECTORY != 0 {
		of |= syscall.O_DIRECTORY
	}
	if writing && !r.run.createFile(r.guest(name)) {
		r.run.deny("create %s: more files than the run's limit", r.guest(name))
		return nil, experimentalsys.EIO
	}
	f, err := r.root.OpenFile(name, of, perm.Perm()&0o755)
	if err != nil {
		return nil, r.errno("open", name, err)
	}
	r.run.use(r.perm)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, experimentalsys.UnwrapOSError(err)
	}
	out, errno := r.wrap(f, name, fi.IsDir(), of&os.O_APPEND != 0)
	if errno != 0 {
		f.Close()
		return nil, errno
	}
	if writing && !fi.IsDir() {
		r.run.wrote(r.guest(name), clean(name))
	}
	return out, 0
}

// Lstat implements experimentalsys.FS.
func (r *rootFS) Lstat(name string) (sys.Stat_t, experimentalsys.Errno) {
	if e := r.visible("stat", name); e != 0 {
		return sys.Stat_t{}, e
	}
	fi, err := r.root.Lstat(name)
	if err != nil {
		return sys.Stat_t{}, r.errno("stat", name, err)
	}
	return sys.NewStat_t(fi), 0
}

// Stat implements experimentalsys.FS.
func (r *rootFS) Stat(name string) (sys.Stat_t, experimentalsys.Errno) {
	if e := r.visible("stat", name); e != 0 {
		return sys.Stat_t{}, e
	}
	fi, err := r.root.Stat(name)
	if err != nil {
		return sys.Stat_t{}, r.errno("stat", name, err)
	}
	return sys.NewStat_t(fi), 0
}

// Readlink implements experimentalsys.FS: the target is shown as text, never followed out.
func (r *rootFS) Readlink(name string) (string, experimentalsys.Errno) {
	if e := r.visible("readlink", name); e != 0 {
		return "", e
	}
	t, err := r.root.Readlink(name)
	if err != nil {
		return "", r.errno("readlink", name, err)
	}
	return t, 0
}

// Mkdir implements experimentalsys.FS.
func (r *rootFS) Mkdir(name string, perm fs.FileMode) experimentalsys.Errno {
	if r.readOnly {
		return r.refuseWrite("mkdir", name)
	}
	if err := r.root.Mkdir(name, perm.Perm()&0o755|0o700); err != nil {
		e := r.errno("mkdir", name, err)
		if e == experimentalsys.ENOTDIR {
			e = experimentalsys.ENOENT
		}
		return e
	}
	r.run.use(r.perm)
	return 0
}

// Rename implements experimentalsys.FS.
func (r *rootFS) Rename(from, to string) experimentalsys.Errno {
	if r.readOnly {
		return r.refuseWrite("rename", from)
	}
	if err := r.root.Rename(from, to); err != nil {
		return r.errno("rename", from, err)
	}
	r.run.renamed(r.guest(from), r.guest(to), clean(to))
	return 0
}

// Rmdir implements experimentalsys.FS.
func (r *rootFS) Rmdir(name string) experimentalsys.Errno {
	if r.readOnly {
		return r.refuseWrite("rmdir", name)
	}
	fi, err := r.root.Lstat(name)
	if err != nil {
		return r.errno("rmdir", name, err)
	}
	if !fi.IsDir() {
		return experimentalsys.ENOTDIR
	}
	return r.errno("rmdir", name, r.root.Remove(name))
}

// Unlink implements experimentalsys.FS.
func (r *rootFS) Unlink(name string) experimentalsys.Errno {
	if r.readOnly {
		return r.refuseWrite("unlink", name)
	}
	fi, err := r.root.Lstat(name)
	if err != nil {
		return r.errno("unlink", name, err)
	}
	if fi.IsDir() {
		return experimentalsys.EISDIR
	}
	if err := r.root.Remove(name); err != nil {
		return r.errno("unlink", name, err)
	}
	r.run.removed(r.guest(name))
	return 0
}

// Link implements experimentalsys.FS: refused, a module makes no links.
func (r *rootFS) Link(oldName, newName string) experimentalsys.Errno {
	r.run.deny("link %s to %s: modules may not make links", r.guest(newName), r.guest(oldName))
	return experimentalsys.EPERM
}

// Symlink implements experimentalsys.FS: refused, a module makes no links.
func (r *rootFS) Symlink(target, name string) experimentalsys.Errno {
	r.run.deny("symlink %s -> %s: modules may not make links", r.guest(name), target)
	return experimentalsys.EPERM
}

// Chmod implements experimentalsys.FS: refused (permission bits are the host's).
func (r *rootFS) Chmod(name string, perm fs.FileMode) experimentalsys.Errno {
	if r.readOnly {
		return r.refuseWrite("chmod", name)
	}
	return experimentalsys.ENOSYS
}

// Utimens implements experimentalsys.FS.
func (r *rootFS) Utimens(name string, atim, mtim int64) experimentalsys.Errno {
	if r.readOnly {
		return r.refuseWrite("utimes", name)
	}
	return experimentalsys.ENOSYS
}

// rootFile is an open file or folder of a rootFS. Reads, seeks and folder
// listings go through wazero's own fs.File adapter (the embedded File, over a
// seekable); writes are counted against the run's limits here.
type rootFile struct {
	experimentalsys.File
	fs     *rootFS
	f      *os.File
	isDir  bool
	append bool
}

func (r *rootFS) wrap(f *os.File, name string, isDir, appendMode bool) (*rootFile, experimentalsys.Errno) {
	out := &rootFile{fs: r, f: f, isDir: isDir, append: appendMode}
	inner, errno := (&sysfs.AdaptFS{FS: seekFS{&seekable{f: f, fs: r, name: clean(name)}}}).OpenFile(".", experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return nil, errno
	}
	out.File = inner
	return out, 0
}

func (f *rootFile) IsAppend() bool { return f.append }

func (f *rootFile) SetAppend(enable bool) experimentalsys.Errno {
	if enable && !f.append {
		return experimentalsys.ENOSYS
	}
	f.append = enable
	return 0
}

// mayWrite reports whether a write of n bytes goes ahead, charging it to
// the run's write budget. When it does not, errno says why (0 for an empty
// write, which succeeds without writing).
func (f *rootFile) mayWrite(n int) (bool, experimentalsys.Errno) {
	if f.fs.readOnly {
		return false, experimentalsys.EBADF
	}
	if f.isDir {
		return false, experimentalsys.EISDIR
	}
	if n == 0 {
		return false, 0
	}
	if !f.fs.run.spend(int64(n)) {
		return false, experimentalsys.EIO
	}
	return true, 0
}

func (f *rootFile) Write(buf []byte) (int, experimentalsys.Errno) {
	if ok, errno := f.mayWrite(len(buf)); !ok {
		return 0, errno
	}
	n, err := f.f.Write(buf)
	return n, experimentalsys.UnwrapOSError(err)
}

func (f *rootFile) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if ok, errno := f.mayWrite(len(buf)); !ok {
		return 0, errno
	}
	n, err := f.f.WriteAt(buf, off)
	return n, experimentalsys.UnwrapOSError(err)
}

func (f *rootFile) Truncate(size int64) experimentalsys.Errno {
	if f.fs.readOnly {
		return experimentalsys.EBADF
	}
	if f.isDir {
		return experimentalsys.EISDIR
	}
	if size < 0 {
		return experimentalsys.EINVAL
	}
	if cur, err := f.f.Stat(); err == nil && size > cur.Size() && !f.fs.run.spend(size-cur.Size()) {
		return experimentalsys.EIO
	}
	return experimentalsys.UnwrapOSError(f.f.Truncate(size))
}

func (f *rootFile) Sync() experimentalsys.Errno {
	if f.fs.readOnly || f.isDir {
		return 0
	}
	return experimentalsys.UnwrapOSError(f.f.Sync())
}

func (f *rootFile) Datasync() experimentalsys.Errno { return f.Sync() }

func (f *rootFile) Utimens(int64, int64) experimentalsys.Errno {
	if f.fs.readOnly {
		return experimentalsys.EBADF
	}
	return experimentalsys.ENOSYS
}

func (f *rootFile) Close() experimentalsys.Errno {
	f.File.Close()
	return experimentalsys.UnwrapOSError(f.f.Close())
}

// seekable is the fs.File wazero's adapter reads through: it gives rootFile
// its Seek (go vet insists a method named Seek has io.Seeker's signature,
// which experimentalsys.File's has not) and lists folders, hiding what a
// selection leaves out.
type seekable struct {
	f    *os.File
	fs   *rootFS
	name string
}

func (s *seekable) Stat() (fs.FileInfo, error)              { return s.f.Stat() }
func (s *seekable) Read(b []byte) (int, error)              { return s.f.Read(b) }
func (s *seekable) ReadAt(b []byte, off int64) (int, error) { return s.f.ReadAt(b, off) }
func (s *seekable) Close() error                            { return nil }

func (s *seekable) Seek(off int64, whence int) (int64, error) { return s.f.Seek(off, whence) }

// Readdir lists up to n entries (n <= 0: all), leaving out what the
// selection hides, with io.EOF at the end like os.File.
func (s *seekable) Readdir(n int) ([]fs.FileInfo, error) {
	var out []fs.FileInfo
	for {
		want := n
		if n > 0 {
			want = n - len(out)
		}
		batch, err := s.f.Readdir(want)
		for _, fi := range batch {
			rel := fi.Name()
			if s.name != "." {
				rel = s.name + "/" + fi.Name()
			}
			if s.fs.sel == nil || s.fs.sel.visible(rel) {
				out = append(out, fi)
			}
		}
		if err != nil || n <= 0 || len(out) >= n {
			if err == io.EOF && len(out) > 0 {
				err = nil
			}
			return out, err
		}
	}
}

// seekFS reopens the folder for wazero's adapter, which rewinds a listing by
// opening it again.
type seekFS struct{ s *seekable }

func (s seekFS) Open(string) (fs.File, error) {
	if _, err := s.s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.s, nil
}

// selection is the set of files a run was given, with the folders leading to them.
type selection struct {
	items map[string]bool // selected files or folders
	dirs  map[string]bool // their ancestors
}

func newSelection(paths []string) *selection {
	s := &selection{items: map[string]bool{}, dirs: map[string]bool{".": true}}
	for _, p := range paths {
		p = clean(p)
		s.items[p] = true
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			s.dirs[d] = true
		}
	}
	return s
}

func (s *selection) visible(rel string) bool {
	rel = strings.TrimSuffix(rel, "/")
	if s.items[rel] || s.dirs[rel] {
		return true
	}
	for d := path.Dir(rel); d != "."; d = path.Dir(d) {
		if s.items[d] {
			return true
		}
	}
	return false
}

// runState is what one run's mounts share: the limits they enforce and what
// they observed, for the run record.
type runState struct {
	mu        sync.Mutex
	used      map[string]bool
	written   map[string]string // guest path -> path relative to the output root
	denied    []string
	spent     int64
	maxBytes  int64
	files     int
	maxFiles  int
	onExceed  func(error)
	exceeded  bool
	maxDenied int
}

func newRunState(maxBytes int64, maxFiles int, onExceed func(error)) *runState {
	return &runState{used: map[string]bool{}, written: map[string]string{}, maxBytes: maxBytes, maxFiles: maxFiles, onExceed: onExceed, maxDenied: 50}
}

func (s *runState) use(perm string) {
	if perm == "" {
		return
	}
	s.mu.Lock()
	s.used[perm] = true
	s.mu.Unlock()
}

func (s *runState) deny(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.denied) < s.maxDenied {
		s.denied = append(s.denied, sprintf(format, args...))
	}
}

// spend accounts n more bytes written; past the limit it stops the run.
func (s *runState) spend(n int64) bool {
	s.mu.Lock()
	s.spent += n
	over := s.spent > s.maxBytes
	first := over && !s.exceeded
	if over {
		s.exceeded = true
	}
	s.mu.Unlock()
	if first {
		s.onExceed(ErrOutputLimit)
	}
	return !over
}

func (s *runState) createFile(guest string) bool {
	s.mu.Lock()
	if _, ok := s.written[guest]; ok {
		s.mu.Unlock()
		return true
	}
	s.files++
	over := s.files > s.maxFiles
	first := over && !s.exceeded
	if over {
		s.exceeded = true
	}
	s.mu.Unlock()
	if first {
		s.onExceed(ErrOutputLimit)
	}
	return !over
}

func (s *runState) wrote(guest, rel string) {
	s.mu.Lock()
	s.written[guest] = rel
	s.mu.Unlock()
}

func (s *runState) renamed(from, to, rel string) {
	s.mu.Lock()
	if _, ok := s.written[from]; ok {
		delete(s.written, from)
	}
	s.written[to] = rel
	s.mu.Unlock()
}

func (s *runState) removed(guest string) {
	s.mu.Lock()
	delete(s.written, guest)
	s.mu.Unlock()
}
