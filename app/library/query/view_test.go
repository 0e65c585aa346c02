package query

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"atelier/app/index"
	"atelier/app/library/meta"
)

func rec(project, p string, size int64, mtime time.Time) index.FileRecord {
	return index.FileRecord{Project: index.ProjectID(project), Path: p, Size: size, ModTime: mtime,
		SHA256: sha256.Sum256([]byte(p + fmt.Sprint(size))), Kind: index.KindOf(p)}
}

func create(r index.FileRecord, f *Facts) Change {
	return Change{Change: index.Change{Op: index.OpCreate, Record: r}, Facts: f}
}

func lufs(x float64) *float64 { return &x }

// sampleChanges makes n files of a sample library: audio with durations,
// loudness and BPM, images, documents, in a few folders.
func sampleChanges(n int) []Change {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"kick", "snare", "hat", "vocal", "pad", "bass", "night", "drive", "loop", "fx", "riser", "chord"}
	var out []Change
	for i := range n {
		folder := []string{"drums", "vocals", "synths", "photos", "docs"}[i%5]
		name := fmt.Sprintf("%s %s %05d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], i)
		mtime := testNow.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
		switch folder {
		case "photos":
			out = append(out, create(rec("p1", folder+"/"+name+".JPG", int64(2e6+rng.IntN(3e6)), mtime),
				&Facts{Width: 6000, Height: 4000, Camera: "FUJIFILM X-T4", Taken: mtime, GPS: i%3 == 0}))
		case "docs":
			out = append(out, create(rec("p2", folder+"/"+name+".md", int64(rng.IntN(1e5)), mtime), nil))
		default:
			f := &Facts{Duration: 0.2 + rng.Float64()*300, LUFS: lufs(-30 + rng.Float64()*25), BPM: float64(80 + rng.IntN(90))}
			if i%7 == 0 {
				f.Title, f.Artist = "Night Drive "+fmt.Sprint(i), "Studio Gold"
			}
			ext := ".wav"
			if i%2 == 0 {
				ext = ".mp3"
			}
			out = append(out, create(rec("p1", folder+"/"+name+ext, int64(1e5+rng.IntN(1e7)), mtime), f))
		}
	}
	return out
}

func newTestView(cs []Change) *View {
	v := NewView()
	v.Now = func() time.Time { return testNow }
	v.Apply(cs)
	return v
}

func paths(p Page) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.Path)
	}
	return out
}

