package rules

import "testing"

func TestMatch(t *testing.T) {
	m := MustCompile(Rules{Include: []string{"mixes/", "*.wav", "!scratch.wav"}, Exclude: []string{"renders/", "*.tmp"}, Kinds: []string{"audio", "document"}, MaxSize: 1000})
	for _, c := range []struct {
		path, kind string
		size       int64
		want       bool
	}{
		{"mixes/final.wav", "audio", 10, true},
		{"mixes/notes.txt", "document", 10, true},
		{"take.wav", "audio", 10, true},
		{"scratch.wav", "audio", 10, false},
		{"renders/final.wav", "audio", 10, false},
		{"mixes/x.tmp", "other", 10, false},
		{"mixes/cover.png", "image", 10, false},
		{"mixes/huge.wav", "audio", 5000, false},
		{"video.mov", "video", 10, false},
	} {
		if got := m.Match(c.path, c.kind, c.size); got != c.want {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
	}
	if !MustCompile(Rules{}).Match("anything/at/all.bin", "other", 1<<40) {
		t.Error("empty rules must select everything")
	}
	if _, err := Compile(Rules{MinSize: 10, MaxSize: 5}); err == nil {
		t.Error("min above max accepted")
	}
}

func FuzzRules(f *testing.F) {
	f.Add("*.wav", "renders/", "a/b.wav")
	f.Add("!x", "**/[", "[")
	f.Fuzz(func(t *testing.T, inc, exc, p string) {
		m, err := Compile(Rules{Include: []string{inc}, Exclude: []string{exc}})
		if err != nil {
			return
		}
		m.Match(p, "other", 1)
	})
}
