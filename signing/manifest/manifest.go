// Package manifest reads and checks atelier-module.json, the manifest every
// module carries: its name, version, kind, description, license, author and
// the permissions it requests from a fixed vocabulary.
//
// A kind says what the module is for and which permissions it may ask for:
// a template is a project skeleton, a preset is files installed into a folder
// the creator picks, an action is a WebAssembly program run on a project, and
// a panel is a WebAssembly program that turns analytics rollups into a chart.
// A manifest without a kind (every manifest written before kinds existed) is
// a plain file module: it is checked against the vocabulary as before and
// packs to the same bytes as before.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/mod/semver"

	"atelier/signing/internal/strictjson"
)

// FileName is the manifest's name at the root of a module folder and archive.
const FileName = "atelier-module.json"

// MaxSize caps a manifest: a real one is a few hundred bytes.
const MaxSize = 64 << 10

// Manifest is atelier-module.json.
type Manifest struct {
	Name    string `json:"name"`    // @publisher/name
	Version string `json:"version"` // semver, e.g. 1.2.0
	// Kind is template, preset, action or panel; empty for a plain file
	// module (the default, and every manifest written before kinds).
	Kind string `json:"kind,omitempty"`
	// Main is the WebAssembly program (wasip1) an action or a panel runs,
	// a slash-separated path inside the module; empty means DefaultMain.
	Main        string   `json:"main,omitempty"`
	Description string   `json:"description"`
	License     string   `json:"license"` // SPDX expression
	Author      string   `json:"author"`
	Permissions []string `json:"permissions"`
}

// Permission vocabulary. Network permissions name their host: "net:example.com".
const (
	PermProjectRead    = "project:read"      // read the files of the project it runs in
	PermModuleWrite    = "module:write"      // write inside its own folder
	PermScriptRun      = "script:run"        // run a script it ships
	PermAnalyticsRead  = "analytics:rollups" // read local analytics rollups (never raw events)
	PermPreviewsRead   = "previews:read"     // read rendered previews
	PermNetworkPrefix  = "net:"              // network to one listed host
	PermFolderPrefix   = "folder:"           // preset: install into the folder the creator picks for LABEL
	maxPermissions     = 64
	maxDescriptionSize = 4096
)

// Vocabulary describes every fixed permission, for consent dialogs.
var Vocabulary = map[string]string{
	PermProjectRead:   "read the files of the current project",
	PermModuleWrite:   "write inside its own module folder (for an action: its output folder)",
	PermScriptRun:     "run a program it ships, in the sandbox",
	PermAnalyticsRead: "read local analytics rollups",
	PermPreviewsRead:  "read rendered previews",
}

var (
	nameRE  = regexp.MustCompile(`^@[a-z0-9][a-z0-9-]{0,38}/[a-z0-9][a-z0-9._-]{0,63}$`)
	labelRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	hostRE  = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$`)
)

// Describe explains a permission in words for the consent dialog.
func Describe(p string) string {
	if d, ok := Vocabulary[p]; ok {
		return d
	}
	if h, ok := strings.CutPrefix(p, PermNetworkPrefix); ok {
		return "connect to " + h
	}
	if l, ok := strings.CutPrefix(p, PermFolderPrefix); ok {
		return "install files into the folder you choose for " + l
	}
	return "unknown permission"
}

// Parse strictly decodes and validates a manifest (what names it in errors).
func Parse(data []byte, what string) (Manifest, error) {
	var m Manifest
	if err := strictjson.Decode(data, MaxSize, what, &m); err != nil {
		return Manifest{}, err
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", what, err)
	}
	return m, nil
}

// Validate checks every field.
func (m Manifest) Validate() error {
	if !nameRE.MatchString(m.Name) {
		return fmt.Errorf("name %q must look like @publisher/name (lowercase letters, digits, '-', '.', '_')", m.Name)
	}
	if !ValidVersion(m.Version) {
		return fmt.Errorf("version %q is not semantic versioning MAJOR.MINOR.PATCH (e.g. 1.0.0)", m.Version)
	}
	if len(m.Description) > maxDescriptionSize {
		return fmt.Errorf("description is longer than %d bytes", maxDescriptionSize)
	}
	if strings.TrimSpace(m.License) == "" {
		return fmt.Errorf("license is empty: give an SPDX identifier such as CC-BY-4.0 or MIT")
	}
	if len(m.Permissions) > maxPermissions {
		return fmt.Errorf("%d permissions requested; at most %d", len(m.Permissions), maxPermissions)
	}
	seen := map[string]bool{}
	for _, p := range m.Permissions {
		if err := CheckPermission(p); err != nil {
			return err
		}
		if seen[p] {
			return fmt.Errorf("permission %q is listed twice", p)
		}
		seen[p] = true
	}
	if m.Main != "" && m.Kind != KindAction && m.Kind != KindPanel {
		return fmt.Errorf("main %q: only an action or a panel runs a program; remove main or set kind", m.Main)
	}
	if m.Main != "" {
		if err := checkMain(m.Main); err != nil {
			return err
		}
	}
	return checkKind(m.Kind, m.Permissions)
}

// CheckPermission refuses anything outside the vocabulary.
func CheckPermission(p string) error {
	if _, ok := Vocabulary[p]; ok {
		return nil
	}
	if h, ok := strings.CutPrefix(p, PermNetworkPrefix); ok {
		if hostRE.MatchString(h) && len(h) <= 253 {
			return nil
		}
		return fmt.Errorf("permission %q: network permissions name one lowercase host, e.g. net:example.com", p)
	}
	if l, ok := strings.CutPrefix(p, PermFolderPrefix); ok {
		if labelRE.MatchString(l) {
			return nil
		}
		return fmt.Errorf("permission %q: a folder permission names the folder in lowercase letters, digits and '-', e.g. folder:daw-presets", p)
	}
	known := make([]string, 0, len(Vocabulary)+1)
	for k := range Vocabulary {
		known = append(known, k)
	}
	sort.Strings(known)
	known = append(known, "net:HOST", "folder:LABEL")
	return fmt.Errorf("unknown permission %q: use one of %s", p, strings.Join(known, ", "))
}

// ValidVersion reports whether v is MAJOR.MINOR.PATCH[-pre][+build] semver.
func ValidVersion(v string) bool {
	if strings.HasPrefix(v, "v") || len(v) > 128 {
		return false
	}
	cv := "v" + v
	return semver.IsValid(cv) && semver.Canonical(cv) == "v"+strings.SplitN(v, "+", 2)[0]
}

// Compare orders two versions like semver (-1, 0, +1).
func Compare(a, b string) int { return semver.Compare("v"+a, "v"+b) }

// Marshal writes m canonically (indented, stable field order, trailing newline).
func (m Manifest) Marshal() []byte {
	if m.Permissions == nil {
		m.Permissions = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m)
	return buf.Bytes()
}

// Added lists the permissions in next that prev lacks (an escalation), sorted.
func Added(prev, next []string) []string {
	have := map[string]bool{}
	for _, p := range prev {
		have[p] = true
	}
	var out []string
	for _, p := range next {
		if !have[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Publisher is the "@publisher" part of a module name.
func Publisher(name string) string {
	if i := strings.IndexByte(name, '/'); i > 0 {
		return name[:i]
	}
	return name
}
