package xmp

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"atelier/localdb"
)

func exiftool(t *testing.T, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("exiftool"); err != nil {
		t.Fatalf("exiftool is needed (Debian libimage-exiftool-perl; scripts/deps.sh test installs it): %v", err)
	}
	out, err := exec.Command("exiftool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// exifRead is what exiftool reads from a sidecar.
func exifRead(t *testing.T, p string) Marks {
	t.Helper()
	out := exiftool(t, "-j", "-struct", "-XMP-xmp:Rating", "-XMP-xmp:Label", "-XMP-dc:Subject", "-XMP-dc:Description", p)
	var res []map[string]any
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
		t.Fatalf("exiftool -j: %v\n%s", err, out)
	}
	r := res[0]
	var m Marks
	if v, ok := r["Rating"].(float64); ok {
		m.Rating = int(v)
	}
	m.Label = str(r["Label"])
	m.Note = str(r["Description"])
	switch v := r["Subject"].(type) {
	case []any:
		for _, x := range v {
			m.Tags = append(m.Tags, str(x))
		}
	case nil:
	default:
		m.Tags = []string{str(v)}
	}
	return m
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return ""
}

var sample = Marks{Rating: 4, Label: "Green", Tags: []string{"vocals", "lead take", "Ünïcode & <xml>"}, Note: "night session, take 3 \"best\""}

func TestNewRoundTrip(t *testing.T) {
	doc := New(sample)
	m, err := Parse(doc)
	if err != nil || !m.Equal(sample) {
		t.Fatalf("Parse(New(m)) = %+v %v, want %+v", m, err, sample)
	}
}

func TestExiftoolReadsWhatWeWrite(t *testing.T) {
	dir := t.TempDir()
	sc := Sidecars{Root: dir}
	if err := os.WriteFile(filepath.Join(dir, "take.wav"), []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths, err := sc.Write("take.wav", sample)
	if err != nil || len(paths) != 1 || paths[0] != filepath.Join(dir, "take.wav.xmp") {
		t.Fatalf("Write = %v %v", paths, err)
	}
	if got := exifRead(t, paths[0]); !got.Equal(sample) {
		t.Fatalf("exiftool reads %+v, want %+v", got, sample)
	}
	// rejected (-1) and a changed set
	m := Marks{Rating: -1, Tags: []string{"b-side"}}
	if _, err := sc.Write("take.wav", m); err != nil {
		t.Fatal(err)
	}
	if got := exifRead(t, paths[0]); !got.Equal(m) {
		t.Fatalf("after an update exiftool reads %+v, want %+v", got, m)
	}
}

func TestWeReadWhatExiftoolWrites(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "photo.xmp")
	exiftool(t, "-q", "-XMP-xmp:Rating=4", "-XMP-xmp:Label=Green", "-XMP-dc:Subject=vocals", "-XMP-dc:Subject=lead take",
		"-XMP-dc:Subject=Ünïcode & <xml>", `-XMP-dc:Description=night session, take 3 "best"`, p)
	sc := Sidecars{Root: dir}
	got, ok, err := sc.Read("photo.jpg") // the file.xmp convention
	if err != nil || !ok || !got.Marks.Equal(sample) {
		t.Fatalf("Read = %+v %v %v, want %+v", got.Marks, ok, err, sample)
	}
	// our update of exiftool's file (two rdf:Descriptions) reads back in exiftool
	m := Marks{Rating: 2, Label: "Red", Tags: []string{"drums"}}
	if _, err := sc.Write("photo.jpg", m); err != nil {
		t.Fatal(err)
	}
	if got := exifRead(t, p); !got.Equal(m) {
		t.Fatalf("exiftool reads %+v after our update, want %+v", got, m)
	}
	if _, err := os.Stat(filepath.Join(dir, "photo.jpg.xmp")); err == nil {
		t.Fatal("a second sidecar was made beside the existing file.xmp")
	}
}

// a darktable sidecar: attributes on rdf:Description, its own history. Our
// update keeps every byte of what is not ours.
const darktable = `<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:darktable="http://darktable.sf.net/"
    xmp:Rating="3"
    xmp:Label="Blue"
    xmpMM:DerivedFrom="IMG_0001.CR2"
    darktable:history_end="2">
   <dc:subject>
    <rdf:Seq>
     <rdf:li>darktable|format|cr2</rdf:li>
     <rdf:li>portrait</rdf:li>
    </rdf:Seq>
   </dc:subject>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:operation="exposure" darktable:enabled="1" darktable:params="0000000000000000"/>
     <rdf:li darktable:operation="colorin" darktable:enabled="1" darktable:params="gz02eJxjZBgFo2AUjAIQAAAEEAAB"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
`

func TestUpdateKeepsOtherPrograms(t *testing.T) {
	m, err := Parse([]byte(darktable))
	want := Marks{Rating: 3, Label: "Blue", Tags: []string{"darktable|format|cr2", "portrait"}}
	if err != nil || !m.Equal(want) {
		t.Fatalf("Parse(darktable) = %+v %v, want %+v", m, err, want)
	}
	out, err := Update([]byte(darktable), sample)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Parse(out); err != nil || !got.Equal(sample) {
		t.Fatalf("after Update: %+v %v\n%s", got, err, out)
	}
	for _, keep := range []string{`xmpMM:DerivedFrom="IMG_0001.CR2"`, `darktable:history_end="2"`,
		`<rdf:li darktable:operation="colorin" darktable:enabled="1" darktable:params="gz02eJxjZBgFo2AUjAIQAAAEEAAB"/>`, `x:xmptk="XMP Core 4.4.0-Exiv2"`} {
		if !bytes.Contains(out, []byte(keep)) {
			t.Errorf("Update lost %q:\n%s", keep, out)
		}
	}
	if bytes.Contains(out, []byte(`xmp:Rating="3"`)) || bytes.Contains(out, []byte("portrait")) {
		t.Errorf("Update kept the old marks:\n%s", out)
	}
	// idempotent, and exiftool agrees
	again, err := Update(out, sample)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("a second Update changed the file:\n%s\n---\n%s", out, again)
	}
	p := filepath.Join(t.TempDir(), "IMG_0001.CR2.xmp")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := exifRead(t, p); !got.Equal(sample) {
		t.Fatalf("exiftool reads %+v, want %+v", got, sample)
	}
	// clearing the marks removes them and nothing else
	cleared, err := Update(out, Marks{})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := Parse(cleared); !m.IsZero() || !bytes.Contains(cleared, []byte("darktable:history")) {
		t.Fatalf("cleared: %+v\n%s", m, cleared)
	}
}

func TestUpdateOddDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"self-closing":     `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="1"/></rdf:RDF></x:xmpmeta>`,
		"other prefixes":   `<x:xmpmeta xmlns:x="adobe:ns:meta/"><R:RDF xmlns:R="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><R:Description xmlns:xap="http://ns.adobe.com/xap/1.0/"><xap:Rating>2</xap:Rating></R:Description></R:RDF></x:xmpmeta>`,
		"no namespaces":    `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""></rdf:Description></rdf:RDF></x:xmpmeta>`,
		"xmp prefix taken": `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="urn:other" xmlns:dc="urn:other2"><xmp:Rating>keep me</xmp:Rating></rdf:Description></rdf:RDF></x:xmpmeta>`,
	} {
		out, err := Update([]byte(doc), sample)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m, err := Parse(out); err != nil || !m.Equal(sample) {
			t.Errorf("%s: read back %+v %v\n%s", name, m, err, out)
		}
		if name == "xmp prefix taken" && !bytes.Contains(out, []byte("keep me")) {
			t.Errorf("%s: a property of another namespace was cut\n%s", name, out)
		}
	}
	for name, doc := range map[string]string{
		"not xml":  `<x:xmpmeta><rdf:RDF>`,
		"no rdf":   `<x:xmpmeta xmlns:x="adobe:ns:meta/"/>`,
		"too deep": strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100),
	} {
		if _, err := Update([]byte(doc), sample); err == nil {
			t.Errorf("%s: Update succeeded", name)
		}
	}
}

