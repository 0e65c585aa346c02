package pack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"

	"atelier/signing/manifest"
)

// Limits cap what reading an archive may cost. They are enforced while
// streaming, before the bytes are written anywhere.
type Limits struct {
	MaxTotal   int64 // uncompressed bytes of all entries
	MaxFile    int64 // uncompressed bytes of one entry
	MaxEntries int   // number of entries
	MaxRatio   int64 // uncompressed bytes per compressed byte (checked past 1 MiB)
}

// DefaultLimits suit creator modules: presets, templates, sample packs.
func DefaultLimits() Limits {
	return Limits{MaxTotal: 4 << 30, MaxFile: 2 << 30, MaxEntries: 20000, MaxRatio: 200}
}

// ErrRefused wraps every refusal of a hostile or malformed archive.
var ErrRefused = errors.New("archive refused")

func refuse(what string, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrRefused, what, fmt.Sprintf(format, a...))
}

// Head is what an archive says about itself.
type Head struct {
	Manifest    manifest.Manifest `json:"manifest"`
	ManifestRaw []byte            `json:"-"`
	Files       FileList          `json:"files"`
}

// countingReader counts the compressed bytes consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// reader is one pass over an archive.
type reader struct {
	what  string
	lim   Limits
	in    *countingReader
	gz    *gzip.Reader
	tr    *tar.Reader
	out   int64 // uncompressed bytes handed out so far
	count int
	br    *bufio.Reader
}

func newReader(r io.Reader, what string, lim Limits) (*reader, error) {
	if lim == (Limits{}) {
		lim = DefaultLimits()
	}
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(r)
	in := &countingReader{r: br}
	gz, err := gzip.NewReader(in)
	if err != nil {
		br.Reset(nil)
		bufReaders.Put(br)
		return nil, refuse(what, "not a gzip-compressed module archive (%v)", err)
	}
	gz.Multistream(false)
	rd := &reader{what: what, lim: lim, in: in, gz: gz, br: br}
	rd.tr = tar.NewReader(&ratioReader{rd})
	return rd, nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

var bufReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 128<<10) }}

// release returns the read buffer; the reader is unusable afterwards.
func (rd *reader) release() {
	if rd.br != nil {
		rd.br.Reset(nil)
		bufReaders.Put(rd.br)
		rd.br = nil
	}
}

// ratioReader enforces the total and ratio caps on decompressed bytes.
type ratioReader struct{ rd *reader }

func (r *ratioReader) Read(p []byte) (int, error) {
	n, err := r.rd.gz.Read(p)
	r.rd.out += int64(n)
	lim := r.rd.lim
	if r.rd.out > lim.MaxTotal+64<<10 {
		return n, refuse(r.rd.what, "expands past %d bytes (decompression bomb cap on total size)", lim.MaxTotal)
	}
	if r.rd.out > min(1<<20, lim.MaxTotal/2) && r.rd.out > lim.MaxRatio*max(r.rd.in.n, 1) {
		return n, refuse(r.rd.what, "expands more than %d:1 (decompression bomb cap on the compression ratio)", lim.MaxRatio)
	}
	return n, err
}

// next returns the next regular-file header, refusing every other kind.
func (rd *reader) next() (*tar.Header, error) {
	hdr, err := rd.tr.Next()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return nil, err
		}
		return nil, refuse(rd.what, "damaged tar stream (%v)", err)
	}
	rd.count++
	if rd.count > rd.lim.MaxEntries {
		return nil, refuse(rd.what, "more than %d entries (decompression bomb cap on entry count)", rd.lim.MaxEntries)
	}
	name := hdr.Name
	switch hdr.Typeflag {
	case tar.TypeReg:
	case tar.TypeSymlink:
		return nil, refuse(rd.what, "entry %q is a symbolic link to %q: modules may not contain links", name, hdr.Linkname)
	case tar.TypeLink:
		return nil, refuse(rd.what, "entry %q is a hard link to %q: modules may not contain links", name, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return nil, refuse(rd.what, "entry %q is a device node: modules contain only files", name)
	case tar.TypeFifo:
		return nil, refuse(rd.what, "entry %q is a FIFO (named pipe): modules contain only files", name)
	case tar.TypeDir:
		return nil, refuse(rd.what, "entry %q is a directory entry; Atelier archives list files only", name)
	default:
		return nil, refuse(rd.what, "entry %q has unsupported tar type %q", name, hdr.Typeflag)
	}
	if hdr.Mode&0o7000 != 0 {
		return nil, refuse(rd.what, "entry %q has the setuid, setgid or sticky bit (mode %o)", name, hdr.Mode)
	}
	if perm := hdr.Mode & 0o777; perm != 0o644 && perm != 0o755 {
		return nil, refuse(rd.what, "entry %q has mode %o; Atelier archives use 0644 or 0755", name, perm)
	}
	if err := CheckPath(name); err != nil {
		return nil, refuse(rd.what, "%v", err)
	}
	if hdr.Size < 0 || hdr.Size > rd.lim.MaxFile {
		return nil, refuse(rd.what, "entry %q is %d bytes, over the %d-byte cap per file", name, hdr.Size, rd.lim.MaxFile)
	}
	if hdr.Size > rd.lim.MaxTotal {
		return nil, refuse(rd.what, "entry %q is larger than the total size cap", name)
	}
	return hdr, nil
}

