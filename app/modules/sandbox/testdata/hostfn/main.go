//go:build wasip1

// Command hostfn calls a host function no permission grants.
package main

import "fmt"

//go:wasmimport atelier net_dial
func netDial(host uint32) uint32

func main() {
	fmt.Println("LEAK", netDial(1))
}
