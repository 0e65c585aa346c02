// Command listening-panel is the studio's panel module: it prints a chart
// spec (JSON) of the audience metrics for the Privacy dashboard.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"atelier/modules/listening-panel/panel"
)

func main() {
	c, err := panel.Make(os.Getenv("ATELIER_ROLLUPS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listening panel:", err)
		os.Exit(1)
	}
	b, _ := json.Marshal(c)
	fmt.Println(string(b))
}
