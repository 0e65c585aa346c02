package registry

import (
	"testing"
	"time"

	"atelier/signing/trust"
)

func FuzzIndex(f *testing.F) {
	f.Add([]byte(`{"_type":"` + IndexType + `","version":3,"published":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","modules":[{"name":"@a/b","version":"1.0.0","description":"","permissions":[],"archive":"a-b-1.0.0.tgz","sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if idx, err := parseIndex(b, "fuzz"); err == nil {
			idx.Find("@a/b", "")
			idx.Search("b")
		}
		Open(b, "fuzz", trust.Policy{}, State{}, time.Now())
	})
}