func TestViewQuery(t *testing.T) {
	day := 24 * time.Hour
	cs := []Change{
		create(rec("p", "Vocals/Lead Take 3.wav", 5e6, testNow.Add(-2*day)), &Facts{Duration: 150, LUFS: lufs(-12.5), BPM: 122, Title: "Night Drive", Artist: "Mara", Key: "A minor"}),
		create(rec("p", "vocals/backing.wav", 3e6, testNow.Add(-10*day)), &Facts{Duration: 200, LUFS: lufs(-16), BPM: 122}),
		create(rec("p", "drums/kick.wav", 1e5, testNow.Add(-1*day)), &Facts{Duration: 0.5, LUFS: lufs(-8), BPM: 0}),
		create(rec("p", "drums/loop 120.mp3", 9e5, testNow.Add(-40*day)), &Facts{Duration: 8, BPM: 120, Cover: true}),
		create(rec("p", "photos/cover.jpg", 3e6, testNow.Add(-3*day)), &Facts{Width: 3000, Height: 3000, Camera: "Canon EOS R6", Lens: "RF 35mm", Taken: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), GPS: true}),
		create(rec("p", "notes.md", 2e3, testNow.Add(-100*day)), nil),
		create(rec("q", "other/kick.wav", 2e5, testNow.Add(-5*day)), &Facts{Duration: 0.4}),
	}
	v := newTestView(cs)
	v.SetMarks("p", "Vocals/Lead Take 3.wav", Marks{Rating: 5, Label: "Red", Tags: []string{"Vocals", "lead", "vocals"}, Note: "best take, night session"})
	v.SetMarks("p", "vocals/backing.wav", Marks{Rating: 3, Tags: []string{"vocals"}})
	v.SetMarks("p", "drums/kick.wav", Marks{Rating: 4, Label: "green", Tags: []string{"drums/kick"}})
	v.SetMarks("p", "photos/cover.jpg", Marks{Rating: -1})
	v.SetProjectName("q", "Old Samples")

	for _, tc := range []struct {
		q       string
		project string
		want    []string // in name order
	}{
		{"", "p", []string{"vocals/backing.wav", "photos/cover.jpg", "drums/kick.wav", "Vocals/Lead Take 3.wav", "drums/loop 120.mp3", "notes.md"}},
		{"kick", "", []string{"drums/kick.wav", "other/kick.wav"}},
		{"KICK", "q", []string{"other/kick.wav"}},
		{"kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126 modified<7d \"night drive\"", "", []string{"Vocals/Lead Take 3.wav"}},
		{"tag:vocals", "", []string{"vocals/backing.wav", "Vocals/Lead Take 3.wav"}},
		{"tag:drums*", "", []string{"drums/kick.wav"}},
		{"tag:vocals,drums/kick", "", []string{"vocals/backing.wav", "drums/kick.wav", "Vocals/Lead Take 3.wav"}},
		{"-tag:vocals kind:audio", "p", []string{"drums/kick.wav", "drums/loop 120.mp3"}},
		{"rating>=4", "", []string{"drums/kick.wav", "Vocals/Lead Take 3.wav"}},
		{"rating<0", "", []string{"photos/cover.jpg"}},
		{"rating:0", "", []string{"other/kick.wav", "drums/loop 120.mp3", "notes.md"}},
		{"label:red", "", []string{"Vocals/Lead Take 3.wav"}},
		{"label:blue", "", nil},
		{"has:label", "", []string{"drums/kick.wav", "Vocals/Lead Take 3.wav"}},
		{"lufs>-14", "", []string{"drums/kick.wav", "Vocals/Lead Take 3.wav"}},
		{"lufs:-16", "", []string{"vocals/backing.wav"}},
		{"-has:loudness kind:audio", "", []string{"other/kick.wav", "drums/loop 120.mp3"}},
		{"duration<1s", "", []string{"drums/kick.wav", "other/kick.wav"}},
		{"duration>2m", "", []string{"vocals/backing.wav", "Vocals/Lead Take 3.wav"}},
		{"bpm:120", "", []string{"drums/loop 120.mp3"}},
		{"bpm:118..126", "", []string{"vocals/backing.wav", "Vocals/Lead Take 3.wav", "drums/loop 120.mp3"}},
		{"modified<7d", "", []string{"photos/cover.jpg", "drums/kick.wav", "other/kick.wav", "Vocals/Lead Take 3.wav"}},
		{"modified>30d", "", []string{"drums/loop 120.mp3", "notes.md"}},
		{"modified:4d..20d", "", []string{"vocals/backing.wav", "other/kick.wav"}},
		{"size>1MB", "", []string{"vocals/backing.wav", "photos/cover.jpg", "Vocals/Lead Take 3.wav"}},
		{"ext:wav", "p", []string{"vocals/backing.wav", "drums/kick.wav", "Vocals/Lead Take 3.wav"}},
		{"ext:mp3,jpg", "", []string{"photos/cover.jpg", "drums/loop 120.mp3"}},
		{"name:take", "", []string{"Vocals/Lead Take 3.wav"}},
		{"path:vocals/", "", []string{"vocals/backing.wav", "Vocals/Lead Take 3.wav"}},
		{"in:drums", "", []string{"drums/kick.wav", "drums/loop 120.mp3"}},
		{"artist:mara", "", []string{"Vocals/Lead Take 3.wav"}},
		{"title:\"night drive\"", "", []string{"Vocals/Lead Take 3.wav"}},
		{"session", "", []string{"Vocals/Lead Take 3.wav"}}, // the note
		{"key:Am", "", []string{"Vocals/Lead Take 3.wav"}},
		{"camera:canon", "", []string{"photos/cover.jpg"}},
		{"lens:35mm", "", []string{"photos/cover.jpg"}},
		{"taken:2025", "", []string{"photos/cover.jpg"}},
		{"has:gps", "", []string{"photos/cover.jpg"}},
		{"has:cover", "", []string{"drums/loop 120.mp3"}},
		{"width>=3000 height:3000", "", []string{"photos/cover.jpg"}},
		{"kind:document", "", []string{"notes.md"}},
		{"kind:image,document", "", []string{"photos/cover.jpg", "notes.md"}},
		{"project:\"old samples\"", "", []string{"other/kick.wav"}},
		{"project:p kick", "", []string{"drums/kick.wav"}},
		{"has:note", "", []string{"Vocals/Lead Take 3.wav"}},
		{"nothing-like-this", "", nil},
	} {
		q, err := Parse(tc.q, testNow)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.q, err)
		}
		got := paths(v.Query(q, Options{Project: tc.project, Limit: 100}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Query(%q, project %q) = %q, want %q", tc.q, tc.project, got, tc.want)
		}
		if n := v.Count(q, tc.project); n != len(tc.want) {
			t.Errorf("Count(%q) = %d, want %d", tc.q, n, len(tc.want))
		}
	}
}

