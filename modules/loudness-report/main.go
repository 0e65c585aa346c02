// Command loudness-report is the studio's loudness report, an action module:
// it measures every audio file of the project (or the selection) and writes
// loudness.csv and loudness.html into its output folder.
package main

import (
	"context"
	"fmt"
	"os"

	"atelier/modules/internal/studio"
	"atelier/modules/loudness-report/report"
)

func main() {
	env := studio.FromArgs()
	rep, err := report.Run(context.Background(), env)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loudness report:", err)
		os.Exit(1)
	}
	if env.Out == "" {
		fmt.Print(string(rep.CSV()))
		return
	}
	if err := env.Write("loudness.csv", rep.CSV()); err != nil {
		fmt.Fprintln(os.Stderr, "loudness report: write loudness.csv:", err)
		os.Exit(1)
	}
	if err := env.Write("loudness.html", rep.HTML()); err != nil {
		fmt.Fprintln(os.Stderr, "loudness report: write loudness.html:", err)
		os.Exit(1)
	}
	fmt.Print(rep.Summary())
}
