package manifest

import (
	"bytes"
	"testing"
)

func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"name":"@alice/reverb","version":"1.0.0","description":"d","license":"MIT","author":"A","permissions":["project:read","net:example.com"]}`))
	f.Add([]byte(`{"name":"@a/b","name":"@a/c"}`))
	f.Add([]byte(`{"name":"@studio/check","version":"1.0.0","kind":"action","main":"bin/check.wasm","description":"","license":"MIT","author":"","permissions":["script:run","project:read","module:write"]}`))
	f.Add([]byte(`{"name":"@studio/daw","version":"1.0.0","kind":"preset","description":"","license":"MIT","author":"","permissions":["folder:daw-presets"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz")
		if err != nil {
			return
		}
		again, err := Parse(m.Marshal(), "again")
		if err != nil || again.Name != m.Name || again.Version != m.Version || again.Kind != m.Kind || again.Main != m.Main || len(again.Permissions) != len(m.Permissions) {
			t.Fatalf("round trip of %q: %v", b, err)
		}
		if m.Kind == "" && bytes.Contains(m.Marshal(), []byte(`"kind"`)) {
			t.Fatalf("a manifest without kind marshals a kind: %q", b)
		}
	})
}
