package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/library"
	"atelier/app/library/xmp"
)

// run is `atelier ARGS...` (this test binary's main) with its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd, out := atelierCmd(t, args...)
	err := cmd.Run()
	return out.String(), err
}

// `atelier find`, `rate`, `tag`, `collection` without a running engine: each
// opens the data dir for its one call.
func TestCLIFindTagRateCollection(t *testing.T) {
	data := t.TempDir()
	proj := filepath.Join(t.TempDir(), "Songs")
	os.MkdirAll(filepath.Join(proj, "vocals"), 0o755)
	for _, f := range []string{"vocals/take 1.wav", "vocals/take 2.wav", "drums/kick.wav", "notes.md"} {
		os.MkdirAll(filepath.Dir(filepath.Join(proj, f)), 0o755)
		os.WriteFile(filepath.Join(proj, f), []byte("RIFF"+f), 0o644)
	}
	d := "--data-dir=" + data
	if out, err := run(t, d, "project", "add", proj); err != nil {
		t.Fatalf("project add: %v\n%s", err, out)
	}
	out, err := run(t, d, "rate", "-p", "Songs", "5", "vocals/take 1.wav", "vocals/take 2.wav")
	if err != nil || !strings.Contains(out, "★★★★★") {
		t.Fatalf("rate: %v\n%s", err, out)
	}
	if out, err := run(t, d, "tag", "-p", "Songs", "--add", "vocals", "--add", "lead take", "--label", "red", "vocals/take 1.wav"); err != nil {
		t.Fatalf("tag: %v\n%s", err, out)
	}
	if m, err := xmp.Parse(must(os.ReadFile(filepath.Join(proj, "vocals", "take 1.wav.xmp")))); err != nil || m.Rating != 5 || m.Label != "Red" || len(m.Tags) != 2 {
		t.Fatalf("the sidecar holds %+v %v", m, err)
	}
	out, err = run(t, d, "find", "--json", "rating>=4", "tag:vocals")
	if err != nil {
		t.Fatalf("find: %v\n%s", err, out)
	}
	var page library.FindPage
	if err := json.Unmarshal([]byte(out), &page); err != nil || page.Total != 1 || page.Rows[0].Path != "vocals/take 1.wav" || page.Rows[0].Label != "Red" {
		t.Fatalf("find --json: %+v %v\n%s", page, err, out)
	}
	out, err = run(t, d, "find", "kind:audio", "--sort", "-name", "--limit", "2")
	if err != nil || !strings.Contains(out, "2 of 3 matching files") || strings.Index(out, "take 2.wav") > strings.Index(out, "take 1.wav") {
		t.Fatalf("find --sort -name --limit 2: %v\n%s", err, out)
	}
	if out, err := run(t, d, "collection", "save", "Keepers", "kind:audio", "rating>=4"); err != nil {
		t.Fatalf("collection save: %v\n%s", err, out)
	}
	out, err = run(t, d, "collection", "list")
	if err != nil || !strings.Contains(out, "Keepers") || !strings.Contains(out, "2 files") {
		t.Fatalf("collection list: %v\n%s", err, out)
	}
	out, err = run(t, d, "tag", "--list")
	if err != nil || !strings.Contains(out, "lead take") {
		t.Fatalf("tag --list: %v\n%s", err, out)
	}
	// sidecars kept out of the project
	outside := t.TempDir()
	if out, err := run(t, d, "sidecars", "-p", "Songs", "--folder", outside, "--naming", "base"); err != nil || !strings.Contains(out, outside) {
		t.Fatalf("sidecars --folder: %v\n%s", err, out)
	}
	if out, err := run(t, d, "rate", "-p", "Songs", "3", "drums/kick.wav"); err != nil {
		t.Fatalf("rate: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(outside, "drums", "kick.xmp")); err != nil {
		t.Errorf("the sidecar is not in the outside folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(proj, "drums", "kick.wav.xmp")); err == nil {
		t.Error("a sidecar was written in the project")
	}
	if out, err := run(t, d, "sidecars", "-p", "Songs", "--folder", filepath.Join(proj, "x")); err == nil || !strings.Contains(out, "inside the project") {
		t.Errorf("a sidecar folder inside the project: %v\n%s", err, out)
	}
	// mistakes are explained
	if out, err := run(t, d, "find", "ratng>3"); err == nil || !strings.Contains(out, `no field "ratng"`) {
		t.Errorf("find with a typo: %v\n%s", err, out)
	}
	if out, err := run(t, d, "rate", "-p", "Songs", "nine", "notes.md"); err == nil || !strings.Contains(out, "0 to 5") {
		t.Errorf("rate nine: %v\n%s", err, out)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
