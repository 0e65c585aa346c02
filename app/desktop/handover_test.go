package desktop_test

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/app/desktop"
	"atelier/internal/testchild"
)

const handoverHelperEnv = "ATELIER_HANDOVER_HELPER"

// TestHelperTrayDaemon plays `atelier daemon --tray` for the hand-over
// tests (this test binary, started through a script): it opens the engine
// on --data-dir and serves until SIGTERM. Not a test on its own.
func TestHelperTrayDaemon(t *testing.T) {
	if os.Getenv(handoverHelperEnv) != "1" {
		return
	}
	args := flag.Args()
	if len(args) != 4 || args[0] != "--data-dir" || args[2] != "daemon" || args[3] != "--tray" {
		t.Fatalf("the hand-over started the daemon with %q", args)
	}
	eng, err := app.Open(app.DataDirFlag(args[1]), app.Options{Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	<-sigs
	eng.Close()
	os.Exit(0)
}

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "atelier")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// The hand-over starts the daemon detached and waits until it answers; a
// daemon that exits or does not answer is an error naming its log (the
// window then keeps its engine).
func TestStartTrayDaemon(t *testing.T) {
	ctx := context.Background()
	dirs := app.DirsUnder(t.TempDir())
	os.MkdirAll(dirs.Data, 0o700)
	logPath := filepath.Join(dirs.Data, "daemon.log")
	start := func(prog string, wait time.Duration) error {
		return desktop.StartTrayDaemon(ctx, desktop.DaemonStart{Program: prog, DataDirFlag: dirs.Data, Socket: app.SocketPath(dirs), LogPath: logPath, Wait: wait})
	}

	err := start(script(t, `echo "cannot open the data dir" >&2; exit 3`), 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "stopped before it answered") || !strings.Contains(err.Error(), logPath) {
		t.Fatalf("a daemon that exits: %v", err)
	}
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "cannot open the data dir") {
		t.Errorf("its output is not in its log: %q", b)
	}

	pidFile := filepath.Join(t.TempDir(), "pid")
	err = start(script(t, `echo $$ > `+pidFile+`; exec sleep 60`), 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("a daemon that does not answer: %v", err)
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid == 0 || syscall.Kill(pid, 0) == nil {
		t.Errorf("the daemon that did not answer (pid %d) still runs", pid)
	}

	err = start(filepath.Join(t.TempDir(), "no-such-atelier"), time.Second)
	if err == nil {
		t.Fatal("a missing program started")
	}

	// A daemon that answers: detached in its own session.
	self, _ := os.Executable()
	t.Setenv(handoverHelperEnv, "1")
	if err := start(script(t, `exec "`+self+`" -test.run='^TestHelperTrayDaemon$' -- "$@"`), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Dial(app.SocketPath(dirs)); err != nil {
		t.Fatal(err)
	}
	pids := testchild.PidsWith("TestHelperTrayDaemon", dirs.Data)
	if len(pids) != 1 {
		t.Fatalf("daemon processes on %s: %v", dirs.Data, pids)
	}
	// Its own session: field 6 of /proc/PID/stat (after the command's ")").
	stat, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pids[0]), "stat"))
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 4 || f[3] != strconv.Itoa(pids[0]) {
		t.Errorf("the daemon (pid %d) is not in a session of its own: %q", pids[0], f)
	}
	syscall.Kill(pids[0], syscall.SIGTERM)
	for deadline := time.Now().Add(20 * time.Second); syscall.Kill(pids[0], 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the helper daemon did not stop")
		}
	}
}
