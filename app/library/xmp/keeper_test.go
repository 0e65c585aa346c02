package xmp

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"atelier/localdb"
)

func TestKeeper(t *testing.T) {
	db, err := localdb.Open("", localdb.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	root := t.TempDir()
	for _, f := range []string{"a.wav", "b.wav", "photo.jpg", "photo.CR2"} {
		os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644)
	}
	now := time.Now().Add(-time.Hour)
	k := &Keeper{Store: NewStore(db), Sidecars: func(string) (Sidecars, error) { return Sidecars{Root: root}, nil }, Now: func() time.Time { return now }}

	// an edit in Atelier: stored and written to the sidecars
	got, err := k.Edit("p", []string{"a.wav", "b.wav"}, func(m Marks) Marks { m.Rating = 4; m.Tags = append(m.Tags, "keeper"); return m })
	if err != nil || got["b.wav"].Rating != 4 {
		t.Fatalf("Edit = %v %v", got, err)
	}
	if m := exifRead(t, filepath.Join(root, "a.wav.xmp")); m.Rating != 4 || len(m.Tags) != 1 {
		t.Fatalf("the sidecar holds %+v", m)
	}
	// the watcher then sees our own write: nothing changes
	if ch, err := k.SidecarChanged("p", "a.wav.xmp", []string{"a.wav", "b.wav"}); err != nil || len(ch) != 0 {
		t.Fatalf("our own sidecar write merged as a change: %v %v", ch, err)
	}
	// darktable (here exiftool) edits the sidecar later: it wins
	exiftool(t, "-q", "-overwrite_original", "-XMP-xmp:Rating=2", "-XMP-dc:Subject+=from darktable", filepath.Join(root, "a.wav.xmp"))
	ch, err := k.SidecarChanged("p", "a.wav.xmp", []string{"a.wav", "b.wav"})
	if err != nil || ch["a.wav"].Rating != 2 || len(ch["a.wav"].Tags) != 2 {
		t.Fatalf("an outside edit: %v %v", ch, err)
	}
	if e, _, _ := k.Store.Get("p", "a.wav"); e.Rating != 2 || e.Source != "sidecar" {
		t.Fatalf("the store holds %+v", e)
	}
	// a sidecar older than a later edit in Atelier loses
	old := now.Add(-time.Hour)
	os.Chtimes(filepath.Join(root, "b.wav.xmp"), old, old)
	if ch, _ := k.SidecarChanged("p", "b.wav.xmp", []string{"b.wav"}); len(ch) != 0 {
		t.Fatalf("an older sidecar won: %v", ch)
	}
	// a project moved in from another machine: its file.xmp sidecars are imported
	os.WriteFile(filepath.Join(root, "photo.xmp"), New(Marks{Rating: 5, Label: "Purple"}), 0o644)
	ch, err = k.Import("p", []string{"photo.jpg", "photo.CR2", "a.wav"})
	if err != nil || ch["photo.jpg"].Rating != 5 || ch["photo.CR2"].Label != "Purple" || len(ch) != 2 {
		t.Fatalf("Import = %v %v", ch, err)
	}
	// sidecars that cannot be written are reported, the store keeps the edit
	k.Sidecars = func(string) (Sidecars, error) { return Sidecars{Root: root, Dir: "/proc/forbidden"}, nil }
	if _, err := k.Edit("p", []string{"b.wav"}, func(m Marks) Marks { m.Rating = 1; return m }); err == nil {
		t.Fatal("a sidecar that could not be written was not reported")
	}
	if e, _, _ := k.Store.Get("p", "b.wav"); e.Rating != 1 {
		t.Fatalf("the store lost the edit: %+v", e)
	}
}
