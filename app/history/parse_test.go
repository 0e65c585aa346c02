package history

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseTime: whatever a creator types after --at is a time or not,
// never a panic; a date alone means its end.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-24", "2026-11-24 15:04", "2026-11-24T15:04:05Z", "yesterday", "", "2026-13-45"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := parseTime(s)
		if ok && tm.IsZero() {
			t.Fatalf("%q parsed as the zero time", s)
		}
	})
}

func TestParseTimeDateIsItsEnd(t *testing.T) {
	tm, ok := parseTime("2026-11-24")
	if !ok || tm.Hour() != 23 || tm.Minute() != 59 || tm.Location() != time.Local {
		t.Fatalf("%v %v", tm, ok)
	}
	if _, ok := parseTime("tuesday"); ok {
		t.Fatal("a word parsed as a time")
	}
	if copyName("mix/final.wav", 7) != "mix/final (version 7).wav" || !strings.HasSuffix(copyName("README", 2), "(version 2)") {
		t.Fatal(copyName("mix/final.wav", 7))
	}
}
