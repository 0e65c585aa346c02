package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"atelier/app/client"

	syncsvc "atelier/app/sync"

	"github.com/spf13/cobra"

	"atelier/humanize"
	"atelier/sync/vault"
)

// `atelier sync`: run, status, pause and resume, snapshots, prune, conflicts
// and the device name; restore, verify and rules have files of their own.

func newSyncCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "sync", Short: "Selective, encrypted sync to cloud storage: run, status, restore, history"}
	c.AddCommand(
		newSyncRunCommand(gopts),
		newSyncStatusCommand(gopts),
		newSyncPauseCommand(gopts),
		newSyncResumeCommand(gopts),
		newSyncRestoreCommand(gopts),
		newSyncSnapshotsCommand(gopts),
		newSyncPruneCommand(gopts),
		newSyncVerifyCommand(gopts),
		newSyncRulesCommand(gopts),
		newSyncConflictsCommand(gopts),
		newSyncDeviceCommand(gopts),
	)
	return c
}

// syncPassphraseFileFlag adds --passphrase-file to a command that opens a
// vault: it unlocks the remote of the project the command acts on. A flag
// given to a command it does not apply to is an error, never ignored, so only
// these commands take it.
func syncPassphraseFileFlag(c *cobra.Command, file *string) {
	c.Flags().StringVar(file, "passphrase-file", "", "read the vault passphrase from this file (- for stdin; or set ATELIER_VAULT_PASSPHRASE)")
}

type syncRunOptions struct {
	passFile string
}

func newSyncRunCommand(gopts *globalOptions) *cobra.Command {
	var opts syncRunOptions
	c := &cobra.Command{
		Use:   "run [PROJECT]",
		Short: "Sync now: push what changed, pull other devices' changes (all enabled projects without PROJECT)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncRun(cmd.Context(), gopts, opts, args)
		},
	}
	syncPassphraseFileFlag(c, &opts.passFile)
	return c
}

func runSyncRun(ctx context.Context, gopts *globalOptions, opts syncRunOptions, args []string) error {
	if err := syncUnlockProjects(ctx, gopts, opts.passFile, args); err != nil {
		return err
	}
	p := optionalArg(args)
	var res syncsvc.SyncRunResult
	err := syncDoProgress(ctx, gopts, func(cl *client.Client) (err error) { res, err = cl.Sync.Run(ctx, p); return })
	if len(res.Projects) == 0 && err != nil {
		return err
	}
	if oerr := output(gopts, res, func(w io.Writer) {
		fmt.Fprintln(w, "PROJECT\tREMOTE\tSNAPSHOT\tUP\tDOWN\tDELETED\tSENT\tDEDUPED\tCONFLICTS\tTOOK")
		for _, r := range res.Projects {
			snap := syncShort(r.Snapshot)
			if r.NoChange {
				snap += " (no change)"
			}
			if r.Error != "" {
				snap = "error"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%d\t%s\n", r.Project, r.Remote, snap, r.Uploaded, r.Pulled, r.Deleted,
				humanize.Bytes(r.BytesSent), humanize.Bytes(r.BytesDedup), len(r.Conflicts), (time.Duration(r.DurationMs) * time.Millisecond).String())
			for _, cf := range r.Conflicts {
				fmt.Fprintf(w, "  conflict: %s changed on %s too; their version is in %q\n", cf.Path, cf.Device, cf.Copy)
			}
			for _, f := range r.Repaired {
				fmt.Fprintf(w, "  repaired: %s (its lost data was uploaded again)\n", f)
			}
			for _, d := range r.Damaged {
				fmt.Fprintf(w, "  lost in the vault: %s: %s\n", d.Path, d.Reason)
			}
			for _, sk := range r.Skipped {
				fmt.Fprintf(w, "  not written here: %q: %s\n", sk.Path, sk.Reason)
			}
		}
	}); oerr != nil {
		return oerr
	}
	return err
}

func newSyncStatusCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show remotes, projects, pending changes and conflicts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncStatus(cmd.Context(), gopts)
		},
	}
}

func runSyncStatus(ctx context.Context, gopts *globalOptions) error {
	var st syncsvc.SyncStatus
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { st, err = cl.Sync.Status(ctx); return }); err != nil {
		return err
	}
	return output(gopts, st, func(w io.Writer) {
		state := "on"
		switch {
		case !st.Consent:
			state = "off (no consent: grant sync.cloud: atelier consent grant sync.cloud)"
		case st.Paused:
			state = "paused"
		case st.Running:
			state = "running"
		}
		fmt.Fprintf(w, "device\t%s\nsync\t%s\nkeyring\t%s\nconflicts\t%d\n\n", st.Device, state, st.Keyring, st.Conflicts)
		fmt.Fprintln(w, "PROJECT\tENABLED\tREMOTE\tPENDING\tSNAPSHOT\tLAST SYNC\tLAST ERROR")
		for _, p := range st.Projects {
			last := "never"
			if !p.LastSync.IsZero() {
				last = p.LastSync.Local().Format("2006-01-02 15:04")
			}
			errS := ""
			if p.LastRun != nil {
				errS = p.LastRun.Error
			}
			fmt.Fprintf(w, "%s\t%v\t%s\t%d\t%s\t%s\t%s\n", p.Project, p.Enabled, p.Remote, p.Pending, syncShort(p.LastSnap), last, errS)
		}
		for _, p := range st.Projects {
			if p.LastRun == nil {
				continue
			}
			for _, d := range p.LastRun.Damaged {
				fmt.Fprintf(w, "lost in the vault: %s/%s: %s\n", p.Project, d.Path, d.Reason)
			}
			for _, sk := range p.LastRun.Skipped {
				fmt.Fprintf(w, "not written here: %s/%q: %s\n", p.Project, sk.Path, sk.Reason)
			}
		}
		for _, pr := range st.Problems {
			fmt.Fprintf(w, "problem: %s\n", pr)
		}
	})
}

func newSyncPauseCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "pause", Short: "Pause transfers and background sync (survives restarts)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncPause(cmd.Context(), gopts, true)
		},
	}
}

func newSyncResumeCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "resume", Short: "Resume sync", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncPause(cmd.Context(), gopts, false)
		},
	}
}

// runSyncPause pauses (pause) or resumes sync.
func runSyncPause(ctx context.Context, gopts *globalOptions, pause bool) error {
	done := "sync resumed"
	if pause {
		done = "sync paused"
	}
	if err := do(ctx, gopts, func(c *client.Client) error {
		if pause {
			return c.Sync.Pause(ctx)
		}
		return c.Sync.Resume(ctx)
	}); err != nil {
		return err
	}
	return output(gopts, map[string]bool{"paused": pause}, func(w io.Writer) { fmt.Fprintln(w, done) })
}

type syncSnapshotsOptions struct {
	passFile string
}

func newSyncSnapshotsCommand(gopts *globalOptions) *cobra.Command {
	var opts syncSnapshotsOptions
	c := &cobra.Command{
		Use:   "snapshots PROJECT",
		Short: "List a project's versions on its remote",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncSnapshots(cmd.Context(), gopts, opts, args)
		},
	}
	syncPassphraseFileFlag(c, &opts.passFile)
	return c
}

func runSyncSnapshots(ctx context.Context, gopts *globalOptions, opts syncSnapshotsOptions, args []string) error {
	if err := syncUnlockProjects(ctx, gopts, opts.passFile, args); err != nil {
		return err
	}
	var ss []syncsvc.SnapshotInfo
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { ss, err = cl.Sync.Snapshots(ctx, args[0]); return }); err != nil {
		return err
	}
	return output(gopts, ss, func(w io.Writer) {
		fmt.Fprintln(w, "SEQ\tID\tTIME\tDEVICE\tFILES\tSIZE\t")
		for _, s := range ss {
			mark := ""
			if s.Current {
				mark = "← this device"
			}
			if s.Pruned {
				mark = "(pruned)"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", s.Seq, syncShort(s.ID), s.Time.Local().Format("2006-01-02 15:04:05"), s.Device, s.Files, humanize.Bytes(s.Bytes), mark)
		}
	})
}

type syncPruneOptions struct {
	passFile string
}

func newSyncPruneCommand(gopts *globalOptions) *cobra.Command {
	var opts syncPruneOptions
	c := &cobra.Command{
		Use:   "prune [REMOTE]",
		Short: "Apply the retention policy and delete data no kept snapshot needs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncPrune(cmd.Context(), gopts, opts, optionalArg(args))
		},
	}
	syncPassphraseFileFlag(c, &opts.passFile)
	return c
}

func runSyncPrune(ctx context.Context, gopts *globalOptions, opts syncPruneOptions, remote string) error {
	if err := syncUsePassphrase(ctx, gopts, opts.passFile, remote); err != nil {
		return err
	}
	var res vault.PruneResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { res, err = cl.Sync.Prune(ctx, remote); return }); err != nil {
		return err
	}
	return output(gopts, res, func(w io.Writer) {
		fmt.Fprintf(w, "kept %d snapshots, removed %d; deleted %d packs (%s)\n", res.SnapshotsKept, res.SnapshotsRemoved, res.PacksRemoved, humanize.Bytes(res.BytesFreed))
		if res.PacksRepacked > 0 {
			fmt.Fprintf(w, "repacked %d mostly unused packs (%s still in use moved to new packs); the old ones are deleted by a prune after an hour\n", res.PacksRepacked, humanize.Bytes(res.BytesRepacked))
		}
	})
}

func newSyncConflictsCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "conflicts", Short: "List files changed on two devices (both versions were kept)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncConflicts(cmd.Context(), gopts)
		},
	}
}

func runSyncConflicts(ctx context.Context, gopts *globalOptions) error {
	var cs []vault.Conflict
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { cs, err = cl.Sync.Conflicts(ctx); return }); err != nil {
		return err
	}
	return output(gopts, cs, func(w io.Writer) {
		fmt.Fprintln(w, "PROJECT\tFILE\tOTHER VERSION KEPT AS\tDEVICE")
		for _, c := range cs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Project, c.Path, c.Copy, c.Device)
		}
	})
}

func newSyncDeviceCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "device NAME", Short: "Name this computer (shown in conflict copies and history)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSyncDevice(cmd.Context(), gopts, args[0])
		},
	}
}

func runSyncDevice(ctx context.Context, gopts *globalOptions, name string) error {
	if err := do(ctx, gopts, func(cl *client.Client) error { return cl.Sync.SetDevice(ctx, name) }); err != nil {
		return err
	}
	return output(gopts, map[string]string{"device": name}, func(w io.Writer) { fmt.Fprintf(w, "this computer is now %q\n", name) })
}
