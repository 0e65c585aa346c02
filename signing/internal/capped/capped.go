// Package capped reads inputs that must stay small (manifests, signatures,
// indexes) without trusting their declared or actual size.
package capped

import (
	"fmt"
	"io"
	"os"
)

// ReadAll reads r to the end, refusing more than max bytes; what names the
// input in the error.
func ReadAll(r io.Reader, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", what, max)
	}
	return b, nil
}

// ReadFile is ReadAll of the file at p (errors from opening it are returned
// as they are, so callers can test for os.ErrNotExist).
func ReadFile(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, max, p)
}
