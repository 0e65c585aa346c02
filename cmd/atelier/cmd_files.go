package main

import (
	"context"
	"fmt"
	"io"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/index"
	"atelier/humanize"
)

// `atelier files PROJECT`: a project's indexed files.

type filesOptions struct {
	kind string
}

func newFilesCommand(gopts *globalOptions) *cobra.Command {
	var opts filesOptions
	c := &cobra.Command{
		Use:   "files PROJECT",
		Short: "List a project's indexed files",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFiles(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.kind, "kind", "", "only this kind: audio, image, video, document, module, other")
	return c
}

func runFiles(ctx context.Context, gopts *globalOptions, opts filesOptions, project string) error {
	var fs []index.FileRecord
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { fs, err = cl.Projects.Files(ctx, project, opts.kind); return }); err != nil {
		return err
	}
	return output(gopts, fs, func(w io.Writer) {
		fmt.Fprintln(w, "PATH\tKIND\tSIZE\tMODIFIED\tSHA-256")
		for _, f := range fs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", f.Path, f.Kind, humanize.Bytes(f.Size), f.ModTime.Local().Format("2006-01-02 15:04"), f.SHA256.String()[:12])
		}
	})
}
