package clientgen

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
