package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/humanize"
	"atelier/sync/vault"
)

// `atelier sync verify [PROJECT] [--repair]`: check what the latest
// snapshots reference, and upload again what was lost.

type syncVerifyOptions struct {
	repair   bool
	passFile string
}

func newSyncVerifyCommand(gopts *globalOptions) *cobra.Command {
	var opts syncVerifyOptions
	c := &cobra.Command{
		Use:   "verify [PROJECT] [--repair]",
		Short: "Download and check everything the latest snapshots reference; --repair uploads again what was lost",
		Long: "Download and check everything the latest snapshots reference.\n" +
			"With --repair (one PROJECT), every missing or damaged piece that this device can read again from a file\n" +
			"whose content still matches the snapshot is uploaded again, and a snapshot that restores is committed;\n" +
			"files it cannot repair from here are named, with the reason.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncVerify(cmd.Context(), gopts, opts, args)
		},
	}
	c.Flags().BoolVar(&opts.repair, "repair", false, "upload again what is missing or damaged, from this device's files, and commit a snapshot that restores")
	syncPassphraseFileFlag(c, &opts.passFile)
	return c
}

func runSyncVerify(ctx context.Context, gopts *globalOptions, opts syncVerifyOptions, args []string) error {
	if opts.repair && len(args) == 0 {
		return errors.New("--repair needs the PROJECT to repair (it reads the project's files on this device)")
	}
	if err := syncUnlockProjects(ctx, gopts, opts.passFile, args); err != nil {
		return err
	}
	p := optionalArg(args)
	if opts.repair {
		return runSyncRepair(ctx, gopts, p)
	}
	var res vault.VerifyResult
	if err := syncDoProgress(ctx, gopts, func(cl *client.Client) (err error) { res, err = cl.Sync.Verify(ctx, p); return }); err != nil {
		return err
	}
	if err := output(gopts, res, func(w io.Writer) { syncPrintVerify(w, res) }); err != nil {
		return err
	}
	if len(res.Problems) > 0 {
		hint := "repair with `atelier sync verify PROJECT --repair` on a device that has the affected files"
		if p != "" {
			hint = fmt.Sprintf("repair with `atelier sync verify %s --repair` on a device that has the affected files", p)
		}
		return exitError{code: 3, err: fmt.Errorf("%d problems found: %s", len(res.Problems), hint)}
	}
	return nil
}

func syncPrintVerify(w io.Writer, res vault.VerifyResult) {
	fmt.Fprintf(w, "checked %d snapshots, %d packs, %d chunks (%s): %d problems\n", res.Snapshots, res.Packs, res.Chunks, humanize.Bytes(res.Bytes), len(res.Problems))
	for _, pr := range res.Problems {
		fmt.Fprintf(w, "  %s: %s\n    affects %s\n", pr.Object, pr.Err, strings.Join(pr.Files, ", "))
	}
}

// runSyncRepair runs Sync.Repair and names, file by file, what it could not
// repair (exit status 3 when anything is left).
func runSyncRepair(ctx context.Context, gopts *globalOptions, project string) error {
	var res vault.RepairResult
	if err := syncDoProgress(ctx, gopts, func(cl *client.Client) (err error) { res, err = cl.Sync.Repair(ctx, project); return }); err != nil {
		return err
	}
	if err := output(gopts, res, func(w io.Writer) {
		syncPrintVerify(w, res.Verify)
		if len(res.Verify.Problems) == 0 && len(res.Unrepaired) == 0 {
			fmt.Fprintln(w, "nothing to repair")
			return
		}
		for _, f := range res.Repaired {
			fmt.Fprintf(w, "repaired\t%s\n", f)
		}
		for _, d := range res.Unrepaired {
			fmt.Fprintf(w, "NOT repaired\t%s: %s\n", d.Path, d.Reason)
		}
		if res.Snapshot != "" {
			fmt.Fprintf(w, "snapshot %s (#%d) committed\n", syncShort(res.Snapshot), res.Seq)
		}
	}); err != nil {
		return err
	}
	if len(res.Unrepaired) > 0 {
		return exitError{code: 3, err: fmt.Errorf("%d files could not be repaired from this device (named above): run `atelier sync verify %s --repair` on a device that has them", len(res.Unrepaired), project)}
	}
	return nil
}
