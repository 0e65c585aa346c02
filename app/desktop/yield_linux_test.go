//go:build linux

package desktop

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// threadState is the scheduling policy and I/O priority of a thread.
func threadState(t *testing.T, tid int) (policy int, ioprio int) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return -1, -1 // the thread ended
	}
	// Fields after the command name (in parentheses); policy is field 41.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	policy, _ = strconv.Atoi(f[41-3])
	r, _, e := syscall.RawSyscall(syscall.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(tid), 0)
	if e != 0 {
		return policy, -1
	}
	return policy, int(r)
}

func TestBackgroundYieldsAndComesBack(t *testing.T) {
	if err := Background(true); err != nil {
		t.Fatal(err)
	}
	tids, _ := threads()
	for _, tid := range tids {
		pol, io := threadState(t, tid)
		if pol == -1 {
			continue
		}
		if pol != schedBatch || io != ioprioClassBE<<ioprioClassShift|7 {
			t.Errorf("hidden: thread %d policy %d, ioprio %#x", tid, pol, io)
		}
	}
	// A thread started now inherits the background priority.
	done := make(chan [2]int)
	go func() {
		// runtime.LockOSThread is not needed: any thread of the process is lowered.
		pol, io := threadState(t, syscall.Gettid())
		done <- [2]int{pol, io}
	}()
	if got := <-done; got[0] != schedBatch {
		t.Errorf("a thread running after Background(true): policy %d", got[0])
	}
	// Unprivileged, the window showing again restores the default.
	if err := Background(false); err != nil {
		t.Fatal(err)
	}
	tids, _ = threads()
	for _, tid := range tids {
		pol, io := threadState(t, tid)
		if pol == -1 {
			continue
		}
		if pol != schedOther || io>>ioprioClassShift == ioprioClassBE {
			t.Errorf("shown: thread %d policy %d, ioprio %#x", tid, pol, io)
		}
	}
}