func TestViewSortAndPage(t *testing.T) {
	for _, n := range []int{4096, 100} { // sorting the matches, or picking them from a kept order
		t.Run(fmt.Sprint("sortAllAbove=", n), func(t *testing.T) {
			defer func(n int) { sortAllAbove = n }(sortAllAbove)
			sortAllAbove = n
			testViewSortAndPage(t)
		})
	}
}

func testViewSortAndPage(t *testing.T) {
	cs := sampleChanges(2000)
	v := newTestView(cs)
	all := Query{}
	for s := Sort(0); s < numSorts; s++ {
		for _, desc := range []bool{false, true} {
			full := v.Query(all, Options{Sort: s, Desc: desc, Limit: MaxLimit})
			if full.Total != 2000 || len(full.Rows) != 2000 {
				t.Fatalf("sort %v desc %v: total %d rows %d", s, desc, full.Total, len(full.Rows))
			}
			for i := 1; i < len(full.Rows); i++ {
				a, b := full.Rows[i-1], full.Rows[i]
				if c := cmpKey(s, a, b); (!desc && c > 0) || (desc && c < 0 && !(unknownKey(s, b) && !unknownKey(s, a))) {
					t.Fatalf("sort %v desc %v: row %d (%s) before %d (%s)", s, desc, i-1, a.Path, i, b.Path)
				}
			}
			// unknown keys come last either way
			seenUnknown := false
			for _, r := range full.Rows {
				if unknownKey(s, r) {
					seenUnknown = true
				} else if seenUnknown {
					t.Fatalf("sort %v desc %v: a known key after an unknown one (%s)", s, desc, r.Path)
				}
			}
			// pages are windows of the full answer
			for _, off := range []int{0, 1, 999, 1990, 2000, 5000} {
				p := v.Query(all, Options{Sort: s, Desc: desc, Offset: off, Limit: 25})
				want := full.Rows[min(off, 2000):min(off+25, 2000)]
				if p.Total != 2000 || !slices.Equal(paths(p), paths(Page{Rows: want})) {
					t.Fatalf("sort %v desc %v offset %d: page %q, want %q", s, desc, off, paths(p), paths(Page{Rows: want}))
				}
			}
		}
	}
}

