//go:build tools

// Package tools pins the cosign CLI used by Atelier's interoperability tests.
// It is its own module so cosign's dependencies stay out of the app's go.mod.
// Build: cd tools/cosign && go build -o ../../.cache/bin/cosign github.com/sigstore/cosign/v2/cmd/cosign
package tools

import _ "github.com/sigstore/cosign/v2/cmd/cosign"
