package query

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	day := 86400.0
	now := float64(testNow.Unix())
	nan := math.NaN()
	type want struct {
		field  Field
		not    bool
		text   []string
		lo, hi float64
		rel    bool
	}
	for _, tc := range []struct {
		in   string
		want []want
	}{
		{"", nil},
		{"   ", nil},
		{"kick", []want{{field: FText, text: []string{"kick"}}}},
		{"Night  Drive", []want{{field: FText, text: []string{"night"}}, {field: FText, text: []string{"drive"}}}},
		{`"night drive"`, []want{{field: FText, text: []string{"night drive"}}}},
		{`-draft`, []want{{field: FText, not: true, text: []string{"draft"}}}},
		{`kind:audio`, []want{{field: FKind, text: []string{"audio"}}}},
		{`kind:Audio,photo`, []want{{field: FKind, text: []string{"audio", "image"}}}},
		{`tag:vocals`, []want{{field: FTag, text: []string{"vocals"}}}},
		{`tag:"lead vocals"`, []want{{field: FTag, text: []string{"lead vocals"}}}},
		{`-tag:rejected`, []want{{field: FTag, not: true, text: []string{"rejected"}}}},
		{`tag!=rejected`, []want{{field: FTag, not: true, text: []string{"rejected"}}}},
		{`ext:.WAV`, []want{{field: FExt, text: []string{"wav"}}}},
		{`rating>=4`, []want{{field: FRating, lo: 4, hi: nan}}},
		{`rating:5`, []want{{field: FRating, lo: 5, hi: 5}}},
		{`rating<2`, []want{{field: FRating, lo: nan, hi: math.Nextafter(2, math.Inf(-1))}}},
		{`stars>3`, []want{{field: FRating, lo: math.Nextafter(3, math.Inf(1)), hi: nan}}},
		{`lufs>-14`, []want{{field: FLUFS, lo: math.Nextafter(-14, math.Inf(1)), hi: nan}}},
		{`lufs:-16..-12`, []want{{field: FLUFS, lo: -16, hi: -12}}},
		{`lufs:-12..-16`, []want{{field: FLUFS, lo: -16, hi: -12}}},
		{`bpm:118..126`, []want{{field: FBPM, lo: 118, hi: 126}}},
		{`bpm:120`, []want{{field: FBPM, lo: 119.5, hi: 120.5}}},
		{`bpm:120..`, []want{{field: FBPM, lo: 120, hi: nan}}},
		{`duration<3m`, []want{{field: FDuration, lo: nan, hi: math.Nextafter(180, math.Inf(-1))}}},
		{`duration<=1m30s`, []want{{field: FDuration, lo: nan, hi: 90}}},
		{`duration>1:30`, []want{{field: FDuration, lo: math.Nextafter(90, math.Inf(1)), hi: nan}}},
		{`length:..500ms`, []want{{field: FDuration, lo: nan, hi: 0.5}}},
		{`size>10MB`, []want{{field: FSize, lo: math.Nextafter(10<<20, math.Inf(1)), hi: nan}}},
		{`size<=64k`, []want{{field: FSize, lo: nan, hi: 64 << 10}}},
		{`modified<7d`, []want{{field: FModified, lo: now - 7*day, hi: nan, rel: true}}},
		{`modified>2w`, []want{{field: FModified, lo: nan, hi: now - 14*day, rel: true}}},
		{`modified:1d..7d`, []want{{field: FModified, lo: now - 7*day, hi: now - day, rel: true}}},
		{`modified:..3d`, []want{{field: FModified, lo: now - 3*day, hi: nan, rel: true}}},
		{`modified:2026-11`, []want{{field: FModified, lo: float64(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix()), hi: float64(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix() - 1)}}},
		{`modified<2024-05-01`, []want{{field: FModified, lo: nan, hi: math.Nextafter(float64(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Unix()), math.Inf(-1))}}},
		{`date:today`, []want{{field: FModified, lo: float64(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Unix()), hi: float64(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix() - 1)}}},
		{`taken:2023..2024`, []want{{field: FTaken, lo: float64(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), hi: float64(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - 1)}}},
		{`has:cover`, []want{{field: FHas, text: []string{"cover"}}}},
		{`label:Red`, []want{{field: FLabel, text: []string{"red"}}}},
		{`artist:"Boards of"`, []want{{field: FArtist, text: []string{"boards of"}}}},
		{`12:30`, []want{{field: FText, text: []string{"12:30"}}}},
		{`kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126 modified<7d "night drive"`, []want{
			{field: FKind, text: []string{"audio"}}, {field: FTag, text: []string{"vocals"}}, {field: FRating, lo: 4, hi: nan},
			{field: FLUFS, lo: math.Nextafter(-14, math.Inf(1)), hi: nan}, {field: FDuration, lo: nan, hi: math.Nextafter(180, math.Inf(-1))},
			{field: FBPM, lo: 118, hi: 126}, {field: FModified, lo: now - 7*day, hi: nan, rel: true}, {field: FText, text: []string{"night drive"}}}},
	} {
		q, err := Parse(tc.in, testNow)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if len(q.Terms) != len(tc.want) {
			t.Errorf("Parse(%q): %d terms, want %d: %+v", tc.in, len(q.Terms), len(tc.want), q.Terms)
			continue
		}
		for i, w := range tc.want {
			got := q.Terms[i]
			if got.Field != w.field || got.Not != w.not {
				t.Errorf("Parse(%q) term %d: field %v not %v, want %v %v", tc.in, i, got.Field.Name(), got.Not, w.field.Name(), w.not)
				continue
			}
			if w.text != nil {
				var texts []string
				for _, v := range got.Values {
					texts = append(texts, v.Text)
				}
				if strings.Join(texts, "|") != strings.Join(w.text, "|") {
					t.Errorf("Parse(%q) term %d: values %q, want %q", tc.in, i, texts, w.text)
				}
				continue
			}
			v := got.Values[0]
			if !sameFloat(v.Lo, w.lo) || !sameFloat(v.Hi, w.hi) || v.Rel != w.rel {
				t.Errorf("Parse(%q) term %d: [%v, %v] rel %v, want [%v, %v] rel %v", tc.in, i, v.Lo, v.Hi, v.Rel, w.lo, w.hi, w.rel)
			}
		}
		if q.String() != strings.Join(strings.Fields(tc.in), " ") && !strings.Contains(tc.in, `"`) {
			t.Errorf("Parse(%q).String() = %q", tc.in, q.String())
		}
	}
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, says string }{
		{`ratng>3`, `no field "ratng"`},
		{`rating>x`, "rating takes a number"},
		{`rating>9`, "0 to 5"},
		{`kind:sofa`, "kind is one of"},
		{`tag>3`, "compares words"},
		{`duration<3 minutes`, ""}, // "minutes" is a free word: fine
		{`duration<3q`, "not a duration"},
		{`size>10XB`, "unit is one of"},
		{`modified<7x`, "not a date or an age"},
		{`modified:1d..2024-01`, "both ends"},
		{`bpm:..`, "low..high"},
		{`bpm>1..2`, "a range goes with ':'"},
		{`has:wings`, "has: takes one of"},
		{`tag:`, "tag needs a value"},
		{`"night drive`, "not closed"},
		{strings.Repeat("a ", 65), "at most 64"},
		{strings.Repeat("a", MaxLen+1), "characters long"},
		{"\xff", "UTF-8"},
		{`lufs>NaN`, "takes a number"},
		{`bpm:Inf`, "takes a number"},
	} {
		_, err := Parse(tc.in, testNow)
		if tc.says == "" {
			if err != nil {
				t.Errorf("Parse(%.40q): %v", tc.in, err)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%.40q) = %v, want an *Error saying %q", tc.in, err, tc.says)
			continue
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Parse(%.40q) = %q, want it to say %q", tc.in, err, tc.says)
		}
	}
}

