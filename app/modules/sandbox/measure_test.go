package sandbox

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/app/modules/sandbox/sandboxtest"
	"atelier/signing/manifest"
)

// writeTone writes a short 16-bit mono WAV at half scale.
func writeTone(t *testing.T, p string) {
	t.Helper()
	const rate, n = 8000, 8000
	data := make([]byte, 44+2*n)
	copy(data, "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1)
	binary.LittleEndian.PutUint16(data[22:], 1)
	binary.LittleEndian.PutUint32(data[24:], rate)
	binary.LittleEndian.PutUint32(data[28:], 2*rate)
	binary.LittleEndian.PutUint16(data[32:], 2)
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], 2*n)
	for i := 0; i < n; i++ {
		v := int16(16384)
		if i%2 == 1 {
			v = -16384
		}
		binary.LittleEndian.PutUint16(data[44+2*i:], uint16(v))
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func measureModule(t *testing.T, perms ...string) Module {
	t.Helper()
	wasm := sandboxtest.Build(t, "./testdata/measure")
	dir := t.TempDir()
	sandboxtest.Install(t, wasm, dir, manifest.DefaultMain)
	return Module{Manifest: manifest.Manifest{Name: "@test/measure", Version: "1.0.0", Kind: manifest.KindAction, License: "MIT", Permissions: append([]string{manifest.PermScriptRun}, perms...)}, Dir: dir}
}

// TestMeasureHost: a module granted project:read gets Atelier's native
// measurement of a project file, and nothing of a file it cannot see.
func TestMeasureHost(t *testing.T) {
	w := newWorld(t)
	writeTone(t, filepath.Join(w.project, "take.wav"))
	writeTone(t, filepath.Join(w.base, "outside.wav"))
	if err := os.Symlink(filepath.Join(w.base, "outside.wav"), filepath.Join(w.project, "link.wav")); err != nil {
		t.Fatal(err)
	}
	m := measureModule(t, manifest.PermProjectRead)
	rec, err := runner(t).Run(context.Background(), m, Request{Project: w.project, Args: []string{
		"/project/take.wav", "/project/link.wav", "/project/../outside.wav", "/etc/passwd", "/project/song.txt", "take.wav",
	}})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, rec.Report, rec.Log)
	}
	for _, want := range []string{
		"MEASURED /project/take.wav: wav 8000 Hz 1 ch peak -6.0 dBFS",
		"REFUSED /project/link.wav: code 1",
		"REFUSED /project/../outside.wav: code 1",
		"REFUSED /etc/passwd: code 1",
		"ERROR /project/song.txt: song.txt",
		"REFUSED take.wav: code 1",
	} {
		if !strings.Contains(rec.Report, want) {
			t.Errorf("missing %q in\n%s", want, rec.Report)
		}
	}
	denied := strings.Join(rec.Denied, "\n")
	for _, want := range []string{"measure /project/link.wav: it leads outside /project", "measure /etc/passwd: only files under /project"} {
		if !strings.Contains(denied, want) {
			t.Errorf("record's denied list lacks %q:\n%s", want, denied)
		}
	}
	if strings.Join(rec.Used, ",") != manifest.PermProjectRead {
		t.Errorf("used %v", rec.Used)
	}

	// A selection: only the selected file can be measured.
	rec, err = runner(t).Run(context.Background(), m, Request{Project: w.project, Paths: []string{"song.txt"}, Args: []string{"/project/take.wav"}})
	if err != nil || !strings.Contains(rec.Report, "REFUSED /project/take.wav") {
		t.Errorf("an unselected file was measured: %v\n%s", err, rec.Report)
	}
}

// TestMeasureNeedsProjectRead: a module importing measure without
// project:read does not start.
func TestMeasureNeedsProjectRead(t *testing.T) {
	w := newWorld(t)
	m := measureModule(t, manifest.PermModuleWrite)
	rec, err := runner(t).Run(context.Background(), m, Request{Project: w.project, Output: w.output, Args: []string{"/project/song.txt"}})
	if err == nil || rec.Outcome != OutcomeRefused || !strings.Contains(rec.Message, "atelier.measure") || !strings.Contains(rec.Message, "project:read") {
		t.Fatalf("a module measuring without project:read ran: %+v", rec)
	}
	// Declared but not granted by the creator: the same.
	m = measureModule(t, manifest.PermProjectRead)
	m.Granted = []string{manifest.PermScriptRun}
	if rec, err = runner(t).Run(context.Background(), m, Request{Project: w.project}); err == nil || rec.Outcome != OutcomeRefused {
		t.Fatalf("measure with project:read declared but not granted: %+v", rec)
	}
}

func TestNameErrors(t *testing.T) {
	for in, want := range map[string]string{
		"open /proc/self/fd/7: no such file":       "open a/b.wav: no such file",
		"decode 7: unexpected EOF in 7 blocks":     "decode a/b.wav: unexpected EOF in 7 blocks",
		"7 is empty (0 bytes): nothing to preview": "a/b.wav is empty (0 bytes): nothing to preview",
		"bad data at 17":                           "bad data at 17",
	} {
		if got := nameErrors(in, "/proc/self/fd/7", "a/b.wav"); got != want {
			t.Errorf("nameErrors(%q) = %q, want %q", in, got, want)
		}
	}
}
