package main

import (
	"encoding/json"
	"io"
	"os"
	"text/tabwriter"
)

// printJSON writes v as indented JSON to stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// output prints v as JSON with --json, and otherwise calls human.
func output(gopts *globalOptions, v any, human func(w io.Writer)) error {
	if gopts.json {
		return printJSON(v)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	human(tw)
	return tw.Flush()
}

// optionalArg is the single optional positional argument ("" when absent);
// cobra.MaximumNArgs(1) guards the count.
func optionalArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return ""
}