func TestParseSort(t *testing.T) {
	for in, want := range map[string]struct {
		s    Sort
		desc bool
	}{"": {SortName, false}, "name": {SortName, false}, "-date": {SortDate, true}, "size desc": {SortSize, true},
		"lufs": {SortLoudness, false}, "Rating": {SortRating, false}, "-duration": {SortDuration, true}} {
		s, d, err := ParseSort(in)
		if err != nil || s != want.s || d != want.desc {
			t.Errorf("ParseSort(%q) = %v %v %v, want %v %v", in, s, d, err, want.s, want.desc)
		}
	}
	if _, _, err := ParseSort("colour"); err == nil || !strings.Contains(err.Error(), "cannot sort by") {
		t.Errorf("ParseSort(colour) = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126 modified<7d "night drive"`,
		`-tag:a,b* size>1.5GB taken:2023..2024 modified:1d..7d has:gps key:"A minor" duration:1:02:03`, `"`, `a:`, `-`, `x..y`} {
		f.Add(s)
	}
	v := NewView()
	v.Apply(sampleChanges(50))
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s, testNow)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): error %T, want *Error", s, err)
			}
			return
		}
		// a parsed query runs, and its canonical text parses to the same terms
		_ = v.Query(q, Options{Limit: 10})
		q2, err := Parse(q.String(), testNow)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q fails: %v", s, q.String(), err)
		}
		if len(q2.Terms) != len(q.Terms) {
			t.Fatalf("Parse(%q): %d terms, String %q: %d", s, len(q.Terms), q.String(), len(q2.Terms))
		}
	})
}
