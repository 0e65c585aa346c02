package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/app"
)

// The CLI talks to a running engine through its socket: a project added by
// the CLI appears in the engine, and status reports the engine as running.
func TestCLIAgainstRunningEngine(t *testing.T) {
	data := t.TempDir()
	flags.dataDir = data
	defer func() { flags.dataDir = "" }()
	e, err := app.Open(app.DataDirFlag(data), app.Options{Background: true, Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !engineRunning() {
		t.Fatal("engineRunning() is false with an engine serving")
	}
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "a.wav"), []byte("RIFF"), 0o644)
	ctx := context.Background()
	var p app.ProjectSummary
	if err := call(ctx, "Projects.Add", &p, proj); err != nil {
		t.Fatal(err)
	}
	// The engine itself knows the project: the call went through its socket.
	ps, err := e.Projects.List()
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("engine projects %v %v", ps, err)
	}
	var st app.Status
	if err := call(ctx, "Projects.Status", &st); err != nil || !st.Running {
		t.Fatalf("status %+v %v", st, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var files []map[string]any
		if err := call(ctx, "Projects.Files", &files, string(p.ID), "audio"); err != nil {
			t.Fatal(err)
		}
		if len(files) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a.wav never indexed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := call(ctx, "Projects.Nope", nil); err == nil {
		t.Fatal("unknown method accepted")
	}
}

// Without an engine the CLI opens the data dir itself for one call.
func TestCLIWithoutEngine(t *testing.T) {
	flags.dataDir = t.TempDir()
	defer func() { flags.dataDir = "" }()
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "cover.png"), []byte("png"), 0o644)
	var p app.ProjectSummary
	if err := call(context.Background(), "Projects.Add", &p, proj); err != nil {
		t.Fatal(err)
	}
	if p.Files != 1 {
		t.Fatalf("indexed %d files", p.Files)
	}
	var st app.Status
	if err := call(context.Background(), "Projects.Status", &st); err != nil || st.Running || st.Files != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
}

// `atelier remote limit` changes the limit of the built-in remote, and
// refuses what is not a number.
func TestCLIRemoteLimit(t *testing.T) {
	flags.dataDir = t.TempDir()
	defer func() { flags.dataDir = "" }()
	run := func(args ...string) error {
		root := rootCmd()
		root.SetArgs(append([]string{"--data-dir", flags.dataDir}, args...))
		root.SetOut(io.Discard)
		return root.ExecuteContext(context.Background())
	}
	if err := run("remote", "limit", "local", "200"); err != nil {
		t.Fatal(err)
	}
	var rs []app.Remote
	if err := call(context.Background(), "Sync.RemoteList", &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 || rs[0].Name != "local" || rs[0].BandwidthKBps != 200 {
		t.Fatalf("remotes after the limit: %+v", rs)
	}
	if err := run("remote", "limit", "local", "fast"); err == nil {
		t.Fatal("a limit of \"fast\" was accepted")
	}
}

// runCLI runs the command line in-process and returns what it printed.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err = root.ExecuteContext(context.Background())
	os.Stdout = stdout
	w.Close()
	return string(<-done), err
}

// `atelier preview IMAGE -o NAME`: the output's extension chooses the
// thumbnail's format (issue 11, item 16: photo.jpg -o thumb.png was refused).
func TestCLIPreviewOutputExtensionChoosesFormat(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.jpg")
	logo := filepath.Join(dir, "logo.png")
	opaque := image.NewRGBA(image.Rect(0, 0, 64, 48))
	clear := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for i := range opaque.Pix {
		opaque.Pix[i] = 200
		clear.Pix[i] = uint8(i)
	}
	var jb, pb bytes.Buffer
	if err := jpeg.Encode(&jb, opaque, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pb, clear); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(photo, jb.Bytes(), 0o644)
	os.WriteFile(logo, pb.Bytes(), 0o644)
	for _, c := range []struct{ in, out, format string }{
		{photo, "thumb.png", "png"},
		{photo, "thumb.jpg", "jpeg"},
		{photo, "thumb.JPEG", "jpeg"},
		{logo, "logo-thumb.jpg", "jpeg"},
		{logo, "logo-thumb.png", "png"},
	} {
		out := filepath.Join(dir, c.out)
		if _, err := runCLI(t, "preview", c.in, "-o", out); err != nil {
			t.Fatalf("preview %s -o %s: %v", filepath.Base(c.in), c.out, err)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		m, format, err := image.Decode(f)
		f.Close()
		if err != nil || format != c.format || m.Bounds().Dx() != 64 {
			t.Fatalf("%s: %s %v", c.out, format, err)
		}
	}
	if _, err := runCLI(t, "preview", photo, "-o", filepath.Join(dir, "thumb.webp")); err == nil || !strings.Contains(err.Error(), "WebP output is not supported: use .jpg or .png") {
		t.Fatalf("webp: %v", err)
	}
	if _, err := runCLI(t, "preview", photo, "-o", filepath.Join(dir, "thumb.gif")); err == nil || !strings.Contains(err.Error(), ".jpg") {
		t.Fatalf("gif: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "thumb.gif")); err == nil {
		t.Fatal("a refused output was written")
	}
}

// `atelier preview noise.wav --json` of random 8-bit samples at 1 kHz: the
// loudness is "not measurable", never NaN, and the JSON encodes (issue 11,
// item 13: json: unsupported value: NaN).
func TestCLIPreviewUnmeasurableLoudness(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 20000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(1000), uint32(1000), uint16(1), uint16(8)} {
		le(v)
	}
	b.WriteString("data")
	le(uint32(len(data)))
	b.Write(data)
	f := filepath.Join(t.TempDir(), "noise.wav")
	os.WriteFile(f, b.Bytes(), 0o644)
	out, err := runCLI(t, "preview", f, "--json")
	if err != nil {
		t.Fatalf("preview --json: %v", err)
	}
	var rep struct {
		Loudness struct {
			Integrated    float64 `json:"integrated"`
			NotMeasurable string  `json:"notMeasurable"`
			Targets       []struct {
				Verdict string `json:"verdict"`
			} `json:"targets"`
		} `json:"loudness"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Loudness.NotMeasurable == "" || len(rep.Loudness.Targets) == 0 || rep.Loudness.Targets[0].Verdict != "not measurable" {
		t.Fatalf("loudness %+v", rep.Loudness)
	}
	if _, err := runCLI(t, "preview", f); err != nil {
		t.Fatalf("preview: %v", err)
	}
}
