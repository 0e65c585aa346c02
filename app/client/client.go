// Package client is the typed Go client of the engine's bound services, one
// type per service (ProjectsClient, SyncClient, ...) with the services' own
// method names and types, over one api.Caller: the HTTP client of a running
// engine (api.Dial) or the registry of an engine in this process
// (api.Local). The CLI calls the engine only through it, the way
// Tailscale's CLI uses client/local.
//
// client_gen.go is generated from the registry: run `go run ./app/client/gen`
// from the module root after changing a bound method.
package client

//go:generate sh -c "cd ../.. && go run ./app/client/gen"
