package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"atelier/app"
	"atelier/app/index"
	"atelier/humanize"
)

func newProjectCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "project", Short: "Add, list and remove project folders"}
	c.AddCommand(&cobra.Command{
		Use:   "add FOLDER",
		Short: "Register a project folder and index it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p app.ProjectSummary
			if err := call(cmd.Context(), gopts, "Projects.Add", &p, args[0]); err != nil {
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
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var ps []app.ProjectSummary
			if err := call(cmd.Context(), gopts, "Projects.List", &ps); err != nil {
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
		},
	})
	var yes bool
	rm := &cobra.Command{
		Use:   "remove PROJECT",
		Short: "Forget a project (its files are not touched)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes && !confirm(fmt.Sprintf("Forget project %s? Its index and previews go; the folder itself stays.", args[0])) {
				return fmt.Errorf("not removed (pass --yes to skip the question)")
			}
			if err := call(cmd.Context(), gopts, "Projects.Remove", nil, args[0]); err != nil {
				return err
			}
			fmt.Printf("Removed %s.\n", args[0])
			return nil
		},
	}
	rm.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	c.AddCommand(rm)
	c.AddCommand(&cobra.Command{
		Use:   "rescan PROJECT",
		Short: "Re-examine every file of a project now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p app.ProjectSummary
			if err := call(cmd.Context(), gopts, "Projects.Rescan", &p, args[0]); err != nil {
				return err
			}
			return output(gopts, p, func(w io.Writer) {
				fmt.Fprintf(w, "%s: %d files, %s\n", p.ID, p.Files, humanize.Bytes(p.Bytes))
				projectsPrintProblems(w, p.Problems)
			})
		},
	})
	return c
}

func newFilesCommand(gopts *globalOptions) *cobra.Command {
	var kind string
	c := &cobra.Command{
		Use:   "files PROJECT",
		Short: "List a project's indexed files",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var fs []index.FileRecord
			if err := call(cmd.Context(), gopts, "Projects.Files", &fs, args[0], kind); err != nil {
				return err
			}
			return output(gopts, fs, func(w io.Writer) {
				fmt.Fprintln(w, "PATH\tKIND\tSIZE\tMODIFIED\tSHA-256")
				for _, f := range fs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", f.Path, f.Kind, humanize.Bytes(f.Size), f.ModTime.Local().Format("2006-01-02 15:04"), f.SHA256.String()[:12])
				}
			})
		},
	}
	c.Flags().StringVar(&kind, "kind", "", "only this kind: audio, image, video, document, module, other")
	return c
}

func newStatusCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the engine and every project",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var st app.Status
			if err := call(cmd.Context(), gopts, "Projects.Status", &st); err != nil {
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
		},
	}
}

func projectsState(p app.ProjectSummary) string {
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
