package testwait

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPollStopsWhenTheCheckHolds(t *testing.T) {
	var n atomic.Int32
	err := Poll(time.Minute, time.Millisecond, func() error {
		if n.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || n.Load() != 3 {
		t.Fatalf("Poll = %v after %d checks, want nil after 3", err, n.Load())
	}
}

func TestPollGivesTheLastAnswerAfterTheDeadline(t *testing.T) {
	var n atomic.Int32
	err := Poll(20*time.Millisecond, time.Millisecond, func() error {
		n.Add(1)
		return errors.New("still pending")
	})
	if err == nil || err.Error() != "still pending" || n.Load() < 2 {
		t.Fatalf("Poll = %v after %d checks, want the check's error after several", err, n.Load())
	}
}
