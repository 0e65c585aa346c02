package manifest

import "testing"

func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"name":"@alice/reverb","version":"1.0.0","description":"d","license":"MIT","author":"A","permissions":["project:read","net:example.com"]}`))
	f.Add([]byte(`{"name":"@a/b","name":"@a/c"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz")
		if err != nil {
			return
		}
		again, err := Parse(m.Marshal(), "again")
		if err != nil || again.Name != m.Name || again.Version != m.Version {
			t.Fatalf("round trip of %q: %v", b, err)
		}
	})
}
