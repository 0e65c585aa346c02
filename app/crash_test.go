package app

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"atelier/internal/testchild"
)

// childEnv names the engine child of the kill -9 tests (internal/testchild).
const childEnv = "ATELIER_TEST_ENGINE_CHILD"

// TestMain lets a test re-run this binary as an engine process to kill.
func TestMain(m *testing.M) { testchild.Main(m, childEnv, runChildEngine) }

// runChildEngine opens an engine with background work on and registers the
// project (first run) or simply watches it (later runs), until killed.
func runChildEngine() int {
	root, project := os.Getenv("ATELIER_TEST_ENGINE_ROOT"), os.Getenv("ATELIER_TEST_ENGINE_PROJECT")
	e, err := Open(DirsUnder(root), Options{Background: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if ps, _ := e.Projects.List(); len(ps) == 0 {
		if _, err := e.Projects.Add(project); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	fmt.Println("ready")
	select {}
}

// TestKill9DuringInitialScan kills the engine with SIGKILL at random points of
// the first index of 20,000 files; every restart picks up where the last one
// died, and the final index equals the disk.
func TestKill9DuringInitialScan(t *testing.T) {
	proj := t.TempDir()
	for i := range 20000 {
		writeFile(t, filepath.Join(proj, fmt.Sprintf("album%02d", i%50), fmt.Sprintf("track%05d.wav", i)), fmt.Sprint("take ", i, " ", rand.Int()))
	}
	home := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := range 4 {
		cmd := testchild.Command(childEnv, "ATELIER_TEST_ENGINE_ROOT="+home, "ATELIER_TEST_ENGINE_PROJECT="+proj)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		out.Read(buf) // "ready"
		time.Sleep(time.Duration(50+rng.Intn(600)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("round %d: killed", round)
	}
	e := openEngine(t, DirsUnder(home), true)
	defer e.Close()
	ps, err := e.Projects.List()
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects after crashes: %v %v", ps, err)
	}
	waitConverged(t, e, string(ps[0].ID), proj, 120*time.Second)
}
