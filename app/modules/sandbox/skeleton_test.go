package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/modules/sandbox/sandboxtest"
	"atelier/signing/manifest"
)

func writeSkeleton(t *testing.T, kind string) (string, manifest.Manifest) {
	t.Helper()
	files, err := Skeleton(kind, "@me/first-"+kind, "0.1.0", "MIT", "Me")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "first-"+kind)
	for p, b := range files {
		mustWrite(t, filepath.Join(dir, filepath.FromSlash(p)), string(b))
	}
	raw, _ := os.ReadFile(filepath.Join(dir, manifest.FileName))
	m, err := manifest.Parse(raw, "skeleton")
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// The action skeleton builds and runs under the sandbox as written.
func TestSkeletonActionRuns(t *testing.T) {
	dir, m := writeSkeleton(t, manifest.KindAction)
	sandboxtest.Install(t, sandboxtest.Build(t, dir), dir, m.Program())
	w := newWorld(t)
	rec, err := runner(t).Run(context.Background(), Module{Manifest: m, Dir: dir}, Request{Project: w.project, Output: w.output})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	if !strings.HasPrefix(rec.Report, "4 files, ") || len(rec.Files) != 1 || rec.Files[0].Path != "summary.txt" {
		t.Fatalf("report %q files %+v", rec.Report, rec.Files)
	}
}

// The panel skeleton reads only its rollups and prints a chart spec.
func TestSkeletonPanelRuns(t *testing.T) {
	dir, m := writeSkeleton(t, manifest.KindPanel)
	sandboxtest.Install(t, sandboxtest.Build(t, dir), dir, m.Program())
	rollups := t.TempDir()
	mustWrite(t, filepath.Join(rollups, "daily.json"), `{"plays":3}`)
	w := newWorld(t)
	rec, err := runner(t).Run(context.Background(), Module{Manifest: m, Dir: dir}, Request{Project: w.project, Rollups: rollups})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	var chart struct {
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal([]byte(rec.Report), &chart); err != nil || len(chart.Labels) != 1 || chart.Labels[0] != "daily.json" {
		t.Fatalf("chart %q: %v", rec.Report, err)
	}
	if strings.Join(rec.Used, ",") != "analytics:rollups" {
		t.Errorf("used %v", rec.Used)
	}
}

func TestSkeletonKinds(t *testing.T) {
	for _, k := range manifest.KindNames() {
		if _, err := Skeleton(k, "@me/x", "0.1.0", "MIT", ""); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if _, err := Skeleton("plugin", "@me/x", "0.1.0", "MIT", ""); err == nil {
		t.Error("unknown kind accepted")
	}
}
