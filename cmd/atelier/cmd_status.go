package main

import (
	"context"
	"fmt"
	"io"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/projects"
	"atelier/humanize"
)

// `atelier status`: the engine and every project.

func newStatusCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the engine and every project",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), gopts)
		},
	}
}

func runStatus(ctx context.Context, gopts *globalOptions) error {
	var st projects.Status
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { st, err = cl.Projects.Status(ctx); return }); err != nil {
		return err
	}
	return output(gopts, st, func(w io.Writer) {
		engine := "not running (the CLI opened the data directory itself)"
		if st.Running {
			engine = "running"
		}
		fmt.Fprintf(w, "Atelier %s\tengine %s\n", st.Version, engine)
		fmt.Fprintf(w, "Data\t%s (database %s)\n", st.DataDir, humanize.Bytes(st.DBBytes))
		fmt.Fprintf(w, "Cache\t%s\n", st.CacheDir)
		fmt.Fprintf(w, "Projects\t%d, %d files, %s\n", len(st.Projects), st.Files, humanize.Bytes(st.Bytes))
		for _, p := range st.Projects {
			fmt.Fprintf(w, "  %s\t%s\t%d files\t%s\n", p.ID, projectsState(p), p.Files, humanize.Bytes(p.Bytes))
			if p.Hint != "" {
				fmt.Fprintf(w, "  \t%s\n", p.Hint)
			}
		}
	})
}
