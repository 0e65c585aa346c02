package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"atelier/app/api"
)

// The hand-over: a window that owns the engine and has been hidden for a
// while stops its engine (as Quit does) and starts `atelier daemon --tray`
// on the same data dir, which shows the status icon from then on; the
// window process then exits, leaving the engine alone resident.

// DaemonProgramEnv names the `atelier` program the hand-over starts,
// instead of the one beside the window program or on PATH (tests).
const DaemonProgramEnv = "ATELIER_DAEMON_PROGRAM"

// DaemonProgram is the `atelier` command line: DaemonProgramEnv, else
// beside this program (build/bin), else on PATH (the package's
// /usr/bin/atelier). It errs when there is none.
func DaemonProgram() (string, error) {
	p := os.Getenv(DaemonProgramEnv)
	if p == "" {
		p = FindProgram("atelier")
	}
	found, err := exec.LookPath(p)
	if err != nil {
		return "", fmt.Errorf("the atelier program is not beside the window program nor on PATH (%v): reinstall Atelier", err)
	}
	return found, nil
}

// DaemonStart is how to start the tray daemon.
type DaemonStart struct {
	Program string // the atelier program (DaemonProgram)
	// DataDirFlag is the window's --data-dir, "" when it had none (the
	// daemon then finds the same dirs from ATELIER_HOME or the user dirs).
	DataDirFlag string
	Socket      string        // the engine's API socket: the daemon is up once it answers
	LogPath     string        // the daemon's stdout and stderr (appended)
	Wait        time.Duration // how long it may take to answer; 0 means a minute
}

// maxDaemonLog is the size past which the daemon's log starts over (the
// previous one is kept as LOG.1).
const maxDaemonLog = 8 << 20

// StartTrayDaemon starts `atelier daemon --tray` detached (its own session,
// stdin from /dev/null, output to LogPath) and waits until it answers on
// Socket. When it exits first or does not answer in time it is stopped,
// and the error says why and where its log is.
func StartTrayDaemon(ctx context.Context, o DaemonStart) error {
	if o.Wait <= 0 {
		o.Wait = time.Minute
	}
	if st, err := os.Stat(o.LogPath); err == nil && st.Size() > maxDaemonLog {
		os.Rename(o.LogPath, o.LogPath+".1")
	}
	logf, err := os.OpenFile(o.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open the daemon's log %s: %w", o.LogPath, err)
	}
	defer logf.Close() // the daemon has its own copy
	var args []string
	if o.DataDirFlag != "" {
		args = append(args, "--data-dir", o.DataDirFlag)
	}
	args = append(args, "daemon", "--tray")
	cmd := exec.Command(o.Program, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s daemon --tray: %w", o.Program, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(o.Wait)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := api.Dial(o.Socket); err == nil {
			// Answering: a Ping through the API, not only a listening socket.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			var info struct{ Tray bool }
			err = c.Call(pctx, "Window.Info", &info)
			cancel()
			if err == nil {
				return nil
			}
		}
		select {
		case err := <-exited:
			if err == nil {
				err = errors.New("it exited")
			}
			return fmt.Errorf("%s daemon --tray stopped before it answered on %s (%v): see %s", o.Program, o.Socket, err, o.LogPath)
		case <-deadline.C:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
			}
			return fmt.Errorf("%s daemon --tray did not answer on %s within %v: stopped it; see %s", o.Program, o.Socket, o.Wait, o.LogPath)
		case <-ctx.Done():
			cmd.Process.Signal(syscall.SIGTERM)
			return ctx.Err()
		case <-tick.C:
		}
	}
}
