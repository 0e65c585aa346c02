package history

import (
	"errors"
	"testing"

	"atelier/app/apierr"
)

type fakePreviews map[string]ContentFacts

func (f fakePreviews) PreviewFacts(path, sha string) (float64, *float64, string, bool) {
	c, ok := f[path+"@"+sha]
	return c.Duration, c.LUFS, c.Waveform, ok
}

// TestFactsByHash: a version's duration, loudness and waveform come from
// what the Library rendered of that content; contents it never rendered
// are left out, and an absurd request is refused as bad input.
func TestFactsByHash(t *testing.T) {
	lufs := -14.2
	s := &Service{pv: fakePreviews{"mix.wav@aa": {Duration: 12.5, LUFS: &lufs, Waveform: "/cache/aa.png"}}}
	got, err := s.Facts("mix.wav", []string{"aa", "bb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["aa"].Duration != 12.5 || *got["aa"].LUFS != -14.2 || got["aa"].Waveform != "/cache/aa.png" {
		t.Fatalf("facts = %+v, want only aa with its duration, loudness and waveform", got)
	}
	if got, err := (&Service{}).Facts("mix.wav", []string{"aa"}); err != nil || len(got) != 0 {
		t.Fatalf("without a Library: %v, %v; want nothing known", got, err)
	}
	if _, err := s.Facts("mix.wav", make([]string, 10001)); !errors.Is(err, apierr.InvalidInput) {
		t.Fatalf("10,001 hashes: %v, want an invalid-input refusal", err)
	}
}

// TestDiffLoudness: a changed audio file's diff entry carries both
// loudness figures and their delta; a side the Library never measured
// leaves the delta out; a rename reads the old loudness under its old name.
func TestDiffLoudness(t *testing.T) {
	a, b := -16.0, -14.2
	s := &Service{pv: fakePreviews{"mix.wav@aa": {LUFS: &a}, "mix.wav@bb": {LUFS: &b}, "old.wav@aa": {LUFS: &a}, "new.wav@aa": {LUFS: &a}}}
	es := []DiffEntry{
		{Path: "mix.wav", Status: "changed", OldSHA256: "aa", NewSHA256: "bb"},
		{Path: "mix.wav", Status: "changed", OldSHA256: "aa", NewSHA256: "cc"},
		{Path: "new.wav", From: "old.wav", Status: "renamed", OldSHA256: "aa", NewSHA256: "aa"},
		{Path: "notes.md", Status: "added", NewSHA256: "dd"},
	}
	s.loudness(es)
	if es[0].LUFSDelta == nil || *es[0].LUFSDelta != 1.8 || *es[0].OldLUFS != -16 || *es[0].NewLUFS != -14.2 {
		t.Fatalf("changed: %+v, want -16 -> -14.2 (+1.8)", es[0])
	}
	if es[1].LUFSDelta != nil || es[1].NewLUFS != nil || es[1].OldLUFS == nil {
		t.Fatalf("unmeasured side: %+v, want the old figure only and no delta", es[1])
	}
	if es[2].LUFSDelta == nil || *es[2].LUFSDelta != 0 {
		t.Fatalf("rename: %+v, want a 0 delta", es[2])
	}
	if es[3].OldLUFS != nil || es[3].NewLUFS != nil || es[3].LUFSDelta != nil {
		t.Fatalf("added text file: %+v, want no loudness", es[3])
	}
}
