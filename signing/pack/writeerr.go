package pack

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"atelier/humanize"
)

// WriteError is a failure to write an archive's files where they go: the
// disk is full, over quota or read-only, or refuses for another reason. It is
// not a fault of the archive, and says so.
type WriteError struct {
	Dest      string // the folder the files were going into (set by Extract)
	Path      string // the entry being written
	Remaining int64  // bytes still to write, counting the entry being written
	Free      int64  // free bytes on Dest's file system when it failed (-1: unknown)
	UpFront   bool   // refused before writing (NeedSpace), not by a failed write
	Err       error
}

func (e *WriteError) Unwrap() error { return e.Err }

func (e *WriteError) Error() string {
	where := e.Dest
	if where == "" {
		where = "the destination folder"
	}
	need := e.Remaining - max(e.Free, 0)
	if need < 1<<20 {
		need = 1 << 20
	}
	switch {
	case e.UpFront:
		return fmt.Sprintf("not enough space on the disk holding %s for %s: it needs %s and %s is free; free %s and try again", where, e.Path, humanize.Bytes(e.Remaining), humanize.Bytes(max(e.Free, 0)), humanize.Bytes(need))
	case errors.Is(e.Err, syscall.ENOSPC):
		return fmt.Sprintf("the disk holding %s is full (writing %s): free %s and try again", where, e.Path, humanize.Bytes(need))
	case errors.Is(e.Err, syscall.EDQUOT):
		return fmt.Sprintf("your disk quota on the disk holding %s is used up (writing %s): free %s and try again", where, e.Path, humanize.Bytes(need))
	case errors.Is(e.Err, syscall.EROFS):
		return fmt.Sprintf("the disk holding %s is read-only (writing %s): make it writable or use a data folder on a writable disk", where, e.Path)
	}
	return fmt.Sprintf("could not write %s into %s: %v (the archive itself is fine)", e.Path, where, e.Err)
}

// NeedSpace refuses up front when the file system holding dir has less free
// space than need bytes (plus a small margin for directories and metadata).
// Where the free space cannot be read, it lets the write try.
func NeedSpace(dir, what string, need int64) error {
	free := FreeSpace(dir)
	if free < 0 {
		return nil
	}
	margin := int64(1<<20) + need/100
	if free >= need+margin {
		return nil
	}
	return &WriteError{Dest: dir, Path: what, Remaining: need + margin, Free: free, UpFront: true, Err: syscall.ENOSPC}
}

// FreeSpace is the number of bytes an unprivileged user may still write on
// the file system holding p, or -1 when it cannot be told.
func FreeSpace(p string) int64 {
	return freeSpace(filepath.Clean(p))
}
