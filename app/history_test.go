package app

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"atelier/app/history"
	"atelier/internal/testwait"
)

// TestHistoryVersionsOnSaveWithoutConsent: in a running engine, saving a
// file of a watched project makes versions in local history with no
// consent granted (nothing leaves the machine); the History service lists
// them, restores one in place and keeps what it replaced.
func TestHistoryVersionsOnSaveWithoutConsent(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Album")
	os.MkdirAll(proj, 0o755)
	e, err := Open(DirsUnder(filepath.Join(root, "home")), Options{Background: true, HistorySettle: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.privacyCtl.Granted("sync.cloud") {
		t.Fatal("the test needs sync.cloud not granted")
	}
	ps, err := e.Projects.Add(proj)
	if err != nil {
		t.Fatal(err)
	}
	mix := filepath.Join(proj, "mix.wav")
	waitVersions := func(n int) []history.Version {
		t.Helper()
		var vs []history.Version
		testwait.Until(t, 30*time.Second, 100*time.Millisecond, func() error {
			var err error
			if vs, err = e.History.Versions(ps.Name, "mix.wav"); err != nil {
				t.Fatal(err)
			}
			if len(vs) < n {
				return fmt.Errorf("%d versions of mix.wav, want %d", len(vs), n)
			}
			return nil
		})
		return vs
	}
	os.WriteFile(mix, []byte("first take"), 0o644)
	waitVersions(1)
	os.WriteFile(mix, []byte("second take, longer"), 0o644)
	vs := waitVersions(2)
	res, err := e.History.Restore(context.Background(), history.RestoreRequest{Project: ps.Name, Path: "mix.wav", At: strconv.FormatInt(vs[1].Seq, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(mix); string(b) != "first take" || res.Before == 0 {
		t.Fatalf("restored %q, %+v", b, res)
	}
	tl, err := e.History.Timeline(ps.Name)
	if err != nil || len(tl) < 2 {
		t.Fatalf("timeline: %+v %v", tl, err)
	}
}

// TestHistoryFactsFromTheLibrary: the History service answers a version's
// duration, loudness and waveform from what the Library rendered of that
// content (wired through history.Config.Previews), and a diff between two
// versions of a WAV carries both loudness figures and their delta.
func TestHistoryFactsFromTheLibrary(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Album")
	os.MkdirAll(proj, 0o755)
	// 8-bit mono PCM at 8 kHz: a tone, then the same tone quieter.
	wav := func(amp float64) []byte {
		const rate, n = 8000, 16000
		b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00data")
		b = binary.LittleEndian.AppendUint32(b, n)
		for i := range n {
			b = append(b, byte(128+amp*math.Sin(2*math.Pi*440*float64(i)/rate)))
		}
		binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
		return b
	}
	e, err := Open(DirsUnder(filepath.Join(root, "home")), Options{Background: true, HistorySettle: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ps, err := e.Projects.Add(proj)
	if err != nil {
		t.Fatal(err)
	}
	mix := filepath.Join(proj, "mix.wav")
	// waitFacts waits for n versions and the Library's facts of the newest.
	waitFacts := func(n int) ([]history.Version, history.ContentFacts) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			vs, err := e.History.Versions(ps.Name, "mix.wav")
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) >= n {
				f, err := e.History.Facts("mix.wav", []string{vs[0].SHA256})
				if err != nil {
					t.Fatal(err)
				}
				if c, ok := f[vs[0].SHA256]; ok {
					return vs, c
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 60 s: %d versions of mix.wav (want %d) and no preview facts of the newest", len(vs), n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	os.WriteFile(mix, wav(100), 0o644)
	_, loud := waitFacts(1)
	if loud.Duration < 1.9 || loud.Duration > 2.1 || loud.LUFS == nil || loud.Waveform == "" {
		t.Fatalf("facts of the first version: %+v, want 2 s, a loudness and a waveform", loud)
	}
	if _, err := os.Stat(loud.Waveform); err != nil {
		t.Fatalf("the waveform of the first version: %v", err)
	}
	os.WriteFile(mix, wav(25), 0o644)
	vs, quiet := waitFacts(2)
	if quiet.LUFS == nil || *quiet.LUFS >= *loud.LUFS-6 {
		t.Fatalf("a quarter of the amplitude: %v LUFS after %v, want about 12 LU less", quiet.LUFS, *loud.LUFS)
	}
	d, err := e.History.Diff(context.Background(), ps.Name, strconv.FormatInt(vs[1].Seq, 10), strconv.FormatInt(vs[0].Seq, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Entries) != 1 || d.Entries[0].LUFSDelta == nil || math.Abs(*d.Entries[0].LUFSDelta-(*quiet.LUFS-*loud.LUFS)) > 0.11 {
		t.Fatalf("diff: %+v, want mix.wav with a loudness delta of %.1f", d.Entries, *quiet.LUFS-*loud.LUFS)
	}
}
