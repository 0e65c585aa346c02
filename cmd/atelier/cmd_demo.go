package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/demo"
	"atelier/app/projects"
)

// `atelier demo WORKSPACE`: a generated project and a data dir that knows it.

func newDemoCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "demo WORKSPACE",
		Short: "Create a demo workspace: a generated project and a data dir that knows it",
		Long: "Writes WORKSPACE/project (short audio sketches, cover art, notes) and registers it\n" +
			"in WORKSPACE/home, the data dir `make run` uses (ATELIER_HOME=WORKSPACE/home).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), gopts, args[0])
		},
	}
}

// runDemo writes the demo project and registers it in WORKSPACE/home, which
// it makes the data dir of this run.
func runDemo(ctx context.Context, gopts *globalOptions, workspace string) error {
	ws, err := filepath.Abs(workspace)
	if err != nil {
		return err
	}
	proj := filepath.Join(ws, "project", "Night Drive EP")
	wrote, err := demo.Generate(proj)
	if err != nil {
		return fmt.Errorf("write the demo project in %s: %w", proj, err)
	}
	fmt.Println(demo.Describe(proj, wrote))
	os.Setenv("ATELIER_HOME", filepath.Join(ws, "home"))
	home := *gopts
	home.dataDir = "" // WORKSPACE/home, through ATELIER_HOME
	var ps []projects.ProjectSummary
	if err := do(ctx, &home, func(cl *client.Client) (err error) { ps, err = cl.Projects.List(ctx); return }); err != nil {
		return err
	}
	for _, p := range ps {
		if p.Root == proj {
			return nil
		}
	}
	var p projects.ProjectSummary
	if err := do(ctx, &home, func(cl *client.Client) (err error) { p, err = cl.Projects.Add(ctx, proj); return }); err != nil && !strings.Contains(err.Error(), "already a project") {
		return err
	}
	fmt.Printf("Registered %s in %s\n", p.Name, filepath.Join(ws, "home"))
	return nil
}
