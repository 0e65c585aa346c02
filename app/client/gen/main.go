// Command gen writes app/client/client_gen.go and
// frontend/src/lib/types/models.gen.ts from the engine's bound services: run
// `go run ./app/client/gen` from the module root after adding, removing or
// changing a bound method or a type it takes or returns (clientgen's tests
// fail until then).
package main

import (
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"atelier/app"
	"atelier/app/client/clientgen"
)

func main() {
	tmp, err := os.MkdirTemp("", "atelier-clientgen-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	e, err := app.Open(app.DirsUnder(tmp), app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	src, err := clientgen.Generate(e.Services(), ".")
	if err != nil {
		e.Close()
		log.Fatal(err)
	}
	models, err := clientgen.GenerateModels(e.Services())
	e.Close()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("app", "client", "client_gen.go"), src, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.FromSlash(clientgen.ModelsPath), models, 0o644); err != nil {
		log.Fatal(err)
	}
}
