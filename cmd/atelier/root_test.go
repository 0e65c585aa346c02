package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// Each root owns its globalOptions: --json given to one command line does
// not reach another built beside it (with the old package-level flags, the
// second printed JSON too).
func TestRootsShareNoOptions(t *testing.T) {
	data := t.TempDir()
	withJSON, plain := newRootCommand(&globalOptions{}), newRootCommand(&globalOptions{})
	run := func(root interface {
		SetArgs([]string)
		ExecuteContext(context.Context) error
	}, args ...string) string {
		t.Helper()
		f, err := os.CreateTemp(t.TempDir(), "stdout")
		if err != nil {
			t.Fatal(err)
		}
		saved := os.Stdout
		os.Stdout = f
		root.SetArgs(append([]string{"--data-dir", data}, args...))
		err = root.ExecuteContext(context.Background())
		os.Stdout = saved
		f.Close()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		b, _ := os.ReadFile(f.Name())
		return string(b)
	}
	withJSON.SetOut(io.Discard)
	plain.SetOut(io.Discard)
	if out := run(withJSON, "--json", "status"); !strings.HasPrefix(out, "{") {
		t.Fatalf("status --json printed %q", out)
	}
	if out := run(plain, "status"); !strings.HasPrefix(out, "Atelier ") {
		t.Fatalf("status without --json, on a second root, printed %q", out)
	}
}
