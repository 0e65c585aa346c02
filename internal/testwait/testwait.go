// Package testwait is the one wait-until-condition loop of the tests: poll
// a check until it holds, and fail the test with the check's last answer
// when it does not within the time given.
package testwait

import (
	"testing"
	"time"
)

// Until calls check every interval until it returns nil, and fails t with
// check's last error when within has passed. A check that must stop the
// test at once (an unexpected error, not a state still to come) calls
// t.Fatal itself.
func Until(t testing.TB, within, every time.Duration, check func() error) {
	t.Helper()
	if err := Poll(within, every, check); err != nil {
		t.Fatalf("not within %s: %v", within, err)
	}
}

// Poll is Until without a test: it returns check's last error when within
// has passed (nil once check returned nil). Check runs at least once.
func Poll(within, every time.Duration, check func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(every)
	}
}
