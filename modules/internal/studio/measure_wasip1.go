//go:build wasip1

package studio

import (
	"context"
	"fmt"
	"path"
	"unsafe"

	"atelier/app/modules/sandbox/measurewire"
)

// hostMeasure is the sandbox's measure host function (package
// app/modules/sandbox): Atelier decodes and measures a file of the project
// natively and answers a measurewire record, which costs a fraction of
// decoding inside WebAssembly. It needs permission project:read.
//
//go:wasmimport atelier measure
func hostMeasure(path unsafe.Pointer, pathLen uint32, buf unsafe.Pointer, bufCap uint32, resultLen unsafe.Pointer) uint32

var measureBuf = make([]byte, 16<<10)

// Measure asks Atelier to decode an audio file once and measure its loudness
// (EBU R128).
func (e Env) Measure(ctx context.Context, rel string) Measure {
	m := Measure{Path: rel}
	if err := ctx.Err(); err != nil {
		m.Error = err.Error()
		return m
	}
	p := []byte(path.Join(e.Project, rel))
	if len(p) == 0 {
		m.Error = "empty path"
		return m
	}
	for tries := 0; tries < 3; tries++ {
		var n uint32
		code := hostMeasure(unsafe.Pointer(&p[0]), uint32(len(p)), unsafe.Pointer(&measureBuf[0]), uint32(len(measureBuf)), unsafe.Pointer(&n))
		switch code {
		case 0:
			w, err := measurewire.Decode(measureBuf[:n])
			if err != nil {
				m.Error = fmt.Sprintf("%s: the measurement could not be read: %v", rel, err)
				return m
			}
			m.Info, m.Loudness, m.Error = w.Info, w.Loudness, w.Error
			return m
		case 2: // the answer is n bytes: a bigger buffer
			measureBuf = make([]byte, n)
		case 1:
			m.Error = fmt.Sprintf("%s: the sandbox refused to measure it (not a file this run was given)", rel)
			return m
		default:
			m.Error = fmt.Sprintf("%s: measure failed (code %d)", rel, code)
			return m
		}
	}
	m.Error = fmt.Sprintf("%s: measure failed (answer too big)", rel)
	return m
}