func (rd *reader) readSmall(hdr *tar.Header, max int64) ([]byte, error) {
	if hdr.Size > max {
		return nil, refuse(rd.what, "%s is %d bytes, over its %d-byte cap", hdr.Name, hdr.Size, max)
	}
	b, err := io.ReadAll(io.LimitReader(rd.tr, max+1))
	if err != nil {
		return nil, rd.wrap(err, hdr.Name)
	}
	return b, nil
}

func (rd *reader) wrap(err error, name string) error {
	if errors.Is(err, ErrRefused) {
		return err
	}
	return refuse(rd.what, "reading %q: damaged archive (%v)", name, err)
}

// head reads and checks the manifest and the file list (the first two entries).
func (rd *reader) head() (Head, error) {
	hdr, err := rd.next()
	if err == io.EOF {
		return Head{}, refuse(rd.what, "empty archive: no %s", manifest.FileName)
	}
	if err != nil {
		return Head{}, err
	}
	if hdr.Name != manifest.FileName {
		return Head{}, refuse(rd.what, "first entry is %q, not %s: this is not an Atelier module archive", hdr.Name, manifest.FileName)
	}
	mraw, err := rd.readSmall(hdr, manifest.MaxSize)
	if err != nil {
		return Head{}, err
	}
	m, err := manifest.Parse(mraw, rd.what+": "+manifest.FileName)
	if err != nil {
		return Head{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	hdr, err = rd.next()
	if err == io.EOF {
		return Head{}, refuse(rd.what, "no %s after the manifest", FileListName)
	}
	if err != nil {
		return Head{}, err
	}
	if hdr.Name != FileListName {
		return Head{}, refuse(rd.what, "second entry is %q, not %s", hdr.Name, FileListName)
	}
	lraw, err := rd.readSmall(hdr, MaxFileList)
	if err != nil {
		return Head{}, err
	}
	list, err := ParseFileList(lraw, rd.what+": "+FileListName)
	if err != nil {
		return Head{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if list.Module != m.Name || list.Version != m.Version {
		return Head{}, refuse(rd.what, "file list is for %s@%s but the manifest says %s@%s (files mixed from another version)", list.Module, list.Version, m.Name, m.Version)
	}
	if len(list.Files) > rd.lim.MaxEntries {
		return Head{}, refuse(rd.what, "file list names %d files, over the %d-entry cap (decompression bomb cap on entry count)", len(list.Files), rd.lim.MaxEntries)
	}
	var total int64
	for _, f := range list.Files {
		total += f.Size
		if f.Size > rd.lim.MaxFile {
			return Head{}, refuse(rd.what, "file list declares %q as %d bytes, over the %d-byte cap per file", f.Path, f.Size, rd.lim.MaxFile)
		}
		if total > rd.lim.MaxTotal {
			return Head{}, refuse(rd.what, "file list declares more than %d bytes (decompression bomb cap on total size)", rd.lim.MaxTotal)
		}
	}
	// The manifest itself must be listed with its exact digest.
	ms := sha256.Sum256(mraw)
	if i := findFile(list, manifest.FileName); i < 0 || list.Files[i].SHA256 != hex.EncodeToString(ms[:]) || list.Files[i].Size != int64(len(mraw)) {
		return Head{}, refuse(rd.what, "manifest does not match its entry in the file list (files mixed from another version)")
	}
	return Head{Manifest: m, ManifestRaw: mraw, Files: list}, nil
}

func findFile(l FileList, p string) int {
	lo, hi := 0, len(l.Files)
	for lo < hi {
		mid := (lo + hi) / 2
		if l.Files[mid].Path < p {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(l.Files) && l.Files[lo].Path == p {
		return lo
	}
	return -1
}

// ReadHead reads only the manifest and file list: cheap, for showing what an
// archive claims before its signature is checked against it.
func ReadHead(r io.Reader, what string, lim Limits) (Head, error) {
	rd, err := newReader(r, what, lim)
	if err != nil {
		return Head{}, err
	}
	defer rd.release()
	return rd.head()
}

// Sink receives the verified content of each file. Create returns where the
// bytes of f go; the reader checks size and digest after writing and fails
// the whole read on a mismatch (the caller then discards everything).
type Sink func(f File) (io.WriteCloser, error)

// Walk reads the whole archive: the head, then every file in list order,
// checking each against the file list and every cap.
func Walk(ctx context.Context, r io.Reader, what string, lim Limits, sink Sink) (Head, error) {
	rd, err := newReader(r, what, lim)
	if err != nil {
		return Head{}, err
	}
	defer rd.release()
	h, err := rd.head()
	if err != nil {
		return Head{}, err
	}
	var declared, written int64 // for a write error: how much was still to come
	for _, f := range h.Files.Files {
		declared += f.Size
	}
	names := newNameSet()
	names.files[foldKey(FileListName)] = FileListName
	i := 0
	var prev string
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return Head{}, err
		}
		var f File
		var hdr *tar.Header
		if i == 0 {
			f = h.Files.Files[findFile(h.Files, manifest.FileName)]
			hdr = nil
		} else {
			hdr, err = rd.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return Head{}, err
			}
			if err := names.add(hdr.Name); err != nil {
				return Head{}, refuse(what, "%v", err)
			}
			if hdr.Name == manifest.FileName || hdr.Name == FileListName {
				return Head{}, refuse(what, "entry %q appears twice", hdr.Name)
			}
			if prev != "" && hdr.Name <= prev {
				return Head{}, refuse(what, "entry %q is out of order after %q (archives list files in sorted order)", hdr.Name, prev)
			}
			prev = hdr.Name
			j := findFile(h.Files, hdr.Name)
			if j < 0 {
				return Head{}, refuse(what, "entry %q is not in the file list (files mixed from another version)", hdr.Name)
			}
			f = h.Files.Files[j]
			if f.Size != hdr.Size || (f.Mode == "0755") != (hdr.Mode&0o111 != 0) {
				return Head{}, refuse(what, "entry %q differs in size or mode from the file list (files mixed from another version)", hdr.Name)
			}
		}
		if i == 0 {
			names.add(manifest.FileName)
		}
		sw, err := sink(f)
		if err != nil {
			return Head{}, &WriteError{Path: f.Path, Remaining: declared - written, Err: err}
		}
		// Errors of the sink (a full disk) are told apart from errors
		// reading the archive: only the latter mean a damaged archive.
		w := &sinkWriter{w: sw}
		hs := sha256.New()
		var n int64
		if hdr == nil {
			hs.Write(h.ManifestRaw)
			_, err = w.Write(h.ManifestRaw)
			n = int64(len(h.ManifestRaw))
		} else {
			n, err = io.CopyBuffer(io.MultiWriter(w, hs), io.LimitReader(rd.tr, f.Size), buf)
		}
		if cerr := sw.Close(); cerr != nil && w.err == nil {
			w.err = cerr
		}
		if w.err != nil {
			return Head{}, &WriteError{Path: f.Path, Remaining: declared - written, Err: w.err}
		}
		if err != nil {
			return Head{}, rd.wrap(err, f.Path)
		}
		written += n
		if n != f.Size || hex.EncodeToString(hs.Sum(nil)) != f.SHA256 {
			return Head{}, refuse(what, "entry %q does not match its SHA-256 in the file list (files mixed from another version, or a changed byte)", f.Path)
		}
		i++
	}
	if i != len(h.Files.Files) {
		return Head{}, refuse(what, "archive has %d files but its file list names %d (files missing or mixed from another version)", i, len(h.Files.Files))
	}
	// Nothing may follow the tar end: only zero padding, then the gzip end.
	rest, err := io.ReadAll(io.LimitReader(&ratioReader{rd}, 1<<20))
	if err != nil {
		return Head{}, rd.wrap(err, "end of archive")
	}
	if len(rest) >= 1<<20 || bytes.ContainsFunc(rest, func(r rune) bool { return r != 0 }) {
		return Head{}, refuse(what, "data after the end of the tar stream")
	}
	if extra, _ := rd.in.Read(make([]byte, 1)); extra != 0 {
		return Head{}, refuse(what, "trailing data after the gzip stream")
	}
	return h, nil
}

// sinkWriter remembers the error of the writer it wraps.
type sinkWriter struct {
	w   io.Writer
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

type discardCloser struct{ io.Writer }

func (discardCloser) Close() error { return nil }

// Check reads and checks the whole archive without writing anything.
func Check(ctx context.Context, r io.Reader, what string, lim Limits) (Head, error) {
	return Walk(ctx, r, what, lim, func(File) (io.WriteCloser, error) { return discardCloser{io.Discard}, nil })
}

// Extract reads the archive into dest, which must be an empty directory (a
// staging dir). Writes go through os.Root, so nothing lands outside dest even
// if a check were missed. On error dest may hold partial files: the caller
// removes it.
func Extract(ctx context.Context, r io.Reader, what, dest string, lim Limits) (Head, error) {
	root, err := os.OpenRoot(dest)
	if err != nil {
		return Head{}, fmt.Errorf("open staging dir %s: %w", dest, err)
	}
	defer root.Close()
	h, err := Walk(ctx, r, what, lim, func(f File) (io.WriteCloser, error) {
		if d := path.Dir(f.Path); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
		}
		perm := os.FileMode(0o644)
		if f.Mode == "0755" {
			perm = 0o755
		}
		return createFile(root, f.Path, perm)
	})
	var we *WriteError
	if errors.As(err, &we) && we.Dest == "" {
		we.Dest = dest
		we.Free = FreeSpace(dest)
	}
	return h, err
}

// createFile opens a new file for an entry under root (tests swap it to
// simulate a full disk).
var createFile = func(root *os.Root, name string, perm os.FileMode) (io.WriteCloser, error) {
	return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}
