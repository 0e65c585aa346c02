package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"atelier/app/library"
	"atelier/app/library/xmp"
	"atelier/app/preview/testmedia"
	"atelier/internal/testwait"
)

// TestLibraryFindEndToEnd: files indexed by a running engine are found by
// the query language, with the metadata read from them in the render queue;
// marks go to the store and the XMP sidecars; a sidecar edited by another
// program is merged; a smart collection follows the changes.
func TestLibraryFindEndToEnd(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Night Songs")
	os.MkdirAll(filepath.Join(proj, "vocals"), 0o755)
	wav := testmedia.Tone(t, filepath.Join(proj, "vocals"), "take1.wav", 44100, 1, 16, 1, "")
	testmedia.Lame(t, wav, filepath.Join(proj, "vocals", "lead.mp3"), "--tt", "Night Drive", "--ta", "Mara", "--tv", "TBPM=122", "--tv", "TKEY=Am")
	os.WriteFile(filepath.Join(proj, "notes.txt"), []byte("lyrics"), 0o644)

	e, id, seen := openWithProject(t, root, proj, Options{Background: true})

	find := func(q string) []string {
		t.Helper()
		page, err := e.Library.Query(id, q, "name", 0, 100)
		if err != nil {
			t.Fatalf("Query(%q): %v", q, err)
		}
		var out []string
		for _, r := range page.Rows {
			out = append(out, r.Path)
		}
		return out
	}
	waitFor := func(q string, want []string) {
		t.Helper()
		testwait.Until(t, 60*time.Second, 50*time.Millisecond, func() error {
			if got := find(q); !slices.Equal(got, want) {
				return fmt.Errorf("Query(%q) = %q, want %q", q, got, want)
			}
			return nil
		})
	}
	waitFor("", []string{"vocals/lead.mp3", "notes.txt", "vocals/take1.wav"})
	// metadata from the file, loudness and duration from the preview
	waitFor("artist:mara bpm:122 key:Am has:loudness duration:1s", []string{"vocals/lead.mp3"})
	waitFor(`"night drive" kind:audio`, []string{"vocals/lead.mp3"})

	// a smart collection, then marks that bring files into it
	c, err := e.Library.SaveCollection(xmp.Collection{Name: "Keepers", Query: "kind:audio rating>=4 tag:vocals"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Library.SaveCollection(xmp.Collection{Name: "bad", Query: "ratng>3"}); err == nil {
		t.Error("a collection with a bad query was saved")
	}
	five := 5
	marks, err := e.Library.Mark(id, []string{"vocals/lead.mp3", "vocals/take1.wav"}, library.MarkChange{Rating: &five, AddTags: []string{"vocals"}})
	if err != nil || marks["vocals/take1.wav"].Rating != 5 {
		t.Fatalf("Mark = %v %v", marks, err)
	}
	waitFor("rating>=4 tag:vocals", []string{"vocals/lead.mp3", "vocals/take1.wav"})
	colls, err := e.Library.Collections()
	if err != nil || len(colls) != 1 || colls[0].ID != c.ID || colls[0].Count != 2 {
		t.Fatalf("Collections = %+v %v", colls, err)
	}
	// the sidecar holds the marks for other programs
	sc := filepath.Join(proj, "vocals", "lead.mp3.xmp")
	doc, err := os.ReadFile(sc)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := xmp.Parse(doc); m.Rating != 5 || !slices.Equal(m.Tags, []string{"vocals"}) {
		t.Fatalf("the sidecar holds %+v", m)
	}
	if slices.Contains(find(""), "vocals/lead.mp3.xmp") {
		t.Error("a sidecar is listed as a file of the Library")
	}
	// another program edits the sidecar: the watcher merges it
	time.Sleep(20 * time.Millisecond) // a later modification time than the store's
	// as darktable would, through a real XMP writer (scripts/deps.sh test installs exiftool)
	out, err := exec.Command("exiftool", "-q", "-overwrite_original", "-XMP-xmp:Rating=2", "-XMP-dc:Subject+=from darktable", sc).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool (Debian libimage-exiftool-perl): %v %s", err, out)
	}
	waitFor("tag:\"from darktable\" rating:2", []string{"vocals/lead.mp3"})
	waitFor("rating>=4 tag:vocals", []string{"vocals/take1.wav"})

	// a new matching file joins the collection
	testmedia.Lame(t, wav, filepath.Join(proj, "vocals", "double.mp3"), "--tt", "Night Drive double")
	waitFor(`"drive double"`, []string{"vocals/double.mp3"})
	if _, err := e.Library.Mark(id, []string{"vocals/double.mp3"}, library.MarkChange{Rating: &five, AddTags: []string{"Vocals"}}); err != nil {
		t.Fatal(err)
	}
	colls, _ = e.Library.Collections()
	if colls[0].Count != 2 {
		t.Fatalf("the collection holds %d files, want 2", colls[0].Count)
	}
	// errors say what to do
	if _, err := e.Library.Query(id, "tempo>fast", "", 0, 10); err == nil || !strings.Contains(err.Error(), "bpm takes a number") {
		t.Errorf("a bad query: %v", err)
	}
	if _, err := e.Library.Query(id, "", "colour", 0, 10); err == nil || !strings.Contains(err.Error(), "cannot sort by") {
		t.Errorf("a bad sort: %v", err)
	}
	nine := 9
	if _, err := e.Library.Mark(id, []string{"vocals/lead.mp3"}, library.MarkChange{Rating: &nine}); err == nil {
		t.Error("a rating of 9 was accepted")
	}
	if _, err := e.Library.Mark(id, []string{"nope.wav"}, library.MarkChange{Rating: &five}); err == nil {
		t.Error("a file that is not indexed was marked")
	}
	if ev := seen(); ev[library.MarksEvent] == 0 || ev[library.CollectionEvent] == 0 {
		t.Errorf("events: %v, want marks and collection events", ev)
	}
}
