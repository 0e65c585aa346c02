// Command release-check is the studio's release check, an action module:
// every master at the target loudness, no clipping, consistent sample rates,
// cover art present and at least 3000 × 3000. It prints the report and
// writes release-check.json into its output folder.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"atelier/modules/internal/studio"
	"atelier/modules/release-check/check"
)

func main() {
	env := studio.FromArgs()
	rep, err := check.Run(context.Background(), env, check.Defaults)
	if err != nil {
		fmt.Fprintln(os.Stderr, "release check:", err)
		os.Exit(1)
	}
	fmt.Print(rep.Text())
	if env.Out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := env.Write("release-check.json", append(b, '\n')); err != nil {
			fmt.Fprintln(os.Stderr, "release check: write release-check.json:", err)
			os.Exit(1)
		}
	}
}
