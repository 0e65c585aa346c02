package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/projects"
	"atelier/localdb"
)

// TestMain lets a test run this package's main() in a child process: the
// signal tests need a real process to interrupt.
func TestMain(m *testing.M) {
	if os.Getenv("ATELIER_TEST_MAIN") == "1" {
		// A command that ignores its context, standing in for work that
		// does not stop quickly enough after the first signal.
		runMain(&cobra.Command{Use: "test-stuck", Hidden: true, RunE: func(cmd *cobra.Command, args []string) error {
			os.Stdout.WriteString("stuck\n")
			select {}
		}})
		os.Exit(0)
	}
	// No test may reach the real user dirs (a test whose --data-dir was
	// reset by the root command once wrote into ~/.config/atelier): the default data
	// dir is a temporary one.
	home, err := os.MkdirTemp("", "atelier-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("ATELIER_HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// atelierCmd is `atelier ARGS...` run by this test binary's main().
func atelierCmd(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ATELIER_TEST_MAIN=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// syncBuffer is a bytes.Buffer safe to read while the child writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// trickle is a server that answers 200 and then sends one byte every 200 ms,
// forever: never idle, never done. started receives each request.
func trickle(t *testing.T) (*httptest.Server, chan struct{}) {
	started := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		started <- struct{}{}
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
				w.Write([]byte("{"))
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, started
}

// `atelier registry add URL` against a server that trickles bytes used to hang
// through SIGINT and SIGTERM while holding the data-dir lock: the first Ctrl-C
// now cancels the in-process engine's work, the command exits 130 within
// seconds, and the lock is free for the next command.
func TestInterruptCancelsInProcessWork(t *testing.T) {
	srv, started := trickle(t)
	data := t.TempDir()
	cmd, out := atelierCmd(t, "--data-dir", data, "registry", "add", srv.URL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the registry fetch never started: %s", out)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 5 s after SIGINT: %s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit after SIGINT: %v (want status 130); output: %s", err, out)
	}
	if !strings.Contains(out.String(), "interrupt") {
		t.Fatalf("no word of the interruption: %s", out)
	}
	db, err := localdb.Open(filepath.Join(data, "db"), localdb.Options{})
	if err != nil {
		t.Fatalf("the data dir lock is still held after the command exited: %v", err)
	}
	db.Close()
}

// A second signal exits at once, even when the work does not stop on the first.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	cmd, out := atelierCmd(t, "--data-dir", t.TempDir(), "test-stuck")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "stuck") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit: %v; output: %s", err, out)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running after two signals: %s", out)
	}
}

// `atelier daemon & atelier status`: a CLI command that finds the data dir
// locked by a starting engine waits for its socket instead of failing with
// "data directory is in use".
func TestCommandsRightAfterDaemonStart(t *testing.T) {
	data := t.TempDir()
	d, dout := atelierCmd(t, "--data-dir", data, "daemon", "--log-level", "error")
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		d.Wait()
	})
	type result struct {
		out string
		err error
	}
	res := make(chan result, 4)
	for i := 0; i < 4; i++ {
		go func() {
			c, out := atelierCmd(t, "--data-dir", data, "status")
			err := c.Run()
			res <- result{out.String(), err}
		}()
	}
	for i := 0; i < 4; i++ {
		r := <-res
		if r.err != nil {
			t.Errorf("status right after the daemon started: %v: %s", r.err, r.out)
		}
	}
	// The daemon itself is the engine they talk to (and it is still up).
	gopts := &globalOptions{dataDir: data}
	deadline := time.Now().Add(10 * time.Second)
	for !engineRunning(gopts) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon is not serving: %s", dout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var st projects.Status
	if err := do(context.Background(), gopts, func(cl *client.Client) (err error) { st, err = cl.Projects.Status(context.Background()); return }); err != nil || !st.Running {
		t.Fatalf("status %+v %v", st, err)
	}
}
