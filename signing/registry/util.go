package registry

import (
	"encoding/json"

	"atelier/atomicfile"
)

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", " ") }

func writeAtomic(p string, b []byte) error { return atomicfile.WriteFile(p, b, 0o644) }