func TestSidecarConventions(t *testing.T) {
	dir := t.TempDir()
	// both conventions present: the newer wins when reading, both are updated when writing
	a := filepath.Join(dir, "a.jpg.xmp")
	b := filepath.Join(dir, "a.xmp")
	os.WriteFile(a, New(Marks{Rating: 1}), 0o644)
	os.WriteFile(b, New(Marks{Rating: 5}), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(a, old, old)
	sc := Sidecars{Root: dir}
	got, ok, err := sc.Read("a.jpg")
	if err != nil || !ok || got.Marks.Rating != 5 || got.Path != b {
		t.Fatalf("Read = %+v %v %v, want the newer a.xmp", got, ok, err)
	}
	if ps, err := sc.Write("a.jpg", Marks{Rating: 2}); err != nil || len(ps) != 2 {
		t.Fatalf("Write = %v %v, want both sidecars", ps, err)
	}
	for _, p := range []string{a, b} {
		if one, _, _ := readFile(p); one.Marks.Rating != 2 {
			t.Errorf("%s: rating %d, want 2", p, one.Marks.Rating)
		}
	}
	// the base style for new sidecars, and sidecars kept out of the project
	sc = Sidecars{Root: dir, Style: StyleBase}
	if ps, _ := sc.Write("sub/b.wav", Marks{Tags: []string{"x"}}); len(ps) != 1 || ps[0] != filepath.Join(dir, "sub", "b.xmp") {
		t.Errorf("StyleBase wrote %v", ps)
	}
	out := t.TempDir()
	sc = Sidecars{Root: dir, Dir: out}
	if ps, _ := sc.Write("sub/c.wav", Marks{Rating: 3}); len(ps) != 1 || ps[0] != filepath.Join(out, "sub", "c.wav.xmp") {
		t.Errorf("Dir wrote %v", ps)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "c.wav.xmp")); err == nil {
		t.Error("a sidecar was written in the project although Dir is set")
	}
	// nothing to say: no new sidecar
	if ps, err := sc.Write("d.wav", Marks{}); err != nil || ps != nil {
		t.Errorf("empty marks wrote %v %v", ps, err)
	}
	// a broken sidecar is an error naming it, and is left alone
	bad := filepath.Join(dir, "e.wav.xmp")
	os.WriteFile(bad, []byte("<x:xmpmeta"), 0o644)
	sc = Sidecars{Root: dir}
	if _, _, err := sc.Read("e.wav"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Read of a broken sidecar: %v", err)
	}
	if _, err := sc.Write("e.wav", sample); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Write over a broken sidecar: %v", err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "<x:xmpmeta" {
		t.Error("a broken sidecar was overwritten")
	}
	// owners
	got2 := Owners("sub/a.xmp", []string{"a.jpg", "a.CR2", "ab.jpg", "a.xmp", "a"})
	if !slices.Equal(got2, []string{"sub/a.jpg", "sub/a.CR2", "sub/a"}) {
		t.Errorf("Owners(a.xmp) = %v", got2)
	}
	if got := Owners("a.jpg.xmp", []string{"a.jpg", "a.png"}); !slices.Equal(got, []string{"a.jpg"}) {
		t.Errorf("Owners(a.jpg.xmp) = %v", got)
	}
	// newer wins
	now := time.Now()
	if m, fromSidecar := Newer(Marks{Rating: 1}, now, Sidecar{Marks: Marks{Rating: 4}, ModTime: now.Add(time.Second)}); !fromSidecar || m.Rating != 4 {
		t.Error("a sidecar edited after the database did not win")
	}
	if m, fromSidecar := Newer(Marks{Rating: 1}, now, Sidecar{Marks: Marks{Rating: 4}, ModTime: now.Add(-time.Second)}); fromSidecar || m.Rating != 1 {
		t.Error("an older sidecar won over the database")
	}
}

