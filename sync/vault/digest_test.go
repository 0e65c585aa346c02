package vault

import "testing"

// The snapshot's digest and the index's agree whatever order the index
// lists files in, and any change of path, size or content changes it.
func TestFilesDigest(t *testing.T) {
	files := []LocalFile{{Path: "b", Size: 2, SHA256: [32]byte{2}}, {Path: "a", Size: 1, SHA256: [32]byte{1}}}
	snap := &Snapshot{Files: []File{
		{Path: "a", Size: 1, SHA256: hexSum([32]byte{1})},
		{Path: "b", Size: 2, SHA256: hexSum([32]byte{2})},
	}}
	if localDigest(files) != snap.digest() {
		t.Fatal("unsorted index and sorted snapshot of the same files digest differently")
	}
	for _, mut := range []func(f *LocalFile){
		func(f *LocalFile) { f.Path = "c" },
		func(f *LocalFile) { f.Size = 3 },
		func(f *LocalFile) { f.SHA256[5] = 1 },
		func(f *LocalFile) { f.SHA256 = [32]byte{} },
	} {
		changed := append([]LocalFile(nil), files...)
		mut(&changed[0])
		if localDigest(changed) == snap.digest() {
			t.Errorf("a change left the digest equal: %+v", changed[0])
		}
	}
}
