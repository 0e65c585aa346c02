//go:build !linux

package desktop

import (
	"errors"
	"time"
)

// ProcessStarted is not known outside Linux: a launch's steps are timed
// from Go's start instead.
func ProcessStarted() (time.Time, error) {
	return time.Time{}, errors.New("the process start time is read from /proc (Linux only)")
}
