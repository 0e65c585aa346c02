package meta

import (
	"os"
	"path/filepath"
	"testing"

	"atelier/localdb"
)

func TestCache(t *testing.T) {
	db, err := localdb.Open("", localdb.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := NewCache(db)
	dir := media(t)
	tool(t, dir, "lame", "--quiet", "--tt", "Cached", "--ti", "cover.jpg", "tone.wav", "a.mp3")
	p := filepath.Join(dir, "a.mp3")
	e, err := c.Extract("h1", p)
	if err != nil || e.Meta.Title != "Cached" || len(e.Meta.Cover) == 0 || e.Version != Version {
		t.Fatalf("Extract = %+v %v", e.Meta.Title, err)
	}
	// the second time comes from the cache (the file is gone), without the cover
	os.Remove(p)
	e, err = c.Extract("h1", p)
	if err != nil || e.Meta.Title != "Cached" || e.Meta.Cover != nil || !e.Meta.HasCover {
		t.Fatalf("cached Extract = %+v %v", e, err)
	}
	// an unreadable file is remembered as such, not retried on every listing
	bad := filepath.Join(dir, "bad.mp3")
	os.WriteFile(bad, append([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), make([]byte, 100)...), 0o644)
	e, err = c.Extract("h2", bad)
	if err != nil || e.Error == "" {
		t.Fatalf("a damaged tag: %+v %v", e, err)
	}
	if _, ok, _ := c.Get("h2"); !ok {
		t.Fatal("the failure was not cached")
	}
	seen := 0
	c.Each(func(string, Entry) { seen++ })
	if seen != 2 {
		t.Fatalf("Each saw %d entries, want 2", seen)
	}
	n, err := c.Forget(func(h string) bool { return h == "h1" })
	if err != nil || n != 1 {
		t.Fatalf("Forget = %d %v", n, err)
	}
	if _, ok, _ := c.Get("h2"); ok {
		t.Fatal("a forgotten hash is still cached")
	}
}
