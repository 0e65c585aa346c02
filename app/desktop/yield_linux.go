//go:build linux

package desktop

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// While the window is hidden the app is a background companion: its
// threads (the engine's hashing, previews, uploads) yield to the creator's
// foreground work. Both changes are ones an unprivileged process can undo
// when the window shows again, which lowering nice is not (raising it back
// needs RLIMIT_NICE or CAP_SYS_NICE): the CPU policy goes from SCHED_OTHER
// to SCHED_BATCH (no wake-up preemption of interactive tasks) and the I/O
// priority to the lowest best-effort level. Threads made later inherit both
// from the thread that makes them.

const (
	ioprioWhoProcess = 1 // a thread id
	ioprioClassShift = 13
	ioprioClassNone  = 0 // the default: derived from the nice value
	ioprioClassBE    = 2
	schedOther       = 0
	schedBatch       = 3
)

// Background lowers (on) or restores the CPU and I/O priority of every
// thread of the process.
func Background(on bool) error {
	prio, policy := ioprioClassNone<<ioprioClassShift, schedOther
	if on {
		prio, policy = ioprioClassBE<<ioprioClassShift|7, schedBatch
	}
	tids, err := threads()
	if err != nil {
		return err
	}
	var errs []error
	for _, tid := range tids {
		if _, _, e := syscall.RawSyscall(syscall.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(prio)); e != 0 && e != syscall.ESRCH {
			errs = append(errs, fmt.Errorf("I/O priority of thread %d: %w", tid, e))
		}
		param := struct{ priority int32 }{0}
		if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), uintptr(policy), uintptr(unsafe.Pointer(&param))); e != 0 && e != syscall.ESRCH {
			errs = append(errs, fmt.Errorf("CPU policy of thread %d: %w", tid, e))
		}
	}
	return errors.Join(errs...)
}

func threads() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list the threads: %w", err)
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out, nil
}
