package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
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

	"atelier/app/api"
	"atelier/app/client"
	"atelier/app/index"

	"atelier/app/projects"
	syncsvc "atelier/app/sync"

	"atelier/app"
)

// The CLI talks to a running engine through its socket: a project added by
// the CLI appears in the engine, and status reports the engine as running.
func TestCLIAgainstRunningEngine(t *testing.T) {
	data := t.TempDir()
	gopts := &globalOptions{dataDir: data}
	e, err := app.Open(app.DataDirFlag(data), app.Options{Background: true, Serve: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !engineRunning(gopts) {
		t.Fatal("engineRunning() is false with an engine serving")
	}
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "a.wav"), []byte("RIFF"), 0o644)
	ctx := context.Background()
	var p projects.ProjectSummary
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(ctx, proj); return }); err != nil {
		t.Fatal(err)
	}
	// The engine itself knows the project: the call went through its socket.
	ps, err := e.Projects.List()
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("engine projects %v %v", ps, err)
	}
	var st projects.Status
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { st, err = cl.Projects.Status(ctx); return }); err != nil || !st.Running {
		t.Fatalf("status %+v %v", st, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var files []index.FileRecord
		if err := do(ctx, gopts, func(cl *client.Client) (err error) {
			files, err = cl.Projects.Files(ctx, string(p.ID), "audio")
			return
		}); err != nil {
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
	d, err := dirs(gopts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := api.Dial(app.SocketPath(d)) // the typed client cannot name a method that does not exist
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Call(ctx, "Projects.Nope", nil); err == nil {
		t.Fatal("unknown method accepted")
	}
}

// Without an engine the CLI opens the data dir itself for one call.
func TestCLIWithoutEngine(t *testing.T) {
	gopts := &globalOptions{dataDir: t.TempDir()}
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "cover.png"), []byte("png"), 0o644)
	var p projects.ProjectSummary
	if err := do(context.Background(), gopts, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(context.Background(), proj); return }); err != nil {
		t.Fatal(err)
	}
	if p.Files != 1 {
		t.Fatalf("indexed %d files", p.Files)
	}
	var st projects.Status
	if err := do(context.Background(), gopts, func(cl *client.Client) (err error) { st, err = cl.Projects.Status(context.Background()); return }); err != nil || st.Running || st.Files != 1 {
		t.Fatalf("status %+v %v", st, err)
	}
}

