package media

import (
	"context"
	"os/exec"
	"strconv"
	"syscall"
)

// limitedCommand runs bin under prlimit (util-linux, part of every Debian
// system): an address-space limit, a CPU-time limit, no core dumps and no
// file writes (its output is a pipe). The child dies with Atelier.
func limitedCommand(ctx context.Context, lim Limits, bin string, args []string) (*exec.Cmd, error) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		return nil, errNoPrlimit
	}
	cpu := max(int64(lim.CPU.Seconds()+0.999), 1)
	a := []string{
		"--as=" + strconv.FormatInt(lim.Memory, 10),
		"--cpu=" + strconv.FormatInt(cpu, 10),
		"--core=0",
		"--fsize=0",
		"--", bin,
	}
	cmd := exec.CommandContext(ctx, prlimit, append(a, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// lower makes the process nice: previews wait for the creator's own work.
func lower(pid, nice int) {
	if nice > 0 {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, pid, nice)
	}
}
