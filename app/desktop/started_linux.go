package desktop

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc's start times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// ProcessStarted is when the kernel started this process (its exec), from
// /proc/self/stat and the time since boot in /proc/uptime, to the clock tick
// (10 ms).
// A launch's steps are timed from it, so the time the dynamic loader takes
// to map GTK and WebKit before Go's main runs counts too.
func ProcessStarted() (time.Time, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return time.Time{}, err
	}
	now := time.Now()
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}, err
	}
	ago, err := startedAgo(stat, up)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(-ago), nil
}

// startedAgo reads the start time (field 22, in ticks since boot) of a
// /proc/PID/stat line and the seconds since boot of /proc/uptime, and
// answers how long ago the process started.
func startedAgo(stat, uptime []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses: the fields after it start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat: no command name in %q", truncate(stat))
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): the start time, field 22, is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/self/stat: %d fields after the command name, want at least 20", len(f))
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil || ticks > 1<<40 {
		return 0, fmt.Errorf("/proc/self/stat: start time %q is not a number of clock ticks", f[19])
	}
	u := strings.Fields(string(uptime))
	if len(u) == 0 {
		return 0, fmt.Errorf("/proc/uptime is empty")
	}
	secs, err := strconv.ParseFloat(u[0], 64)
	if err != nil || secs < 0 || secs > 1<<40 {
		return 0, fmt.Errorf("/proc/uptime: %q is not a number of seconds", u[0])
	}
	ago := time.Duration(secs*float64(time.Second)) - time.Duration(ticks)*time.Second/clockTicks
	if ago < 0 {
		return 0, fmt.Errorf("/proc/self/stat: the process started %d ticks after boot, later than the %s seconds /proc/uptime says", ticks, u[0])
	}
	return ago, nil
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
