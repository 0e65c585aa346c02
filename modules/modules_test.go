package modules

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"atelier/app/modules/sandbox"
	"atelier/app/modules/sandbox/sandboxtest"
	"atelier/modules/internal/studio"
	"atelier/modules/loudness-report/report"
	"atelier/modules/release-check/check"
	"atelier/signing/manifest"
	"atelier/signing/pack"
)

// writeWAV writes a 16-bit stereo sine of the given peak amplitude (1 = full
// scale; above 1 it clips).
func writeWAV(t testing.TB, p string, rate int, secs, amp float64) {
	t.Helper()
	n := int(float64(rate) * secs)
	data := make([]byte, 44+n*4)
	copy(data, "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+n*4))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1)
	binary.LittleEndian.PutUint16(data[22:], 2)
	binary.LittleEndian.PutUint32(data[24:], uint32(rate))
	binary.LittleEndian.PutUint32(data[28:], uint32(rate*4))
	binary.LittleEndian.PutUint16(data[32:], 4)
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(n*4))
	for i := 0; i < n; i++ {
		v := amp * math.Sin(2*math.Pi*997*float64(i)/float64(rate)) * 32767
		v = math.Max(-32768, math.Min(32767, math.Round(v)))
		s := uint16(int16(v))
		binary.LittleEndian.PutUint16(data[44+i*4:], s)
		binary.LittleEndian.PutUint16(data[46+i*4:], s)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writePNG(t testing.TB, p string, w, h int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.White)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// releaseProject is a release with problems planted: a clipping master, a
// master at another sample rate, and a cover too small.
func releaseProject(t testing.TB) string {
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "masters", "01-good.wav"), 44100, 3, 0.2) // ≈ -14 LUFS
	writeWAV(t, filepath.Join(dir, "masters", "02-clipped.wav"), 44100, 3, 1.4)
	writeWAV(t, filepath.Join(dir, "masters", "03-other-rate.wav"), 48000, 3, 0.2)
	writePNG(t, filepath.Join(dir, "cover.png"), 1000, 1000)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	stageOnce sync.Map // name -> staged dir
)

// staged builds the module's program for wasip1 (cached) and stages it like
// make modules does.
func staged(t testing.TB, name string) sandbox.Module {
	t.Helper()
	if d, ok := stageOnce.Load(name); ok {
		return moduleAt(t, d.(string))
	}
	src := filepath.Join(".", name)
	raw, _ := os.ReadFile(filepath.Join(src, manifest.FileName))
	m, err := manifest.Parse(raw, name)
	if err != nil {
		t.Fatal(err)
	}
	wasm := ""
	if m.Runs() {
		wasm = sandboxtest.Build(t, "./"+name)
	}
	dst := filepath.Join(os.TempDir(), "atelier-modules-test", name)
	os.RemoveAll(dst)
	if _, err := Stage(src, wasm, dst); err != nil {
		t.Fatal(err)
	}
	stageOnce.Store(name, dst)
	return moduleAt(t, dst)
}

func moduleAt(t testing.TB, dir string) sandbox.Module {
	m, _, err := pack.Scan(context.Background(), dir)
	if err != nil {
		t.Fatalf("staged module %s does not pack: %v", dir, err)
	}
	return sandbox.Module{Manifest: m, Dir: dir, Signer: "studio"}
}

var (
	runnerOnce sync.Once
	runner     *sandbox.Runner
)

func sharedRunner(t testing.TB) *sandbox.Runner {
	runnerOnce.Do(func() {
		r, err := sandbox.New(context.Background(), sandbox.Config{CacheDir: filepath.Join(os.TempDir(), "atelier-modules-test-cache")})
		if err != nil {
			t.Fatal(err)
		}
		runner = r
	})
	return runner
}

func TestManifestsValid(t *testing.T) {
	for _, name := range FirstParty {
		raw, err := os.ReadFile(filepath.Join(name, manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Parse(raw, name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Name, "@studio/") || m.Kind == "" {
			t.Errorf("%s: %s kind %q", name, m.Name, m.Kind)
		}
	}
}

func TestReleaseCheckInSandbox(t *testing.T) {
	proj := releaseProject(t)
	out := filepath.Join(t.TempDir(), "out")
	rec, err := sharedRunner(t).Run(context.Background(), staged(t, "release-check"), sandbox.Request{Project: proj, Output: out})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, rec.Report, rec.Log)
	}
	for _, want := range []string{
		"Release check: ",
		"FAIL clipping    masters/02-clipped.wav: ",
		"OK   clipping    masters/01-good.wav",
		"OK   loudness    masters/01-good.wav: -14.0 LUFS",
		"FAIL sample-rate masters differ: 44100 Hz: masters/01-good.wav, masters/02-clipped.wav; 48000 Hz: masters/03-other-rate.wav",
		"FAIL cover       cover.png: 1000 × 1000, below 3000 × 3000",
	} {
		if !strings.Contains(rec.Report, want) {
			t.Errorf("report lacks %q:\n%s", want, rec.Report)
		}
	}
	if len(rec.Files) != 1 || rec.Files[0].Path != "release-check.json" {
		t.Fatalf("files %+v", rec.Files)
	}
	var rep check.Report
	b, _ := os.ReadFile(filepath.Join(out, "release-check.json"))
	if err := json.Unmarshal(b, &rep); err != nil || rep.Problems < 3 || len(rep.Masters) != 3 || rep.Cover != "cover.png" {
		t.Fatalf("release-check.json: %v %+v", err, rep)
	}
	if strings.Join(rec.Used, ",") != "module:write,project:read" {
		t.Errorf("used %v", rec.Used)
	}

	// A ready release passes: one rate, no clipping, a big enough cover.
	ok := t.TempDir()
	writeWAV(t, filepath.Join(ok, "a.wav"), 48000, 2, 0.2)
	writeWAV(t, filepath.Join(ok, "b.wav"), 48000, 2, 0.2)
	writePNG(t, filepath.Join(ok, "cover.png"), 3000, 3000)
	rec, err = sharedRunner(t).Run(context.Background(), staged(t, "release-check"), sandbox.Request{Project: ok})
	if err != nil || !strings.HasPrefix(rec.Report, "Release check: ready (2 masters)") {
		t.Fatalf("%v\n%s", err, rec.Report)
	}
}

