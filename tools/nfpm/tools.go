//go:build tools

// Package tools pins nfpm, which `make package` builds to make the .deb. It
// lives in its own module so its dependencies stay out of the app's go.mod.
package tools

import _ "github.com/goreleaser/nfpm/v2/cmd/nfpm"
