//go:build !linux

package desktop

// Background is a no-op outside Linux.
func Background(on bool) error { return nil }
