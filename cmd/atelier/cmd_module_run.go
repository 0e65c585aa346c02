package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"atelier/app/client"
	"atelier/app/modules"
	"atelier/humanize"
)

// `atelier module run`: run an action in the sandbox on a project.

type moduleRunOptions struct {
	dev string
}

func newModuleRunCommand(gopts *globalOptions) *cobra.Command {
	var opts moduleRunOptions
	c := &cobra.Command{
		Use:   "run NAME PROJECT [PATHS...]  |  run --dev DIR PROJECT [PATHS...]",
		Short: "Run an action module on a project folder (or on some of its files) in the sandbox",
		Long: "Runs an installed action module with the permissions you approved: it sees the project\n" +
			"read-only (only PATHS when given) and writes into its own output folder, nothing else.\n" +
			"With --dev DIR, runs the unpacked module in DIR with the permissions its manifest declares:\n" +
			"the sandbox your users' Atelier will apply. Every run is recorded in `atelier audit`.",
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.dev != "" {
				return cobra.MinimumNArgs(1)(cmd, args)
			}
			return cobra.MinimumNArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleRun(cmd.Context(), gopts, opts, args)
		},
	}
	c.Flags().StringVar(&opts.dev, "dev", "", "run the unpacked module in folder `DIR` (for authors)")
	return c
}

func runModuleRun(ctx context.Context, gopts *globalOptions, opts moduleRunOptions, args []string) error {
	name := ""
	if opts.dev == "" {
		name, args = args[0], args[1:]
	}
	project, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	paths, err := moduleRunPaths(project, args[1:])
	if err != nil {
		return err
	}
	var res modules.RunResult
	err = do(ctx, gopts, func(cl *client.Client) (err error) {
		if opts.dev != "" {
			dev, err := filepath.Abs(opts.dev)
			if err != nil {
				return err
			}
			res, err = cl.Modules.RunDev(ctx, dev, project, paths)
			return err
		}
		res, err = cl.Modules.Run(ctx, name, project, paths)
		return err
	})
	if err != nil {
		return exitError{code: modulesExitRefused, err: fmt.Errorf("refused: %w", err)}
	}
	if err := output(gopts, res, func(w io.Writer) { modulesPrintRun(w, res) }); err != nil {
		return err
	}
	if res.Outcome != "ok" {
		return exitError{code: 1, err: errors.New(res.Message)}
	}
	return nil
}

// moduleRunPaths makes the selection relative to the project: a path may be
// given relative to the project, to the current folder, or absolute.
func moduleRunPaths(project string, args []string) ([]string, error) {
	out := []string{}
	for _, a := range args {
		p := a
		if !filepath.IsAbs(p) {
			if _, err := os.Lstat(filepath.Join(project, p)); err == nil {
				out = append(out, filepath.ToSlash(filepath.Clean(p)))
				continue
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			p = abs
		}
		rel, err := filepath.Rel(project, p)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("%s is not inside the project %s: give files of the project", a, project)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}

func modulesPrintRun(w io.Writer, r modules.RunResult) {
	if r.Report != "" {
		fmt.Fprint(w, r.Report)
		if !strings.HasSuffix(r.Report, "\n") {
			fmt.Fprintln(w)
		}
	}
	if len(r.Files) > 0 {
		fmt.Fprintf(w, "\nFiles written (%s):\n", r.Output)
		for _, f := range r.Files {
			fmt.Fprintf(w, "  %s\t%s\n", filepath.Join(r.Output, filepath.FromSlash(f.Path)), humanize.Bytes(f.Size))
		}
	}
	fmt.Fprintf(w, "\n%s %s: %s in %s", r.Module, r.Version, r.Outcome, r.Duration.Round(1e6))
	if len(r.Used) > 0 {
		fmt.Fprintf(w, " (used %s)", strings.Join(r.Used, ", "))
	}
	fmt.Fprintln(w)
	if r.Message != "" && r.Outcome != "ok" {
		fmt.Fprintln(w, r.Message)
	}
	for _, d := range r.Denied {
		fmt.Fprintf(w, "  refused: %s\n", d)
	}
	for _, n := range r.Network {
		fmt.Fprintf(w, "  network: %s\n", n)
	}
	if r.Log != "" && r.Outcome != "ok" {
		fmt.Fprintf(w, "Its last output on stderr:\n%s\n", strings.TrimSpace(r.Log))
	}
}
