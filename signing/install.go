package signing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"atelier/signing/pack"
)

// Installed describes a module placed by Install.
type Installed struct {
	Result
	Dir string `json:"dir"`
}

// ModuleDir is where a module lives under modulesDir: "@alice/reverb" →
// modulesDir/alice/reverb.
func ModuleDir(modulesDir, name string) string {
	return filepath.Join(modulesDir, filepath.FromSlash(strings.TrimPrefix(name, "@")))
}

// Install verifies m and extracts it into a staging directory inside
// modulesDir, then renames it into place (replacing an older version). The
// archive is hashed again while extracting, so a file swapped after
// verification is caught. On any failure nothing is left behind.
func Install(ctx context.Context, m Material, opt Options, modulesDir string) (Installed, error) {
	res, err := Verify(ctx, m, opt)
	if err != nil {
		return Installed{Result: res}, err
	}
	if err := os.MkdirAll(modulesDir, 0o700); err != nil {
		return Installed{}, writeFailure(modulesDir, res.Manifest.Name, err)
	}
	var need int64
	for _, f := range res.head.Files.Files {
		need += f.Size
	}
	if err := pack.NeedSpace(modulesDir, res.Manifest.Name, need); err != nil {
		return Installed{}, err
	}
	staging, err := os.MkdirTemp(modulesDir, ".staging-")
	if err != nil {
		return Installed{}, writeFailure(modulesDir, res.Manifest.Name, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(staging)
		}
	}()
	f, err := os.Open(m.Archive)
	if err != nil {
		return Installed{}, err
	}
	defer f.Close()
	var total int64
	if fi, err := f.Stat(); err == nil {
		total = fi.Size()
	}
	h := sha256.New()
	tee := io.TeeReader(&progressReader{r: ctxReader{ctx, f}, fn: opt.Progress, total: total, note: "install"}, h)
	if _, err := pack.Extract(ctx, tee, m.Archive, staging, opt.Limits); err != nil {
		var we *pack.WriteError
		if errors.As(err, &we) {
			we.Dest = modulesDir // the folder the user knows, not the staging dir
		}
		return Installed{}, err
	}
	if _, err := io.Copy(h, f); err != nil { // whatever the reader did not need
		return Installed{}, err
	}
	if hex.EncodeToString(h.Sum(nil)) != res.ArchiveDigest {
		return Installed{}, fmt.Errorf("%s changed while it was being installed: install again", m.Archive)
	}
	final := ModuleDir(modulesDir, res.Manifest.Name)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return Installed{}, writeFailure(modulesDir, res.Manifest.Name, err)
	}
	var old string
	if _, err := os.Lstat(final); err == nil {
		old = staging + ".old"
		if err := os.Rename(final, old); err != nil {
			return Installed{}, fmt.Errorf("move the installed %s aside: %w", res.Manifest.Name, err)
		}
	}
	if err := os.Rename(staging, final); err != nil {
		if old != "" {
			os.Rename(old, final)
		}
		return Installed{}, fmt.Errorf("move %s into place: %w", res.Manifest.Name, writeFailure(modulesDir, res.Manifest.Name, err))
	}
	ok = true
	if old != "" {
		os.RemoveAll(old)
	}
	return Installed{Result: res, Dir: final}, nil
}

// writeFailure names a failed write into the modules folder as what it is
// (a full, over-quota or read-only disk) when it is one.
func writeFailure(dir, what string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) && (errno == syscall.ENOSPC || errno == syscall.EDQUOT || errno == syscall.EROFS) {
		return &pack.WriteError{Dest: dir, Path: what, Free: pack.FreeSpace(dir), Err: err}
	}
	return fmt.Errorf("write %s into %s: %w", what, dir, err)
}
