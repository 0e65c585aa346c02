package clientgen

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/app"
	"atelier/app/api"
)

// The typed client is the registry's, method for method: client_gen.go is
// what Generate writes from the engine's services today. A bound method
// added, removed or changed without `go run ./app/client/gen` fails here.
func TestClientIsCurrent(t *testing.T) {
	e, err := app.Open(app.DirsUnder(t.TempDir()), app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want, err := Generate(e.Services(), filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join("..", "client_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatal("app/client/client_gen.go is stale: run `go run ./app/client/gen` from the module root")
	}
	// every route but the skipped services has its typed method
	for _, m := range api.NewRegistry(e.Services()).Methods() {
		svc, name, _ := strings.Cut(m, ".")
		if Skip[svc] {
			continue
		}
		if !bytes.Contains(want, []byte("func (x "+svc+"Client) "+name+"(ctx context.Context")) {
			t.Errorf("no typed client method for %s", m)
		}
	}
}

// models.gen.ts is what GenerateModels writes from the engine's services
// today: a bound type changed without `go run ./app/client/gen` fails here.
func TestModelsAreCurrent(t *testing.T) {
	e, err := app.Open(app.DirsUnder(t.TempDir()), app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want, err := GenerateModels(e.Services())
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join("..", "..", "..", filepath.FromSlash(ModelsPath)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Fatalf("%s is stale: run `go run ./app/client/gen` from the module root", ModelsPath)
	}
	again, _ := GenerateModels(e.Services())
	if !bytes.Equal(again, want) {
		t.Fatal("GenerateModels is not deterministic")
	}
}

type tsInner struct {
	Shared string `json:"shared"`
	Deep   int    `json:"deep"`
}

type TsBase struct {
	tsInner
	ID     string `json:"id"`
	Shared string `json:"shared"` // shallower: wins over tsInner's
}

type tsSample struct {
	TsBase
	*tsPtrEmbed
	When    time.Time        `json:"when"`
	Blob    []byte           `json:"blob"`
	Tags    map[string][]int `json:"tags,omitempty"`
	Next    *tsInner         `json:"next"`
	Maybe   *tsInner         `json:"maybe,omitempty"`
	Hidden  string           `json:"-"`
	Dash    string           `json:"-,"`
	Plain   bool
	Count   int64 `json:"count,string"`
	private int
	List    []*tsInner `json:"list"`
	Anon    struct {
		A int `json:"a"`
	} `json:"anon"`
}

type tsPtrEmbed struct {
	Via string `json:"via,omitempty"`
}

// The models follow encoding/json: tags, omitempty, `-`, embedded structs
// flattened (shallower fields win), time and []byte as strings, maps as
// Records, pointers nullable unless optional.
func TestModelsShape(t *testing.T) {
	svc := tsService{}
	got, err := GenerateModels(map[string]any{"S": svc})
	if err != nil {
		t.Fatal(err)
	}
	want := `
/** atelier/app/client/clientgen.tsInner */
export interface tsInner {
  shared: string
  deep: number
}

/** atelier/app/client/clientgen.tsSample */
export interface tsSample {
  deep: number
  id: string
  shared: string
  via?: string
  when: string
  blob: string
  tags?: Record<string, number[]>
  next: tsInner | null
  maybe?: tsInner
  "-": string
  Plain: boolean
  count: string
  list: (tsInner | null)[]
  anon: { a: number }
}
`
	if _, body, _ := strings.Cut(string(got), "stale.\n"); body != want {
		t.Errorf("models:\n%s\nwant:\n%s", body, want)
	}
	// the JSON encoding/json writes has exactly those keys
	raw, _ := json.Marshal(tsSample{tsPtrEmbed: &tsPtrEmbed{Via: "v"}, Tags: map[string][]int{"a": {1}}, Maybe: &tsInner{}})
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k := range m {
		if !strings.Contains(string(got), "\n  "+k+":") && !strings.Contains(string(got), "\n  "+k+"?:") && !strings.Contains(string(got), "\n  \""+k+"\":") {
			t.Errorf("key %q written by encoding/json is not in the model", k)
		}
	}
}

type tsService struct{}

func (tsService) Get(ctx context.Context, in tsInner) (tsSample, error) { return tsSample{}, nil }
