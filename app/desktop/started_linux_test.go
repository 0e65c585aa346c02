package desktop

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestProcessStarted(t *testing.T) {
	started, err := ProcessStarted()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary started before this test ran, and not long before.
	if d := time.Since(started); d < -20*time.Millisecond || d > 10*time.Minute {
		t.Errorf("the process started %s ago", d)
	}
}

func TestStartedAgo(t *testing.T) {
	stat := "4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 1 0 12345 100 200 rest"
	ago, err := startedAgo([]byte(stat), []byte("125.50 300.00\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ago != 2*time.Second+50*time.Millisecond {
		t.Errorf("started %s ago, want 2.05s", ago)
	}
	for _, bad := range []struct{ stat, up string }{
		{"no parens at all", "1.0 1.0"},
		{"1 (x) S 1 2", "1.0 1.0"},
		{strings.Replace(stat, "12345", "-3", 1), "125.5 1"},
		{stat, ""},
		{stat, "abc 1"},
		{stat, "1.00 1"}, // started after "now"
	} {
		if _, err := startedAgo([]byte(bad.stat), []byte(bad.up)); err == nil {
			t.Errorf("startedAgo(%q, %q): no error", bad.stat, bad.up)
		}
	}
}

func FuzzStartedAgo(f *testing.F) {
	stat, _ := os.ReadFile("/proc/self/stat")
	up, _ := os.ReadFile("/proc/uptime")
	f.Add(stat, up)
	f.Add([]byte("1 (a)) S"), []byte("1e300"))
	f.Fuzz(func(t *testing.T, stat, up []byte) {
		if ago, err := startedAgo(stat, up); err == nil && ago < 0 {
			t.Errorf("negative %s", ago)
		}
	})
}
