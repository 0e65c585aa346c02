package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIHelperProcess is not a test: the tests below run this binary as
// the atelier CLI (arguments after "--"), the helper-process pattern of os/exec.
func TestCLIHelperProcess(t *testing.T) {
	if os.Getenv("ATELIER_CLI_HELPER") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	root := newRootCommand(&globalOptions{})
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "atelier:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// markedDBusDaemons lists the dbus-daemon processes (pgrep) whose
// environment carries marker: the ones our child processes started.
func markedDBusDaemons(t *testing.T, marker string) []int {
	t.Helper()
	out, err := exec.Command("pgrep", "-x", "dbus-daemon").Output()
	if err != nil && len(out) != 0 {
		t.Fatalf("pgrep: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err == nil && bytes.Contains(env, []byte(marker)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Where no session bus runs (cron, CI, a headless machine), commands that
// look at the keyring must not start a dbus-daemon through dbus-launch (the
// D-Bus library's fallback), which nobody would ever stop; they say there is
// no keyring instead.
func TestCLINoSessionBusStartsNoDBusDaemon(t *testing.T) {
	if _, err := exec.LookPath("dbus-launch"); err != nil {
		t.Fatal("dbus-launch is not installed (Debian dbus-x11, installed by scripts/deps.sh): without it this test proves nothing")
	}
	home, data := t.TempDir(), t.TempDir()
	marker := fmt.Sprintf("ATELIER_DBUS_LEAK_MARKER=%d-%d", os.Getpid(), time.Now().UnixNano())
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "HOME", "DISPLAY", "ATELIER_VAULT_PASSPHRASE", "ATELIER_HOME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "ATELIER_CLI_HELPER=1", marker, "HOME="+home, "XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	before := markedDBusDaemons(t, marker)
	outputs := map[string]string{}
	for _, args := range [][]string{{"sync", "status"}, {"remote", "list"}} {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestCLIHelperProcess$", "--", "--data-dir", data}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("atelier %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		outputs[strings.Join(args, " ")] = string(out)
	}
	time.Sleep(200 * time.Millisecond) // a daemonised dbus-daemon detaches from dbus-launch
	after := markedDBusDaemons(t, marker)
	for _, pid := range after {
		syscall.Kill(pid, syscall.SIGTERM) // ours: started by the commands above
	}
	if len(after) != len(before) {
		t.Fatalf("dbus-daemon processes started by the CLI: %d before, %d after (pids %v)", len(before), len(after), after)
	}
	if st := outputs["sync status"]; !strings.Contains(st, "no D-Bus session bus") || !strings.Contains(st, "--passphrase-file") {
		t.Fatalf("sync status does not say there is no keyring and what to do:\n%s", st)
	}
}
