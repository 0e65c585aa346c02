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
