package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// Kinds.
const (
	KindTemplate = "template" // a project skeleton: "New project from template"
	KindPreset   = "preset"   // files installed into a folder the creator picks once
	KindAction   = "action"   // a wasip1 program run on a project or a selection
	KindPanel    = "panel"    // a wasip1 program that turns rollups into a chart spec
)

// DefaultMain is the program an action or a panel runs when main is empty.
const DefaultMain = "main.wasm"

// KindRule is what a kind needs and may ask for.
type KindRule struct {
	Description string
	Required    []string // permissions the kind cannot work without
	Allowed     []string // fixed permissions it may also ask for
	Net         bool     // net:HOST permissions allowed
	Folder      bool     // folder:LABEL permissions allowed (exactly one)
}

// Kinds lists every kind with its permission rule. A permission outside a
// kind's rule is refused when the manifest is read, so it can never be granted.
var Kinds = map[string]KindRule{
	KindTemplate: {Description: "a project skeleton copied into a new project folder"},
	KindPreset:   {Description: "files installed into a folder you pick once", Folder: true},
	KindAction: {
		Description: "a program run in the sandbox on a project or a selection of its files",
		Required:    []string{PermScriptRun},
		Allowed:     []string{PermProjectRead, PermModuleWrite, PermPreviewsRead},
		Net:         true,
	},
	KindPanel: {
		Description: "a program run in the sandbox that draws a dashboard chart from analytics rollups",
		Required:    []string{PermScriptRun},
		Allowed:     []string{PermAnalyticsRead},
		Net:         true,
	},
}

// KindNames lists the kinds, sorted.
func KindNames() []string {
	out := make([]string, 0, len(Kinds))
	for k := range Kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Runs reports whether the module is a program the sandbox runs.
func (m Manifest) Runs() bool { return m.Kind == KindAction || m.Kind == KindPanel }

// Program is the path of the program an action or a panel runs.
func (m Manifest) Program() string {
	if m.Main == "" {
		return DefaultMain
	}
	return m.Main
}

// Has reports whether the manifest requests permission p.
func (m Manifest) Has(p string) bool {
	for _, q := range m.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// Hosts lists the hosts of the net:HOST permissions.
func (m Manifest) Hosts() []string {
	var out []string
	for _, p := range m.Permissions {
		if h, ok := strings.CutPrefix(p, PermNetworkPrefix); ok {
			out = append(out, h)
		}
	}
	return out
}

// checkKind checks the permissions against the kind's rule. A manifest
// without a kind keeps the rule it always had (any permission of the
// vocabulary except folder:, which only a preset has).
func checkKind(kind string, perms []string) error {
	if kind == "" {
		for _, p := range perms {
			if strings.HasPrefix(p, PermFolderPrefix) {
				return fmt.Errorf("permission %q: only a module of kind preset installs into a folder; add \"kind\": \"preset\"", p)
			}
		}
		return nil
	}
	rule, ok := Kinds[kind]
	if !ok {
		return fmt.Errorf("kind %q is not one of %s", kind, strings.Join(KindNames(), ", "))
	}
	have := map[string]bool{}
	folders := 0
	for _, p := range perms {
		have[p] = true
		switch {
		case strings.HasPrefix(p, PermNetworkPrefix):
			if !rule.Net {
				return fmt.Errorf("permission %q: a %s does not use the network; remove it", p, kind)
			}
		case strings.HasPrefix(p, PermFolderPrefix):
			if !rule.Folder {
				return fmt.Errorf("permission %q: only a preset installs into a folder; remove it", p)
			}
			folders++
		case !contains(rule.Required, p) && !contains(rule.Allowed, p):
			may := append(append([]string{}, rule.Required...), rule.Allowed...)
			if rule.Net {
				may = append(may, "net:HOST")
			}
			if len(may) == 0 {
				return fmt.Errorf("permission %q: a %s asks for no permissions; remove it", p, kind)
			}
			return fmt.Errorf("permission %q is not one a %s may ask for (%s); remove it", p, kind, strings.Join(may, ", "))
		}
	}
	for _, r := range rule.Required {
		if !have[r] {
			return fmt.Errorf("a %s needs permission %q (%s); add it to permissions", kind, r, Describe(r))
		}
	}
	if rule.Folder && folders != 1 {
		return fmt.Errorf("a preset names exactly one folder permission, e.g. \"folder:daw-presets\" (it has %d)", folders)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkMain refuses a program path that is not a clean relative path to a
// .wasm file inside the module.
func checkMain(p string) error {
	bad := p == "" || len(p) > 255 || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || !strings.HasSuffix(p, ".wasm")
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("main %q must be a relative path to a .wasm file inside the module, e.g. %s", p, DefaultMain)
	}
	return nil
}
