//go:build wasip1

// Command measure asks the measure host function about each path given as an
// argument and prints what came back.
package main

import (
	"fmt"
	"os"
	"unsafe"

	"atelier/app/modules/sandbox/measurewire"
)

//go:wasmimport atelier measure
func measure(path unsafe.Pointer, pathLen uint32, buf unsafe.Pointer, bufCap uint32, resultLen unsafe.Pointer) uint32

func main() {
	buf := make([]byte, 1<<16)
	for _, p := range os.Args[1:] {
		b := []byte(p)
		var n uint32
		code := measure(unsafe.Pointer(&b[0]), uint32(len(b)), unsafe.Pointer(&buf[0]), uint32(len(buf)), unsafe.Pointer(&n))
		if code != 0 {
			fmt.Printf("REFUSED %s: code %d\n", p, code)
			continue
		}
		m, err := measurewire.Decode(buf[:n])
		switch {
		case err != nil:
			fmt.Printf("BAD %s: %v\n", p, err)
		case m.Error != "":
			fmt.Printf("ERROR %s: %s\n", p, m.Error)
		default:
			fmt.Printf("MEASURED %s: %s %d Hz %d ch peak %.1f dBFS\n", p, m.Info.Format, m.Info.SampleRate, m.Info.Channels, m.Loudness.SamplePeak)
		}
	}
}