func TestStore(t *testing.T) {
	db, err := localdb.Open("", localdb.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := NewStore(db)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Set("p", []string{"a.wav", "dir/b.wav", "dir/c.wav"}, Marks{Rating: 4, Tags: []string{"vocals", "Vocals", " "}}, at, "user"); err != nil {
		t.Fatal(err)
	}
	e, ok, err := s.Get("p", "dir/b.wav")
	if err != nil || !ok || e.Rating != 4 || !slices.Equal(e.Tags, []string{"vocals"}) || !e.UpdatedAt.Equal(at) || e.Source != "user" {
		t.Fatalf("Get = %+v %v %v", e, ok, err)
	}
	// a batch edit: add a tag to a selection, keep the rest
	if err := s.Edit("p", []string{"a.wav", "dir/b.wav"}, at, "user", func(m Marks) Marks { m.Tags = append(m.Tags, "keeper"); return m }); err != nil {
		t.Fatal(err)
	}
	if e, _, _ := s.Get("p", "a.wav"); !slices.Equal(e.Tags, []string{"vocals", "keeper"}) || e.Rating != 4 {
		t.Fatalf("after Edit: %+v", e)
	}
	// a folder renamed: marks follow
	if err := s.Move("p", "dir", "renamed"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get("p", "dir/b.wav"); ok {
		t.Fatal("marks left at the old path")
	}
	if e, ok, _ := s.Get("p", "renamed/c.wav"); !ok || e.Rating != 4 {
		t.Fatalf("marks not at the new path: %+v", e)
	}
	// cleared marks delete the entry
	s.Set("p", []string{"a.wav"}, Marks{}, at, "user")
	var all []string
	s.All("p", func(p, rel string, e Entry) error { all = append(all, rel); return nil })
	if !slices.Equal(all, []string{"renamed/b.wav", "renamed/c.wav"}) {
		t.Fatalf("All = %v", all)
	}
	// many files in several transactions
	var many []string
	for i := range 1200 {
		many = append(many, "bulk/"+string(rune('a'+i%26))+strings.Repeat("x", i%7)+"-"+time.Duration(i).String())
	}
	if err := s.Set("q", many, Marks{Label: "red"}, at, "user"); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.All("q", func(_, _ string, e Entry) error {
		if e.Label != "Red" {
			t.Fatalf("label %q, want Red", e.Label)
		}
		n++
		return nil
	})
	if n != len(many) {
		t.Fatalf("%d entries, want %d", n, len(many))
	}
	// collections
	c, err := s.SaveCollection(Collection{Name: "Keepers", Query: "kind:audio rating>=4"})
	if err != nil || c.ID == "" {
		t.Fatal(c, err)
	}
	s.SaveCollection(Collection{Name: "anthems", Query: "bpm:120..130"})
	if _, err := s.SaveCollection(Collection{Name: "empty"}); err == nil {
		t.Error("a collection without a query was saved")
	}
	cs, _ := s.Collections()
	if len(cs) != 2 || cs[0].Name != "anthems" || cs[1].Query != "kind:audio rating>=4" {
		t.Fatalf("Collections = %+v", cs)
	}
	s.DeleteCollection(c.ID)
	if cs, _ := s.Collections(); len(cs) != 1 {
		t.Fatalf("after delete: %+v", cs)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(darktable))
	f.Add(New(sample))
	f.Add([]byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="1"/></rdf:RDF></x:xmpmeta>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := Parse(doc)
		if err != nil {
			return
		}
		if m.Rating < -1 || m.Rating > 5 {
			t.Fatalf("rating %d", m.Rating)
		}
		// what parses can be updated, and the update reads back as written
		out, err := Update(doc, sample)
		if err != nil {
			return // e.g. no rdf:Description
		}
		if got, err := Parse(out); err != nil || !got.Equal(sample) {
			t.Fatalf("Update of %q reads back %+v %v:\n%s", doc, got, err, out)
		}
	})
}