func cmpKey(s Sort, a, b Row) int {
	f := func(x, y float64) int {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	lf := func(r Row) float64 {
		if r.LUFS == nil {
			return 1e9
		}
		return *r.LUFS
	}
	df := func(r Row) float64 {
		if r.Duration == 0 {
			return 1e9
		}
		return r.Duration
	}
	switch s {
	case SortName:
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	case SortPath:
		return strings.Compare(strings.ToLower(a.Path), strings.ToLower(b.Path))
	case SortDate:
		return a.ModTime.Compare(b.ModTime)
	case SortSize:
		return f(float64(a.Size), float64(b.Size))
	case SortDuration:
		return f(float64(float32(df(a))), float64(float32(df(b))))
	case SortLoudness:
		return f(float64(float32(lf(a))), float64(float32(lf(b))))
	case SortRating:
		return f(float64(a.Rating), float64(b.Rating))
	}
	return 0
}

func unknownKey(s Sort, r Row) bool {
	return s == SortDuration && r.Duration == 0 || s == SortLoudness && r.LUFS == nil
}

// TestViewKeepsOrdersCurrent checks that the incremental upkeep of the sorted
// orders (single changes) gives the same answers as a rebuild.
func TestViewKeepsOrdersCurrent(t *testing.T) {
	defer func(n, c int) { sortAllAbove, compactAbove = n, c }(sortAllAbove, compactAbove)
	sortAllAbove, compactAbove = 0, 100 // always use the kept orders; compact the text often
	cs := sampleChanges(600)
	v := newTestView(cs)
	for s := range numSorts {
		v.Query(Query{}, Options{Sort: s}) // build every order
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		c := cs[rng.IntN(len(cs))]
		switch i % 6 {
		case 0: // modified: new content, new facts
			r := c.Record
			r.Size += 1000
			r.ModTime = r.ModTime.Add(time.Hour)
			r.SHA256[0]++
			v.Apply([]Change{{Change: index.Change{Op: index.OpModify, Record: r}, Facts: &Facts{Duration: rng.Float64() * 100, LUFS: lufs(-rng.Float64() * 30)}}})
		case 1: // deleted and created again
			v.Apply([]Change{{Change: index.Change{Op: index.OpDelete, Record: c.Record}}})
			v.Apply([]Change{c})
		case 2: // renamed
			r := c.Record
			r.Path = "renamed/" + fmt.Sprint(i) + " " + c.Record.Path[strings.LastIndexByte(c.Record.Path, '/')+1:]
			v.Apply([]Change{{Change: index.Change{Op: index.OpRename, Record: r, From: c.Record.Path}}})
			v.Apply([]Change{{Change: index.Change{Op: index.OpRename, Record: c.Record, From: r.Path}}})
		case 3:
			v.SetMarks(string(c.Record.Project), c.Record.Path, Marks{Rating: rng.IntN(6), Tags: []string{"t" + fmt.Sprint(rng.IntN(5))}})
		case 4:
			v.SetFacts(string(c.Record.Project), c.Record.Path, Facts{Duration: rng.Float64()})
		case 5: // modified without a content change: keeps facts
			r := c.Record
			r.ModTime = r.ModTime.Add(time.Minute)
			v.Apply([]Change{{Change: index.Change{Op: index.OpModify, Record: r}}})
		}
	}
	for s := range numSorts {
		for _, desc := range []bool{false, true} {
			got := paths(v.Query(Query{}, Options{Sort: s, Desc: desc, Limit: MaxLimit}))
			v.orders[s].dirty = true
			want := paths(v.Query(Query{}, Options{Sort: s, Desc: desc, Limit: MaxLimit}))
			if !slices.Equal(got, want) {
				t.Fatalf("sort %v desc %v: the kept order differs from a rebuilt one", s, desc)
			}
			if len(got) != 600 {
				t.Fatalf("sort %v: %d rows, want 600", s, len(got))
			}
		}
	}
	// the text index agrees with a plain scan after all that churn
	for _, w := range []string{"kick", "renamed", "t3", "night drive", "0004", ".wav", "studio gold"} {
		q := MustParse(`"` + w + `"`)
		want := 0
		for r := range v.path {
			if v.path[r] != "" && v.term(q.Terms[0])(uint32(r)) {
				want++
			}
		}
		if got := v.Count(q, ""); got != want || want == 0 && w != "renamed" {
			t.Errorf("%q: the text index finds %d rows, a scan %d", w, got, want)
		}
	}
}

func TestViewChanges(t *testing.T) {
	day := 24 * time.Hour
	v := newTestView(nil)
	v.Apply([]Change{create(rec("p", "a/take.wav", 100, testNow.Add(-day)), &Facts{Duration: 3, BPM: 120, Title: "Alpha"})})
	v.SetMarks("p", "a/take.wav", Marks{Rating: 4, Tags: []string{"keeper"}})

	// renamed: marks and facts follow the file
	r := rec("p", "b/take 2.wav", 100, testNow.Add(-day))
	r.SHA256 = rec("p", "a/take.wav", 100, testNow).SHA256
	v.Apply([]Change{{Change: index.Change{Op: index.OpRename, Record: r, From: "a/take.wav"}}})
	if _, ok := v.Get("p", "a/take.wav"); ok {
		t.Fatal("the old path is still in the view after a rename")
	}
	v.SetMarks("p", "b/take 2.wav", Marks{Rating: 4, Label: "Purple", Tags: []string{"keeper"}})
	row, ok := v.Get("p", "b/take 2.wav")
	if !ok || row.Label != "Purple" || row.Rating != 4 || !slices.Equal(row.Tags, []string{"keeper"}) || row.Duration != 3 || row.Title != "Alpha" || row.Name != "take 2.wav" {
		t.Fatalf("after a rename: %+v", row)
	}
	// new content: facts are forgotten until the metadata is read again; marks stay
	r.SHA256[0] ^= 1
	r.Size = 200
	v.Apply([]Change{{Change: index.Change{Op: index.OpModify, Record: r}}})
	row, _ = v.Get("p", "b/take 2.wav")
	if row.Duration != 0 || row.Title != "" || row.Rating != 4 || row.Size != 200 {
		t.Fatalf("after new content: %+v", row)
	}
	if n := v.Count(MustParse("has:duration"), ""); n != 0 {
		t.Fatalf("has:duration = %d after new content, want 0", n)
	}
	v.SetFacts("p", "b/take 2.wav", Facts{Duration: 4})
	if n := v.Count(MustParse("duration:4"), ""); n != 1 {
		t.Fatalf("duration:4 = %d after SetFacts, want 1", n)
	}
	v.Apply([]Change{{Change: index.Change{Op: index.OpDelete, Record: r}}})
	if v.Len() != 0 || v.Count(Query{}, "") != 0 {
		t.Fatalf("after delete: len %d", v.Len())
	}
	if v.SetMarks("p", "b/take 2.wav", Marks{Rating: 1}) || v.SetFacts("p", "nope", Facts{}) {
		t.Fatal("marks or facts set on a file the view does not have")
	}
	// a freed row is reused cleanly
	v.Apply([]Change{create(rec("p", "c.wav", 1, testNow), nil)})
	row, _ = v.Get("p", "c.wav")
	if row.Rating != 0 || row.Tags != nil || row.Duration != 0 {
		t.Fatalf("a reused row kept old values: %+v", row)
	}
}

// TestSmartCollectionFollowsChanges is the smart-collection contract: after
// each change, Match tells whether the changed file belongs to a saved query.
func TestSmartCollectionFollowsChanges(t *testing.T) {
	v := newTestView(nil)
	coll := MustParse("kind:audio tag:vocals rating>=4")
	v.Apply([]Change{create(rec("p", "new take.wav", 10, testNow), nil)})
	if v.Match(coll, "p", "new take.wav") {
		t.Fatal("an untagged file matches the collection")
	}
	v.SetMarks("p", "new take.wav", Marks{Rating: 5, Tags: []string{"Vocals"}})
	if !v.Match(coll, "p", "new take.wav") || v.Count(coll, "") != 1 {
		t.Fatal("a file rated 5 and tagged vocals is not in the collection")
	}
	v.Apply([]Change{create(rec("p", "second.flac", 10, testNow), nil)})
	v.SetMarks("p", "second.flac", Marks{Rating: 4, Tags: []string{"vocals"}})
	if got := paths(v.Query(coll, Options{})); !slices.Equal(got, []string{"new take.wav", "second.flac"}) {
		t.Fatalf("collection = %q", got)
	}
	v.SetMarks("p", "new take.wav", Marks{Rating: 2, Tags: []string{"Vocals"}})
	if v.Match(coll, "p", "new take.wav") || v.Count(coll, "") != 1 {
		t.Fatal("a file rated down still matches")
	}
	if v.Match(coll, "p", "gone.wav") {
		t.Fatal("a missing file matches")
	}
}

func TestViewTags(t *testing.T) {
	v := newTestView([]Change{create(rec("p", "a.wav", 1, testNow), nil), create(rec("p", "b.wav", 1, testNow), nil)})
	v.SetMarks("p", "a.wav", Marks{Tags: []string{"Drums", " ", "loop"}})
	v.SetMarks("p", "b.wav", Marks{Tags: []string{"drums"}})
	got := v.Tags()
	if len(got) != 2 || got["Drums"] != 2 || got["loop"] != 1 {
		t.Fatalf("Tags() = %v", got)
	}
	if v.Count(MustParse("tag:DRUMS"), "") != 2 {
		t.Fatal("tags match regardless of case")
	}
}

// TestCollectionsFollowChanges: smart collections learn of each file that
// joins or leaves them as files appear, change, are rated and renamed.
func TestCollectionsFollowChanges(t *testing.T) {
	v := newTestView(nil)
	qs := map[string]Query{"keepers": MustParse("kind:audio rating>=4"), "short": MustParse("duration<1s"), "drums": MustParse("path:drums/")}
	apply := func(cs ...Change) []Delta {
		return v.Around(Keys(cs), qs, func() { v.Apply(cs) })
	}
	// a matching file appears
	d := apply(create(rec("p", "drums/kick.wav", 10, testNow), &Facts{Duration: 0.3}))
	if len(d) != 2 || !hasDelta(d, "short", "drums/kick.wav", true) || !hasDelta(d, "drums", "drums/kick.wav", true) {
		t.Fatalf("a new kick: %+v", d)
	}
	// rated: joins keepers
	d = v.Around([]FileKey{{"p", "drums/kick.wav"}}, qs, func() { v.SetMarks("p", "drums/kick.wav", Marks{Rating: 5}) })
	if len(d) != 1 || !hasDelta(d, "keepers", "drums/kick.wav", true) {
		t.Fatalf("rated: %+v", d)
	}
	// renamed out of drums/: leaves drums, stays a keeper
	r := rec("p", "fx/kick.wav", 10, testNow)
	r.SHA256 = rec("p", "drums/kick.wav", 10, testNow).SHA256
	d = apply(Change{Change: index.Change{Op: index.OpRename, Record: r, From: "drums/kick.wav"}})
	if !hasDelta(d, "drums", "drums/kick.wav", false) || !hasDelta(d, "keepers", "fx/kick.wav", true) || !hasDelta(d, "keepers", "drums/kick.wav", false) {
		t.Fatalf("renamed: %+v", d)
	}
	// deleted: leaves what it was in
	d = apply(Change{Change: index.Change{Op: index.OpDelete, Record: r}})
	if !hasDelta(d, "keepers", "fx/kick.wav", false) || !hasDelta(d, "short", "fx/kick.wav", false) {
		t.Fatalf("deleted: %+v", d)
	}
}

func hasDelta(ds []Delta, coll, p string, joined bool) bool {
	for _, d := range ds {
		if d.Collection == coll && d.File.Path == p && d.Joined == joined {
			return true
		}
	}
	return false
}

func TestFactsOfMetadata(t *testing.T) {
	l := -14.2
	f := FactsOf(meta.Meta{Title: "", BPM: 122, Key: "Am", Description: "bext text", IXML: map[string]string{"SCENE": "12A", "TAKE": "3"}, HasCover: true}, 95, &l, 0, 0)
	v := newTestView([]Change{create(rec("p", "rec/take.wav", 1, testNow), &f)})
	for _, q := range []string{"bpm:122 key:Am has:cover lufs<-14 duration>1m", `"scene 12a take 3"`, "bext"} {
		if v.Count(MustParse(q), "") != 1 {
			t.Errorf("%q does not find a file with those facts", q)
		}
	}
}

// TestViewConcurrent runs queries while files change (go test -race).
func TestViewConcurrent(t *testing.T) {
	v := newTestView(sampleChanges(3000))
	cs := sampleChanges(300)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, c := range cs {
			c.Record.Size += int64(i)
			c.Record.SHA256[1]++
			c.Op = index.OpModify
			v.Apply([]Change{c})
			v.SetMarks(string(c.Record.Project), c.Record.Path, Marks{Rating: i % 6, Tags: []string{"t"}})
		}
	}()
	qs := []Query{MustParse("kick"), MustParse("rating>=3 tag:t"), {}}
	for i := 0; i < 200; i++ {
		p := v.Query(qs[i%3], Options{Sort: Sort(i % int(numSorts)), Desc: i%2 == 0, Limit: 50})
		if p.Total < len(p.Rows) {
			t.Fatalf("total %d < rows %d", p.Total, len(p.Rows))
		}
	}
	<-done
}

func TestViewHasAndInDir(t *testing.T) {
	v := newTestView([]Change{create(rec("p", "a/x.wav", 1, testNow), nil), create(rec("p", "a/y.jpg", 1, testNow), nil),
		create(rec("p", "a/b/z.wav", 1, testNow), nil), create(rec("p", "top.md", 1, testNow), nil)})
	if !v.Has("p", "a/x.wav") || v.Has("p", "a/nope") || v.Has("q", "a/x.wav") {
		t.Fatal("Has")
	}
	got := v.InDir("p", "a")
	slices.Sort(got)
	if !slices.Equal(got, []string{"x.wav", "y.jpg"}) {
		t.Fatalf("InDir(a) = %v", got)
	}
	if got := v.InDir("p", "."); !slices.Equal(got, []string{"top.md"}) {
		t.Fatalf("InDir(.) = %v", got)
	}
}
