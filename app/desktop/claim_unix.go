//go:build unix

package desktop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Claim takes the data dir's desktop lock: one window per data dir, whether
// its app owns the engine or is attached to a daemon. It answers
// ErrOtherWindow when another app holds it (a second launch then asks that
// window to show itself). The lock goes with the process.
func Claim(dataDir string) (release func(), err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dataDir, err)
	}
	p := filepath.Join(dataDir, "desktop.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrOtherWindow
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() { f.Close() }, nil
}

// Held reports whether a desktop app holds the data dir's desktop lock now
// (a quick look for a launcher: the answer may change right after; Claim
// decides).
func Held(dataDir string) bool {
	f, err := os.OpenFile(filepath.Join(dataDir, "desktop.lock"), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}
