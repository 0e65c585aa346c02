package app

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	syncsvc "atelier/app/sync"

	"atelier/app/api"
	"atelier/app/apierr"
	"atelier/localdb"
)

// clientSources are where the clients of the service surface live: the CLI
// (through the typed client app/client: cl.Sync.Restore(ctx, ...)), the
// frontend ("Sync.Restore" through the Bridge), the end-to-end suites, and
// the Go tests (which may call a bound method directly, e.Sync.Restore(...)).
// app/client itself is not a client: it has a method for every route.
var clientSources = []struct {
	dir  string
	exts []string
}{
	{"../cmd/atelier", []string{".go"}},
	{"../frontend/src", []string{".ts", ".svelte"}},
	{"../frontend/e2e", []string{".mjs", ".js", ".ts"}},
	{"../e2e", []string{".go"}},
	{"../main.go", []string{".go"}}, // the desktop's second instance focuses the first
	{"desktop", []string{".go"}},    // the desktop's tray status and quit notice
	{".", []string{"_test.go"}},
}

// TestEveryMethodHasAClient is the surface's contract: every route the
// registry serves (the methods Wails, the local API and the CLI share) is
// called by some client, by its "Service.Method" name or, in Go, as
// .Service.Method( on the typed client or the service itself. A method
// nobody calls is a dead public route: unexport it, or move it off the
// bound type.
func TestEveryMethodHasAClient(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	defer e.Close()
	var text strings.Builder
	for _, src := range clientSources {
		err := filepath.WalkDir(src.dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "node_modules" || d.Name() == "dist" {
					return filepath.SkipDir
				}
				if src.dir == "." && p != "." {
					return filepath.SkipDir // app's own tests only
				}
				return nil
			}
			for _, ext := range src.exts {
				if strings.HasSuffix(p, ext) && p != "contract_test.go" {
					b, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					text.Write(b)
					text.WriteByte('\n')
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("read the clients in %s: %v", src.dir, err)
		}
	}
	all := text.String()
	methods := api.NewRegistry(e.Services()).Methods()
	if len(methods) < 50 {
		t.Fatalf("the registry serves only %d methods: %v", len(methods), methods)
	}
	var dead []string
	for _, m := range methods {
		svc, name, _ := strings.Cut(m, ".")
		quoted := regexp.MustCompile("[\"'`]" + regexp.QuoteMeta(m) + "[\"'`]")
		direct := regexp.MustCompile(`\.` + svc + `\.` + name + `\(`)
		if !quoted.MatchString(all) && !direct.MatchString(all) {
			dead = append(dead, m)
		}
	}
	sort.Strings(dead)
	if len(dead) > 0 {
		t.Errorf("no client (cmd/atelier, frontend/src, e2e, app tests) calls these bound methods: %s\nunexport them, or call them from a client", strings.Join(dead, ", "))
	}
}

// TestErrorKindsThroughTheAPI asserts the kinds of the common refusals, as
// the local API answers them (status and "kind") and as the in-process
// services return them.
func TestErrorKindsThroughTheAPI(t *testing.T) {
	e := openEngine(t, DirsUnder(t.TempDir()), false)
	defer e.Close()
	h := api.Handler(api.NewRegistry(e.Services()), api.NewHub(), "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	empty := t.TempDir()
	full := t.TempDir()
	writeFile(t, filepath.Join(full, "song.wav"), "not really")
	for _, c := range []struct {
		method, body string
		status       int
		kind         apierr.Kind
		ui           bool // an app wording travels beside the CLI's
	}{
		{"Projects.Rescan", `["nope"]`, 404, apierr.NotFound, false},
		{"Sync.Rules", `["nope"]`, 404, apierr.NotFound, false},
		{"Modules.Remove", `["nope", false]`, 404, apierr.NotFound, false},
		{"Projects.Nope", `[]`, 404, apierr.NotFound, false},
		{"Projects.Rescan", `[1, 2]`, 400, apierr.InvalidInput, false},
		{"Projects.Rescan", `[1]`, 400, apierr.InvalidInput, false},
		{"Sync.SetDevice", `["a/b"]`, 400, apierr.InvalidInput, false},
		{"Privacy.Grant", `["no-such-purpose", "cli"]`, 400, apierr.InvalidInput, false},
		{"Sync.Restore", `["p", "` + empty + `", "", {}]`, 403, apierr.NeedsConsent, true},
		{"Privacy.ExperimentCreate", `[{"name": "price"}]`, 403, apierr.NeedsConsent, true},
		{"Privacy.ExperimentShow", `["nope"]`, 404, apierr.NotFound, false},
		{"Projects.Add", `["` + full + `"]`, 200, "", false},
		{"Projects.Add", `["` + full + `"]`, 409, apierr.Conflict, false},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/call/"+c.method, strings.NewReader(c.body)))
		var rep api.Reply
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatalf("%s: %s: %v", c.method, rec.Body, err)
		}
		if rec.Code != c.status || rep.Kind != string(c.kind) || (rep.UI != "") != c.ui {
			t.Errorf("%s %s: got %d %+v, want %d kind %q (app wording %v)", c.method, c.body, rec.Code, rep, c.status, c.kind, c.ui)
		}
		if c.ui && (strings.Contains(rep.UI, "`") || strings.Contains(rep.UI, "--")) {
			t.Errorf("%s: the app wording still reads like the CLI: %q", c.method, rep.UI)
		}
	}
	// In process, the same errors.Is.
	if err := e.Projects.Remove("nope"); !errors.Is(err, apierr.NotFound) || err.Error() != `no project "nope": see `+"`atelier project list`"+` for the registered ones` {
		t.Errorf("Projects.Remove: %v", err)
	}
}

// A data directory in use by another engine is Locked (HTTP 423), and still
// localdb.ErrLocked with its message.
func TestLockedDataDirKind(t *testing.T) {
	d := DirsUnder(t.TempDir())
	e := openEngine(t, d, false)
	defer e.Close()
	_, err := Open(d, Options{})
	if !errors.Is(err, apierr.Locked) || apierr.KindOf(err).Status() != http.StatusLocked || !errors.Is(err, localdb.ErrLocked) {
		t.Fatalf("second open: %v (kind %s)", err, apierr.KindOf(err))
	}
}

// Restore's refusals: a non-empty folder or the live project is a Conflict
// whose app wording names the folder without the CLI's flag; an unknown
// snapshot is NotFound. The CLI's messages are unchanged.
func TestRestoreRefusalKinds(t *testing.T) {
	e, _ := syncEngine(t, "studio", "file://"+filepath.ToSlash(t.TempDir()))
	root := filepath.Join(t.TempDir(), "album")
	id, _ := syncedProject(t, e, root, map[string]string{"mix.wav": "mix v1"})
	other := t.TempDir()
	writeFiles(t, other, map[string]string{"notes.txt": "someone else's notes"})
	for _, dir := range []string{root, other} {
		_, err := e.Sync.Restore(id, dir, "", syncsvc.RestoreOptions{})
		ui := apierr.UIMessage(err)
		if !errors.Is(err, apierr.Conflict) || !strings.Contains(err.Error(), "--overwrite") {
			t.Errorf("restore into %s: %v (kind %s)", dir, err, apierr.KindOf(err))
		}
		if !strings.Contains(ui, dir) || !strings.Contains(ui, "refused, nothing was written") || strings.Contains(ui, "--") || strings.Contains(ui, "`") {
			t.Errorf("restore into %s: app wording %q", dir, ui)
		}
	}
	_, err := e.Sync.Restore(id, t.TempDir(), "ffffffffffff", syncsvc.RestoreOptions{})
	if !errors.Is(err, apierr.NotFound) || !strings.Contains(err.Error(), `no snapshot "ffffffffffff"`) {
		t.Errorf("unknown snapshot: %v (kind %s)", err, apierr.KindOf(err))
	}
	if _, err := e.Sync.Restore(id, "", "", syncsvc.RestoreOptions{}); !errors.Is(err, apierr.InvalidInput) || strings.Contains(apierr.UIMessage(err), "--to") {
		t.Errorf("no target: %v (ui %q)", err, apierr.UIMessage(err))
	}
}
