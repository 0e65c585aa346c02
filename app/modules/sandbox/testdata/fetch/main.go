//go:build wasip1

// Command fetch fetches each URL given as an argument through Atelier's
// http_get host function and prints what came back.
package main

import (
	"fmt"
	"os"
	"unsafe"
)

//go:wasmimport atelier http_get
func httpGet(url unsafe.Pointer, urlLen uint32, buf unsafe.Pointer, bufCap uint32, result unsafe.Pointer) uint32

func main() {
	for _, u := range os.Args[1:] {
		b := []byte(u)
		buf := make([]byte, 1<<16)
		var res [2]uint32
		code := httpGet(unsafe.Pointer(&b[0]), uint32(len(b)), unsafe.Pointer(&buf[0]), uint32(len(buf)), unsafe.Pointer(&res))
		if code != 0 {
			fmt.Printf("REFUSED %s: code %d\n", u, code)
			continue
		}
		fmt.Printf("GOT %s: %d %q\n", u, res[0], buf[:res[1]])
	}
}