// `atelier remote limit` changes the limit of the built-in remote, and
// refuses what is not a number.
func TestCLIRemoteLimit(t *testing.T) {
	data := t.TempDir()
	gopts := &globalOptions{dataDir: data}
	run := cliIn(data)
	if err := run("remote", "limit", "local", "200"); err != nil {
		t.Fatal(err)
	}
	var rs []syncsvc.Remote
	if err := do(context.Background(), gopts, func(cl *client.Client) (err error) { rs, err = cl.Sync.RemoteList(context.Background()); return }); err != nil {
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
	root := newRootCommand(&globalOptions{})
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

// The README's `atelier sync rules PROJECT --enable --remote NAME` selects
// remote NAME for the project (it used to be the "remote to unlock" flag,
// silently ignored), and a flag a command does not take is an error.
func TestCLISyncRulesRemote(t *testing.T) {
	data := t.TempDir()
	gopts := &globalOptions{dataDir: data}
	run := cliIn(data)
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "take1.wav"), []byte("RIFF"), 0o644)
	var p projects.ProjectSummary
	if err := do(context.Background(), gopts, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(context.Background(), proj); return }); err != nil {
		t.Fatal(err)
	}
	if err := run("remote", "add", "studio", "file://"+t.TempDir(), "--kind", "mirror"); err != nil {
		t.Fatal(err)
	}
	if err := run("sync", "rules", string(p.ID), "--enable", "--remote", "studio", "--exclude", "renders/"); err != nil {
		t.Fatal(err)
	}
	var r syncsvc.SyncRules
	if err := do(context.Background(), gopts, func(cl *client.Client) (err error) {
		r, err = cl.Sync.Rules(context.Background(), string(p.ID))
		return
	}); err != nil {
		t.Fatal(err)
	}
	if r.Remote != "studio" || !r.Enabled || len(r.Exclude) != 1 {
		t.Fatalf("rules after --enable --remote studio: %+v", r)
	}
	// The old spelling still works; both at once is refused.
	if err := run("sync", "rules", string(p.ID), "--to", "local"); err != nil {
		t.Fatal(err)
	}
	do(context.Background(), gopts, func(cl *client.Client) (err error) {
		r, err = cl.Sync.Rules(context.Background(), string(p.ID))
		return
	})
	if r.Remote != "local" {
		t.Fatalf("--to local: %+v", r)
	}
	if err := run("sync", "rules", string(p.ID), "--to", "local", "--remote", "studio"); err == nil {
		t.Fatal("--to and --remote together were accepted")
	}
	if err := run("sync", "rules", string(p.ID), "--remote", "nowhere"); err == nil {
		t.Fatal("an unknown remote was accepted")
	}
	// Flags that do not apply are refused, not ignored.
	for _, args := range [][]string{
		{"sync", "status", "--remote", "studio"},
		{"sync", "status", "--passphrase-file", "/nonexistent"},
		{"sync", "rules", string(p.ID), "--passphrase-file", "/nonexistent"},
		{"sync", "conflicts", "--remote", "studio"},
		{"sync", "run", "--remote", "studio"},
	} {
		err := run(args...)
		if err == nil || !strings.Contains(err.Error(), "unknown flag") {
			t.Errorf("%v: %v, want an unknown-flag error", args, err)
		}
	}
	if err := run("sync", "verify", "--repair"); err == nil || !strings.Contains(err.Error(), "PROJECT") {
		t.Errorf("verify --repair without a project: %v", err)
	}
}

// `atelier sync verify PROJECT --repair` heals a pack lost from the remote:
// verify fails (exit 3), repair uploads the data again from the project's
// files, and verify is clean after.
func TestCLISyncVerifyRepair(t *testing.T) {
	data := t.TempDir()
	t.Setenv("ATELIER_VAULT_PASSPHRASE", "")
	run := cliIn(data)
	proj := filepath.Join(t.TempDir(), "ep")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "take1.wav"), []byte(strings.Repeat("take one ", 5000)), 0o644)
	pass := filepath.Join(t.TempDir(), "pass.txt")
	os.WriteFile(pass, []byte("a passphrase for the test\n"), 0o600)
	remoteDir := t.TempDir()
	for _, args := range [][]string{
		{"consent", "grant", "sync.cloud"},
		{"project", "add", proj},
		{"remote", "add", "studio", "file://" + remoteDir},
		{"sync", "rules", "ep", "--enable", "--remote", "studio"},
		{"sync", "run", "ep", "--passphrase-file", pass},
		{"sync", "verify", "ep", "--passphrase-file", pass},
	} {
		if err := run(args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(remoteDir, "data", "*", "*"))
	if len(packs) == 0 {
		t.Fatal("nothing was pushed to the remote")
	}
	for _, p := range packs {
		os.Remove(p)
	}
	var ee exitError
	if err := run("sync", "verify", "ep", "--passphrase-file", pass); !errors.As(err, &ee) || ee.code != 3 || !strings.Contains(err.Error(), "--repair") {
		t.Fatalf("verify with the pack gone: %v", err)
	}
	if err := run("sync", "verify", "ep", "--repair", "--passphrase-file", pass); err != nil {
		t.Fatalf("repair: %v", err)
	}
	if err := run("sync", "verify", "ep", "--passphrase-file", pass); err != nil {
		t.Fatalf("verify after repair: %v", err)
	}
}

// cliIn returns a runner of `atelier --data-dir DATA ARGS...` on a fresh root
// each time, its help and usage output discarded.
func cliIn(data string) func(args ...string) error {
	return func(args ...string) error {
		root := newRootCommand(&globalOptions{})
		root.SetArgs(append([]string{"--data-dir", data}, args...))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		return root.ExecuteContext(context.Background())
	}
}
