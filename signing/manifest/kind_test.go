package manifest

import (
	"strings"
	"testing"
)

// A manifest written before kinds existed parses and marshals to the very
// same bytes, so its canonical packing (and every signature over it) holds.
func TestManifestWithoutKindPacksAsBefore(t *testing.T) {
	old := "{\n  \"name\": \"@alice/reverb\",\n  \"version\": \"1.0.0\",\n  \"description\": \"d\",\n  \"license\": \"MIT\",\n  \"author\": \"A\",\n  \"permissions\": [\n    \"project:read\",\n    \"script:run\",\n    \"net:example.com\"\n  ]\n}\n"
	m, err := Parse([]byte(old), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != "" || m.Runs() {
		t.Fatalf("kind %q, runs %v: a manifest without kind is a plain file module", m.Kind, m.Runs())
	}
	if got := string(m.Marshal()); got != old {
		t.Fatalf("marshal changed an old manifest:\n%s\nwant\n%s", got, old)
	}
}

func TestKindPermissions(t *testing.T) {
	base := `{"name":"@studio/x","version":"1.0.0","description":"","license":"MIT","author":"",`
	cases := []struct {
		tail string
		want string // "" = valid, else a word of the error
	}{
		{`"kind":"action","permissions":["script:run","project:read","module:write"]}`, ""},
		{`"kind":"action","main":"bin/check.wasm","permissions":["script:run","net:api.example.com"]}`, ""},
		{`"kind":"action","permissions":["project:read"]}`, `needs permission "script:run"`},
		{`"kind":"action","permissions":["script:run","analytics:rollups"]}`, "not one a action may ask for"},
		{`"kind":"action","permissions":["script:run","folder:daw"]}`, "only a preset"},
		{`"kind":"panel","permissions":["script:run","analytics:rollups"]}`, ""},
		{`"kind":"panel","permissions":["script:run","project:read"]}`, "not one a panel may ask for"},
		{`"kind":"template","permissions":[]}`, ""},
		{`"kind":"template","permissions":["script:run"]}`, "asks for no permissions"},
		{`"kind":"template","permissions":["net:example.com"]}`, "does not use the network"},
		{`"kind":"preset","permissions":["folder:daw-presets"]}`, ""},
		{`"kind":"preset","permissions":[]}`, "exactly one folder"},
		{`"kind":"preset","permissions":["folder:a","folder:b"]}`, "exactly one folder"},
		{`"kind":"preset","permissions":["folder:Bad Label"]}`, "lowercase"},
		{`"kind":"plugin","permissions":[]}`, `kind "plugin" is not one of action, panel, preset, template`},
		{`"permissions":["folder:daw"]}`, `add "kind": "preset"`},
		{`"kind":"template","main":"x.wasm","permissions":[]}`, "only an action or a panel"},
		{`"kind":"action","main":"../x.wasm","permissions":["script:run"]}`, "relative path"},
		{`"kind":"action","main":"/x.wasm","permissions":["script:run"]}`, "relative path"},
		{`"kind":"action","main":"x.exe","permissions":["script:run"]}`, "relative path"},
	}
	for _, c := range cases {
		m, err := Parse([]byte(base+c.tail), "m.json")
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.tail, err)
				continue
			}
			again, err := Parse(m.Marshal(), "again")
			if err != nil || again.Kind != m.Kind || again.Main != m.Main {
				t.Errorf("%s: round trip: %v %+v", c.tail, err, again)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.tail, err, c.want)
		}
	}
}

func TestProgramAndHosts(t *testing.T) {
	m := Manifest{Kind: KindAction, Permissions: []string{PermScriptRun, "net:a.example.com", PermProjectRead}}
	if m.Program() != DefaultMain || !m.Runs() || !m.Has(PermProjectRead) || m.Has(PermModuleWrite) {
		t.Fatalf("program %q runs %v", m.Program(), m.Runs())
	}
	if h := m.Hosts(); len(h) != 1 || h[0] != "a.example.com" {
		t.Fatalf("hosts %v", h)
	}
	if d := Describe("folder:daw-presets"); !strings.Contains(d, "daw-presets") {
		t.Fatalf("describe: %q", d)
	}
}
