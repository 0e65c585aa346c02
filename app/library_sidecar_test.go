package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"atelier/app/library"
	"atelier/app/library/xmp"
)

// TestLibrarySidecarsOutsideProjectWatched: with the project's sidecars kept
// in an outside folder, a mark goes to the sidecar there (not beside the
// file), and an edit another program makes to that sidecar is picked up by
// the Library's watcher of the folder and merged.
func TestLibrarySidecarsOutsideProjectWatched(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "Photos")
	outside := filepath.Join(root, "sidecars")
	os.MkdirAll(filepath.Join(proj, "day one"), 0o755)
	os.WriteFile(filepath.Join(proj, "day one", "notes.txt"), []byte("a note"), 0o644)
	e, id, _ := openWithProject(t, root, proj, Options{Background: true})

	if _, err := e.Library.SetSidecarOptions(id, library.SidecarSettings{Folder: outside, Naming: "ext"}); err != nil {
		t.Fatal(err)
	}
	waitQuery := func(q string, want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			page, err := e.Library.Query(id, q, "name", 0, 10)
			if err == nil && page.Total == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("Query(%q): %d files (%v), want %d", q, page.Total, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitQuery("notes", 1)
	four := 4
	if _, err := e.Library.Mark(id, []string{"day one/notes.txt"}, library.MarkChange{Rating: &four}); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(outside, "day one", "notes.txt.xmp")
	doc, err := os.ReadFile(sc)
	if err != nil {
		t.Fatalf("the sidecar is not in the outside folder: %v", err)
	}
	if m, _ := xmp.Parse(doc); m.Rating != 4 {
		t.Fatalf("the outside sidecar holds %+v", m)
	}
	if _, err := os.Stat(filepath.Join(proj, "day one", "notes.txt.xmp")); err == nil {
		t.Fatal("a sidecar was written into the project folder")
	}
	waitQuery("rating:4", 1)

	// digiKam edits the sidecar in the outside folder (exiftool as its XMP writer)
	time.Sleep(20 * time.Millisecond) // a later modification time than the store's
	out, err := exec.Command("exiftool", "-q", "-overwrite_original", "-XMP-xmp:Rating=2", "-XMP-dc:Subject+=from digikam", sc).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool (Debian libimage-exiftool-perl): %v %s", err, out)
	}
	waitQuery(`rating:2 tag:"from digikam"`, 1)
	waitQuery("rating:4", 0)
}
