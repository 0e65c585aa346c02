package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/index"
	"atelier/app/projects"
	"atelier/humanize"
)

// `atelier project`: add, list, remove and rescan project folders.

func newProjectCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "project", Short: "Add, list and remove project folders"}
	c.AddCommand(
		newProjectAddCommand(gopts),
		newProjectListCommand(gopts),
		newProjectRemoveCommand(gopts),
		newProjectRescanCommand(gopts),
	)
	return c
}

func newProjectAddCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "add FOLDER",
		Short: "Register a project folder and index it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProjectAdd(cmd.Context(), gopts, args[0])
		},
	}
}

func runProjectAdd(ctx context.Context, gopts *globalOptions, folder string) error {
	var p projects.ProjectSummary
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(ctx, folder); return }); err != nil {
		return err
	}
	return output(gopts, p, func(w io.Writer) {
		fmt.Fprintf(w, "Added %s (%s) at %s\n", p.Name, p.ID, p.Root)
		if p.Indexing || p.Watching != "off" {
			fmt.Fprintln(w, "Indexing in the background; `atelier status` shows progress.")
		} else {
			fmt.Fprintf(w, "Indexed %d files, %s.\n", p.Files, humanize.Bytes(p.Bytes))
		}
		projectsPrintProblems(w, p.Problems)
	})
}

func newProjectListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProjectList(cmd.Context(), gopts)
		},
	}
}

func runProjectList(ctx context.Context, gopts *globalOptions) error {
	var ps []projects.ProjectSummary
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { ps, err = cl.Projects.List(ctx); return }); err != nil {
		return err
	}
	return output(gopts, ps, func(w io.Writer) {
		if len(ps) == 0 {
			fmt.Fprintln(w, "No projects yet. Add one with `atelier project add FOLDER`.")
			return
		}
		fmt.Fprintln(w, "ID\tFILES\tSIZE\tLAST CHANGE\tSTATE\tFOLDER")
		for _, p := range ps {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", p.ID, p.Files, humanize.Bytes(p.Bytes), projectsWhen(p.LastChange), projectsState(p), p.Root)
		}
	})
}

type projectRemoveOptions struct {
	yes bool
}

func newProjectRemoveCommand(gopts *globalOptions) *cobra.Command {
	var opts projectRemoveOptions
	c := &cobra.Command{
		Use:   "remove PROJECT",
		Short: "Forget a project (its files are not touched)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProjectRemove(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	return c
}

func runProjectRemove(ctx context.Context, gopts *globalOptions, opts projectRemoveOptions, project string) error {
	if !opts.yes && !confirm(fmt.Sprintf("Forget project %s? Its index and previews go; the folder itself stays.", project)) {
		return fmt.Errorf("not removed (pass --yes to skip the question)")
	}
	if err := do(ctx, gopts, func(cl *client.Client) error { return cl.Projects.Remove(ctx, project) }); err != nil {
		return err
	}
	fmt.Printf("Removed %s.\n", project)
	return nil
}

func newProjectRescanCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rescan PROJECT",
		Short: "Re-examine every file of a project now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProjectRescan(cmd.Context(), gopts, args[0])
		},
	}
}

func runProjectRescan(ctx context.Context, gopts *globalOptions, project string) error {
	var p projects.ProjectSummary
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { p, err = cl.Projects.Rescan(ctx, project); return }); err != nil {
		return err
	}
	return output(gopts, p, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %d files, %s\n", p.ID, p.Files, humanize.Bytes(p.Bytes))
		projectsPrintProblems(w, p.Problems)
	})
}

func projectsState(p projects.ProjectSummary) string {
	switch {
	case p.Indexing && p.Progress.Total > 0:
		return fmt.Sprintf("indexing %d%%", p.Progress.Done*100/p.Progress.Total)
	case p.Indexing:
		return "indexing"
	case len(p.Problems) > 0:
		return fmt.Sprintf("%d problems", len(p.Problems))
	case p.Watching == "off":
		return "idle"
	default:
		return "watching (" + p.Watching + ")"
	}
}

func projectsWhen(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func projectsPrintProblems(w io.Writer, ps []index.Problem) {
	for i, p := range ps {
		if i == 10 {
			fmt.Fprintf(w, "... and %d more (see `atelier status --json`)\n", len(ps)-10)
			return
		}
		fmt.Fprintf(w, "Not indexed: %s: %s\n", p.Path, p.Err)
	}
}

// confirm asks a yes/no question on the terminal; without one it answers no.
func confirm(q string) bool {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	fmt.Fprintf(os.Stderr, "%s [y/N] ", q)
	var a string
	fmt.Scanln(&a)
	return strings.HasPrefix(strings.ToLower(a), "y")
}
