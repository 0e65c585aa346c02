package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"atelier/app/client"

	syncsvc "atelier/app/sync"

	"github.com/spf13/cobra"

	"atelier/humanize"
	"atelier/sync/vault"
)

// `atelier sync restore`: a project (any snapshot) into a folder.

type syncRestoreOptions struct {
	to, snapshot string
	overwrite    bool
	passFile     string
}

func newSyncRestoreCommand(gopts *globalOptions) *cobra.Command {
	var opts syncRestoreOptions
	c := &cobra.Command{
		Use:   "restore PROJECT --to DIR [--snapshot ID] [--overwrite]",
		Short: "Restore a project (any snapshot) into a folder; every file is verified",
		Long: "Restore a project (any snapshot) into a folder; every file is verified.\n" +
			"The folder must be empty or new. With --overwrite a non-empty folder (the project's own included) is\n" +
			"accepted: every file the restore replaces whose content differs is first kept beside it as\n" +
			"\"NAME (before restore DATE).EXT\", and identical files are left alone. Nothing is written through a\n" +
			"symbolic link or outside the folder; a name this system cannot hold is written under a safe name.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncRestore(cmd.Context(), gopts, opts, args)
		},
	}
	c.Flags().StringVar(&opts.to, "to", "", "folder to restore into (empty or new, unless --overwrite)")
	c.Flags().BoolVar(&opts.overwrite, "overwrite", false, "restore into a non-empty folder; every replaced file that differs is kept as \"NAME (before restore DATE).EXT\"")
	c.Flags().StringVar(&opts.snapshot, "snapshot", "", "snapshot ID, ID prefix or sequence number (default: latest)")
	syncPassphraseFileFlag(c, &opts.passFile)
	return c
}

func runSyncRestore(ctx context.Context, gopts *globalOptions, opts syncRestoreOptions, args []string) error {
	if opts.to == "" {
		return errors.New("say where to restore with --to DIR: an empty or new folder, or a non-empty one with --overwrite (replaced files are kept beside the restored ones)")
	}
	if err := syncUnlockProjects(ctx, gopts, opts.passFile, args); err != nil {
		return err
	}
	var res vault.RestoreResult
	if err := syncDoProgress(ctx, gopts, func(cl *client.Client) (err error) {
		res, err = cl.Sync.Restore(ctx, args[0], opts.to, opts.snapshot, syncsvc.RestoreOptions{Overwrite: opts.overwrite})
		return
	}); err != nil {
		return err
	}
	return output(gopts, res, func(w io.Writer) {
		fmt.Fprintf(w, "restored %d files (%s) from snapshot %s into %s", res.Files, humanize.Bytes(res.Bytes), syncShort(res.Snapshot), opts.to)
		if res.Skipped > 0 {
			fmt.Fprintf(w, "; %d were already there and left alone", res.Skipped)
		}
		fmt.Fprintln(w)
		for _, k := range res.Kept {
			fmt.Fprintf(w, "kept %q (replaced) as %q\n", k.Path, k.KeptAs)
		}
		for _, r := range res.Renamed {
			fmt.Fprintf(w, "wrote %q as %q: %s\n", r.Path, r.As, r.Reason)
		}
		for _, r := range res.Refused {
			fmt.Fprintf(w, "not written: %q: %s\n", r.Path, r.Reason)
		}
	})
}
