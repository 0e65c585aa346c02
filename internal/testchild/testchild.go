// Package testchild lets a test binary run itself again as a child process
// for crash tests: TestMain calls Main, the test starts the child with
// Command and kills it where it likes; PidsWith finds processes a test
// started indirectly (a detached daemon).
package testchild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Main is a TestMain body. When the variable name is "1" in the
// environment, this process is a child: it runs child and exits with its
// code. Otherwise it runs the tests, then cleanup (if any), and exits.
func Main(m *testing.M, name string, child func() int, cleanup ...func()) {
	if os.Getenv(name) == "1" {
		os.Exit(child())
	}
	code := m.Run()
	for _, f := range cleanup {
		f()
	}
	os.Exit(code)
}

// Command is this test binary as a child (name=1 plus env, on top of this
// process's environment) that runs no test, only Main's child function.
func Command(name string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), name+"=1"), env...)
	return cmd
}

// PidsWith are the processes whose command line contains every one of
// parts, whoever started them (a detached daemon is no child of the test).
func PidsWith(parts ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		all := true
		for _, p := range parts {
			all = all && strings.Contains(cmd, p)
		}
		if all {
			out = append(out, pid)
		}
	}
	return out
}