func TestLoudnessReportInSandbox(t *testing.T) {
	proj := releaseProject(t)
	out := filepath.Join(t.TempDir(), "out")
	rec, err := sharedRunner(t).Run(context.Background(), staged(t, "loudness-report"), sandbox.Request{Project: proj, Output: out})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	if !strings.Contains(rec.Report, "3 audio files measured (1 clipped, 0 unreadable)") {
		t.Errorf("summary %q", rec.Report)
	}
	if len(rec.Files) != 2 || rec.Files[0].Path != "loudness.csv" || rec.Files[1].Path != "loudness.html" {
		t.Fatalf("files %+v", rec.Files)
	}
	b, _ := os.ReadFile(filepath.Join(out, "loudness.csv"))
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(report.Header, ",") {
		t.Fatalf("csv %v:\n%s", err, b)
	}
	good := rows[1]
	if good[0] != "masters/01-good.wav" || good[2] != "44100" {
		t.Fatalf("row %v", good)
	}
	if lufs, _ := strconv.ParseFloat(good[5], 64); math.Abs(lufs+14) > 0.3 {
		t.Errorf("01-good.wav measured %s LUFS, want ≈ -14", good[5])
	}
	if clipped, _ := strconv.Atoi(rows[2][9]); clipped == 0 {
		t.Errorf("02-clipped.wav: no clipped samples counted: %v", rows[2])
	}
	html, _ := os.ReadFile(filepath.Join(out, "loudness.html"))
	if !strings.Contains(string(html), `<tr class="bad"><td>masters/02-clipped.wav</td>`) {
		t.Errorf("html does not mark the clipped file:\n%s", html)
	}

	// The sandboxed report is byte for byte what the same code computes natively.
	native, err := report.Run(context.Background(), studio.Env{Project: proj})
	if err != nil {
		t.Fatal(err)
	}
	if string(native.CSV()) != string(b) {
		t.Errorf("sandboxed CSV differs from native:\n%s\nnative:\n%s", b, native.CSV())
	}

	// A selection measures only the selected files.
	rec, err = sharedRunner(t).Run(context.Background(), staged(t, "loudness-report"), sandbox.Request{Project: proj, Paths: []string{"masters/01-good.wav"}})
	if err != nil || strings.Count(rec.Report, ".wav") != 1 || !strings.Contains(rec.Report, "masters/01-good.wav") {
		t.Errorf("selection: %v\n%s", err, rec.Report)
	}
}

func TestPodcastTemplate(t *testing.T) {
	m := staged(t, "podcast-episode")
	dest := filepath.Join(t.TempDir(), "Episode 12")
	files, err := sandbox.ApplyTemplate(context.Background(), m, dest)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 {
		t.Errorf("files %v", files)
	}
	b, err := os.ReadFile(filepath.Join(dest, "README.md"))
	if err != nil || !strings.HasPrefix(string(b), "# Episode 12\n") || strings.Contains(string(b), "{{") {
		t.Errorf("README.md: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dest, "03-master", "README.md")); err != nil {
		t.Error(err)
	}
	if _, err := sandbox.ApplyTemplate(context.Background(), m, dest); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a template over an existing project: %v", err)
	}
	if _, err := sandbox.ApplyTemplate(context.Background(), staged(t, "release-check"), t.TempDir()); err == nil {
		t.Errorf("an action applied as a template")
	}
}

// The listening panel reads only the rollups it is given and prints a chart
// spec the Privacy dashboard accepts: the audience when there is one, else
// the app's usage.
func TestListeningPanelInSandbox(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dashboard.json"), []byte(`{"from":"2026-11-01","to":"2026-11-30","metrics":[{"name":"app.opened","value":3},{"name":"file.played","value":9}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "audience.json"), []byte(`{"from":"2026-11-01","to":"2026-11-30","metrics":[]}`), 0o644)
	m := staged(t, "listening-panel")
	rec, err := sharedRunner(t).Run(context.Background(), m, sandbox.Request{Rollups: dir, Project: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.Log)
	}
	var c struct {
		Type   string    `json:"type"`
		Title  string    `json:"title"`
		Labels []string  `json:"labels"`
		Values []float64 `json:"values"`
	}
	if err := json.Unmarshal([]byte(rec.Report), &c); err != nil {
		t.Fatalf("%v: %q", err, rec.Report)
	}
	if c.Type != "bar" || strings.Join(c.Labels, ",") != "file.played,app.opened" || c.Values[0] != 9 || !strings.HasPrefix(c.Title, "Usage, 2026-11-01") {
		t.Errorf("chart %+v", c)
	}
	if strings.Join(rec.Used, ",") != manifest.PermAnalyticsRead {
		t.Errorf("used %v (a panel sees no project)", rec.Used)
	}
	os.WriteFile(filepath.Join(dir, "audience.json"), []byte(`{"from":"a","to":"b","metrics":[{"name":"plays","value":120}]}`), 0o644)
	rec, err = sharedRunner(t).Run(context.Background(), m, sandbox.Request{Rollups: dir})
	if err != nil || !strings.Contains(rec.Report, `"labels":["plays"]`) {
		t.Errorf("audience chart: %v %s", err, rec.Report)
	}
}
