//go:build !unix

package desktop

// Claim is a no-op where flock is not available: the engine's own lock still
// keeps one engine per data dir.
func Claim(dataDir string) (release func(), err error) { return func() {}, nil }

// Held is false where flock is not available.
func Held(dataDir string) bool { return false }
