// Package diskspace checks free space before writes that can be refused up
// front (opening the database, restores, renders, imports), so a full disk
// gives a clear error naming the file system, what is free and what is
// needed, instead of a half-written file or a crash (Badger maps its files
// into memory: writing to a mapped page of a full disk is a SIGBUS).
package diskspace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"atelier/humanize"
)

// ErrNoSpace means the file system has less free space than a write needs.
var ErrNoSpace = errors.New("not enough free disk space")

// Usage is the space of the file system holding a path.
type Usage struct {
	Mount string // the file system's mount point (best effort)
	Free  int64  // bytes available to this user
	Total int64
}

// Statfs reports the space of the file system holding path. A variable so
// tests can simulate a full disk where they cannot mount one.
var Statfs = statfs

func statfs(path string) (Usage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return Usage{}, err
	}
	return Usage{Mount: mountPoint(path), Free: int64(st.Bavail) * int64(st.Bsize), Total: int64(st.Blocks) * int64(st.Bsize)}, nil
}

// mountPoint walks up from path while the device stays the same.
func mountPoint(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	dev := func(p string) (uint64, bool) {
		fi, err := os.Stat(p)
		if err != nil {
			return 0, false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		return uint64(st.Dev), ok
	}
	d, ok := dev(p)
	if !ok {
		return p
	}
	for {
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		if pd, ok := dev(parent); !ok || pd != d {
			return p
		}
		p = parent
	}
}

// existing is path or its nearest existing parent (a restore target may not exist yet).
func existing(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		p = path
	}
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}

// Check returns an ErrNoSpace error when the file system holding path has
// less than need bytes free. what says what the space is for ("the database",
// "restoring 12 files"). A file system that cannot be asked passes: the write
// itself will report its error.
func Check(path string, need int64, what string) error {
	u, err := Statfs(existing(path))
	if err != nil {
		return nil
	}
	if u.Free >= need {
		return nil
	}
	mount := u.Mount
	if mount == "" {
		mount = existing(path)
	}
	return fmt.Errorf("%w for %s: the file system at %s has %s free, %s needed. Free some space there (or choose another folder), then try again",
		ErrNoSpace, what, mount, humanize.Bytes(u.Free), humanize.Bytes(need))
}
