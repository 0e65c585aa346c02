package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"atelier/app"
	"atelier/app/client"
	"atelier/app/history"
	"atelier/app/projects"
)

// The history commands against a running engine: versions of a file,
// milestone, diff, restore in place (--at) and as a copy (--as), budget.
func TestCLIHistory(t *testing.T) {
	data := t.TempDir()
	e, err := app.Open(app.DataDirFlag(data), app.Options{Background: true, Serve: true, HistorySettle: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	proj := t.TempDir()
	ctx := context.Background()
	var p projects.ProjectSummary
	if err := do(ctx, &globalOptions{dataDir: data}, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(ctx, proj); return }); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := runCLI(t, append([]string{"--data-dir", data}, args...)...)
		if err != nil {
			t.Fatalf("atelier %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	versions := func(n int) []history.Version {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var vs []history.Version
			json.Unmarshal([]byte(cli("history", p.Name, "mix.wav", "--json")), &vs)
			if len(vs) >= n {
				return vs
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d versions, want %d", len(vs), n)
			}
			time.Sleep(150 * time.Millisecond)
		}
	}
	os.WriteFile(filepath.Join(proj, "mix.wav"), []byte("rough"), 0o644)
	first := versions(1)[0]
	cli("milestone", p.Name, "rough mix", "--json")
	os.WriteFile(filepath.Join(proj, "mix.wav"), []byte("final master"), 0o644)
	versions(2)
	var d history.Diff
	json.Unmarshal([]byte(cli("diff", p.Name, "rough mix", "--json")), &d)
	if d.Changed != 1 || d.Entries[0].Path != "mix.wav" || d.SizeDelta != 7 {
		t.Fatalf("diff: %+v", d)
	}
	var res history.RestoreResult
	json.Unmarshal([]byte(cli("restore", p.Name, "mix.wav", "--at", strconv.FormatInt(first.Seq, 10), "--as", "mix rough.wav", "--json")), &res)
	if b, _ := os.ReadFile(filepath.Join(proj, "mix rough.wav")); string(b) != "rough" {
		t.Fatalf("restore --as: %q %+v", b, res)
	}
	json.Unmarshal([]byte(cli("restore", p.Name, "mix.wav", "--at", "rough mix", "--json")), &res)
	if b, _ := os.ReadFile(filepath.Join(proj, "mix.wav")); string(b) != "rough" || res.Before == 0 {
		t.Fatalf("restore --at: %q %+v", b, res)
	}
	if out := cli("history", p.Name); !strings.Contains(out, "rough mix") {
		t.Fatalf("timeline without the milestone:\n%s", out)
	}
	var bi history.BudgetInfo
	json.Unmarshal([]byte(cli("history", "budget", "--cap", "2G", "--json")), &bi)
	if bi.CapBytes != 2<<30 || len(bi.Projects) != 1 {
		t.Fatalf("budget: %+v", bi)
	}
}
