package vault

import (
	"fmt"
	"testing"
)

// TestTreeCacheBoundsEntries: the tree cache holds at most
// treeCacheMaxEntries entries however many directories a commit wrote (a
// first version of 100,000 files cached all of them), and its count stays
// true through replacing, evicting and clearing.
func TestTreeCacheBoundsEntries(t *testing.T) {
	var c treeCache
	dir := func(n int) *Tree { return &Tree{Entries: make([]TreeEntry, n)} }
	for i := range 200 {
		c.put(fmt.Sprintf("%064d", i), dir(1000))
		sum := 0
		for _, tr := range c.m {
			sum += len(tr.Entries)
		}
		if c.entries != sum || c.entries > treeCacheMaxEntries {
			t.Fatalf("after %d puts: counted %d entries, holds %d (bound %d)", i+1, c.entries, sum, treeCacheMaxEntries)
		}
	}
	if c.get(fmt.Sprintf("%064d", 199)) == nil {
		t.Fatal("the tree put last was evicted")
	}
	c.put(fmt.Sprintf("%064d", 199), dir(10)) // replaced, not counted twice
	big := dir(treeCacheMaxEntries + 1)
	c.put("big", big)
	if c.get("big") != big || len(c.m) != 1 || c.entries != len(big.Entries) {
		t.Fatalf("a directory larger than the bound: cached %v, %d trees, %d entries", c.get("big") != nil, len(c.m), c.entries)
	}
	c.clear()
	if c.entries != 0 || len(c.m) != 0 {
		t.Fatalf("after clear: %d trees, %d entries", len(c.m), c.entries)
	}
	c.put("a", dir(3))
	c.drop()
	if c.entries != 0 || c.m != nil || c.get("a") != nil {
		t.Fatalf("after drop: %d trees, %d entries", len(c.m), c.entries)
	}
	c.put("b", dir(2))
	if c.get("b") == nil || c.entries != 2 {
		t.Fatal("a put after drop was not cached")
	}
}
