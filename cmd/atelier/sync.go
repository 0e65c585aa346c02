package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"atelier/app"
	"atelier/app/api"
	"atelier/humanize"
	"atelier/sync/vault"
)

// syncCallProgress is call with a live progress line on a terminal: from
// the running engine's event stream, or from the engine opened here.
func syncCallProgress(ctx context.Context, gopts *globalOptions, method string, out any, args ...any) error {
	if gopts.json || !term.IsTerminal(int(os.Stderr.Fd())) {
		return call(ctx, gopts, method, out, args...)
	}
	var mu sync.Mutex
	shown := false
	show := func(ev api.Event) {
		if ev.Name != app.SyncProgressEvent {
			return
		}
		b, _ := json.Marshal(ev.Data)
		var p app.SyncProgress
		if json.Unmarshal(b, &p) != nil {
			return
		}
		pct := ""
		if p.Total > 0 {
			pct = fmt.Sprintf("%3d%% ", p.Done*100/p.Total)
		}
		mu.Lock()
		fmt.Fprintf(os.Stderr, "\r\033[K%s%s", pct, p.Note)
		shown = true
		mu.Unlock()
	}
	defer func() {
		mu.Lock()
		if shown {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		mu.Unlock()
	}()
	d, err := dirs(gopts)
	if err != nil {
		return err
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	c, e, err := connect(ctx, d)
	if err != nil {
		return err
	}
	if c != nil {
		go c.Events(pctx, show)
		return c.Call(ctx, method, out, args...)
	}
	defer e.Close()
	evs, unsub := e.Hub().Subscribe()
	defer unsub()
	go func() {
		for {
			select {
			case <-pctx.Done():
				return
			case ev, ok := <-evs:
				if !ok {
					return
				}
				show(ev)
			}
		}
	}()
	return callEngine(ctx, e, method, out, args...)
}

// syncReadSecret reads a secret from a file ("-" = stdin), without the
// trailing newline.
func syncReadSecret(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<16))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read the passphrase file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("the passphrase file %s is empty", path)
	}
	return s, nil
}

// syncPassphraseFlag reads the vault passphrase from --passphrase-file ("" without the flag).
func syncPassphraseFlag(cmd *cobra.Command) (string, error) {
	f, _ := cmd.Flags().GetString("passphrase-file")
	if f == "" {
		return "", nil
	}
	return syncReadSecret(f)
}

// syncUsePassphrase hands the vault passphrase from --passphrase-file to the
// engine: a running engine keeps it for its session; an in-process one reads
// it from the environment.
func syncUsePassphrase(cmd *cobra.Command, gopts *globalOptions, remoteName string) error {
	pass, err := syncPassphraseFlag(cmd)
	if err != nil || pass == "" {
		return err
	}
	if engineRunning(gopts) {
		return call(cmd.Context(), gopts, "Sync.Unlock", nil, remoteName, pass, false)
	}
	return os.Setenv("ATELIER_VAULT_PASSPHRASE", pass)
}

func newRemoteCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "remote", Short: "Configure where sync sends files (S3, GCS, Azure, a folder)"}
	var kind, passFile, accessKey, secretFile string
	var bw int64
	var def bool
	add := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a remote: s3://bucket?endpoint=…&region=…, gs://bucket, azblob://container, file:///path",
		Long: "Add a remote. A vault (the default kind) is private: encrypted on this machine with a key from your passphrase,\n" +
			"kept in the OS keyring (or give it each time with --passphrase-file or ATELIER_VAULT_PASSPHRASE).\n" +
			"A mirror publishes plain files with content types, for a website or a shop.\n" +
			"S3 keys come from the provider's chain (AWS_ACCESS_KEY_ID, profiles) or --access-key/--secret-key-file (kept in the keyring).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec := app.RemoteSpec{Name: args[0], URL: args[1], Kind: kind, AccessKey: accessKey, BandwidthKBps: bw, Default: def}
			if passFile != "" {
				p, err := syncReadSecret(passFile)
				if err != nil {
					return err
				}
				spec.Passphrase = p
			} else if env := os.Getenv("ATELIER_VAULT_PASSPHRASE"); env != "" && kind != "mirror" {
				spec.Passphrase = env
			}
			if secretFile != "" {
				s, err := syncReadSecret(secretFile)
				if err != nil {
					return err
				}
				spec.SecretKey = s
			}
			if (spec.AccessKey == "") != (spec.SecretKey == "") {
				return errors.New("give both --access-key and --secret-key-file, or neither (then the provider's chain is used)")
			}
			var r app.Remote
			if err := call(cmd.Context(), gopts, "Sync.RemoteAdd", &r, spec); err != nil {
				return err
			}
			if r.Warning != "" {
				fmt.Fprintln(os.Stderr, "warning:", r.Warning)
			}
			return output(gopts, r, func(w io.Writer) {
				fmt.Fprintf(w, "added %s (%s) %s\n", r.Name, r.Kind, r.URL)
			})
		},
	}
	add.Flags().StringVar(&kind, "kind", "vault", "vault (private, encrypted, versioned) or mirror (plain files)")
	add.Flags().StringVar(&passFile, "passphrase-file", "", "read the vault passphrase from this file (- for stdin)")
	add.Flags().StringVar(&accessKey, "access-key", "", "S3 access key ID (stored in the OS keyring)")
	add.Flags().StringVar(&secretFile, "secret-key-file", "", "file holding the S3 secret key (stored in the OS keyring)")
	add.Flags().Int64Var(&bw, "bandwidth", 0, "limit in KiB/s (0: unlimited)")
	add.Flags().BoolVar(&def, "default", false, "make it the default remote")

	list := &cobra.Command{
		Use:   "list",
		Short: "List remotes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs []app.Remote
			if err := call(cmd.Context(), gopts, "Sync.RemoteList", &rs); err != nil {
				return err
			}
			return output(gopts, rs, func(w io.Writer) {
				fmt.Fprintln(w, "NAME\tKIND\tDEFAULT\tPASSPHRASE\tLIMIT\tURL")
				for _, r := range rs {
					lim := "-"
					if r.BandwidthKBps > 0 {
						lim = fmt.Sprintf("%d KiB/s", r.BandwidthKBps)
					}
					fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\t%s\n", r.Name, r.Kind, r.Default, syncOr(r.Passphrase, "-"), lim, r.URL)
				}
			})
		},
	}
	test := &cobra.Command{
		Use:   "test NAME",
		Short: "Check that a remote answers and its vault unlocks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The passphrase is only tried by the test, not kept by a
			// running engine for its session.
			pass, err := syncPassphraseFlag(cmd)
			if err != nil {
				return err
			}
			var r app.RemoteTestResult
			if err := call(cmd.Context(), gopts, "Sync.RemoteTest", &r, args[0], pass); err != nil {
				return err
			}
			if err := output(gopts, r, func(w io.Writer) {
				if r.OK {
					fmt.Fprintf(w, "%s: ok (%.0f ms per request) %s\n", r.Name, r.LatencyMs, r.Vault)
				} else {
					fmt.Fprintf(w, "%s: FAILED: %s%s\n", r.Name, r.Error, r.Vault)
				}
			}); err != nil {
				return err
			}
			if !r.OK {
				return exitError{code: 2, err: fmt.Errorf("remote %s failed its test", r.Name)}
			}
			return nil
		},
	}
	test.Flags().String("passphrase-file", "", "try the vault passphrase from this file (- for stdin)")
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Forget a remote (its data stays where it is)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := call(cmd.Context(), gopts, "Sync.RemoteRemove", nil, args[0]); err != nil {
				return err
			}
			return output(gopts, map[string]string{"removed": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "removed %s\n", args[0]) })
		},
	}
	limit := &cobra.Command{
		Use:   "limit NAME KIB_PER_SECOND",
		Short: "Set a remote's bandwidth limit (0: no limit); running transfers follow at once",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kibps, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || kibps < 0 {
				return fmt.Errorf("limit %q: give KiB per second as a whole number, 0 for no limit", args[1])
			}
			var r app.Remote
			if err := call(cmd.Context(), gopts, "Sync.RemoteSetLimit", &r, args[0], kibps); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) {
				if r.BandwidthKBps == 0 {
					fmt.Fprintf(w, "%s: no bandwidth limit\n", r.Name)
				} else {
					fmt.Fprintf(w, "%s: limited to %d KiB/s\n", r.Name, r.BandwidthKBps)
				}
			})
		},
	}
	c.AddCommand(add, list, test, limit, remove)
	return c
}

func syncOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func newSyncCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "sync", Short: "Selective, encrypted sync to cloud storage: run, status, restore, history"}
	// --passphrase-file belongs to the commands that open a vault, and
	// unlocks the remote of the project they act on: a flag given to a
	// command it does not apply to is an error, never ignored.
	pre := func(cmd *cobra.Command) error {
		return syncUnlockProjects(cmd, gopts, cmd.Flags().Args())
	}

	run := &cobra.Command{
		Use:   "run [PROJECT]",
		Short: "Sync now: push what changed, pull other devices' changes (all enabled projects without PROJECT)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pre(cmd); err != nil {
				return err
			}
			p := optionalArg(args)
			var res app.SyncRunResult
			err := syncCallProgress(cmd.Context(), gopts, "Sync.Run", &res, p)
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
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show remotes, projects, pending changes and conflicts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var st app.SyncStatus
			if err := call(cmd.Context(), gopts, "Sync.Status", &st); err != nil {
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
		},
	}
	pause := &cobra.Command{
		Use: "pause", Short: "Pause transfers and background sync (survives restarts)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := call(cmd.Context(), gopts, "Sync.Pause", nil); err != nil {
				return err
			}
			return output(gopts, map[string]bool{"paused": true}, func(w io.Writer) { fmt.Fprintln(w, "sync paused") })
		},
	}
	resume := &cobra.Command{
		Use: "resume", Short: "Resume sync", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := call(cmd.Context(), gopts, "Sync.Resume", nil); err != nil {
				return err
			}
			return output(gopts, map[string]bool{"paused": false}, func(w io.Writer) { fmt.Fprintln(w, "sync resumed") })
		},
	}
	var to, snap string
	var overwrite bool
	restore := &cobra.Command{
		Use:   "restore PROJECT --to DIR [--snapshot ID] [--overwrite]",
		Short: "Restore a project (any snapshot) into a folder; every file is verified",
		Long: "Restore a project (any snapshot) into a folder; every file is verified.\n" +
			"The folder must be empty or new. With --overwrite a non-empty folder (the project's own included) is\n" +
			"accepted: every file the restore replaces whose content differs is first kept beside it as\n" +
			"\"NAME (before restore DATE).EXT\", and identical files are left alone. Nothing is written through a\n" +
			"symbolic link or outside the folder; a name this system cannot hold is written under a safe name.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return errors.New("say where to restore with --to DIR: an empty or new folder, or a non-empty one with --overwrite (replaced files are kept beside the restored ones)")
			}
			if err := pre(cmd); err != nil {
				return err
			}
			var res vault.RestoreResult
			if err := syncCallProgress(cmd.Context(), gopts, "Sync.Restore", &res, args[0], to, snap, app.RestoreOptions{Overwrite: overwrite}); err != nil {
				return err
			}
			return output(gopts, res, func(w io.Writer) {
				fmt.Fprintf(w, "restored %d files (%s) from snapshot %s into %s", res.Files, humanize.Bytes(res.Bytes), syncShort(res.Snapshot), to)
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
		},
	}
	restore.Flags().StringVar(&to, "to", "", "folder to restore into (empty or new, unless --overwrite)")
	restore.Flags().BoolVar(&overwrite, "overwrite", false, "restore into a non-empty folder; every replaced file that differs is kept as \"NAME (before restore DATE).EXT\"")
	restore.Flags().StringVar(&snap, "snapshot", "", "snapshot ID, ID prefix or sequence number (default: latest)")
	snapshots := &cobra.Command{
		Use:   "snapshots PROJECT",
		Short: "List a project's versions on its remote",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pre(cmd); err != nil {
				return err
			}
			var ss []app.SnapshotInfo
			if err := call(cmd.Context(), gopts, "Sync.Snapshots", &ss, args[0]); err != nil {
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
		},
	}
	prune := &cobra.Command{
		Use:   "prune [REMOTE]",
		Short: "Apply the retention policy and delete data no kept snapshot needs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := optionalArg(args)
			if err := syncUsePassphrase(cmd, gopts, r); err != nil {
				return err
			}
			var res vault.PruneResult
			if err := call(cmd.Context(), gopts, "Sync.Prune", &res, r); err != nil {
				return err
			}
			return output(gopts, res, func(w io.Writer) {
				fmt.Fprintf(w, "kept %d snapshots, removed %d; deleted %d packs (%s)\n", res.SnapshotsKept, res.SnapshotsRemoved, res.PacksRemoved, humanize.Bytes(res.BytesFreed))
				if res.PacksRepacked > 0 {
					fmt.Fprintf(w, "repacked %d mostly unused packs (%s still in use moved to new packs); the old ones are deleted by a prune after an hour\n", res.PacksRepacked, humanize.Bytes(res.BytesRepacked))
				}
			})
		},
	}
	var repair bool
	verify := &cobra.Command{
		Use:   "verify [PROJECT] [--repair]",
		Short: "Download and check everything the latest snapshots reference; --repair uploads again what was lost",
		Long: "Download and check everything the latest snapshots reference.\n" +
			"With --repair (one PROJECT), every missing or damaged piece that this device can read again from a file\n" +
			"whose content still matches the snapshot is uploaded again, and a snapshot that restores is committed;\n" +
			"files it cannot repair from here are named, with the reason.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if repair && len(args) == 0 {
				return errors.New("--repair needs the PROJECT to repair (it reads the project's files on this device)")
			}
			if err := pre(cmd); err != nil {
				return err
			}
			p := optionalArg(args)
			if repair {
				return syncRepair(cmd, gopts, p)
			}
			var res vault.VerifyResult
			if err := syncCallProgress(cmd.Context(), gopts, "Sync.Verify", &res, p); err != nil {
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
		},
	}
	verify.Flags().BoolVar(&repair, "repair", false, "upload again what is missing or damaged, from this device's files, and commit a snapshot that restores")
	var include, exclude, kinds []string
	var maxSize, minSize int64
	var enable, disable bool
	var remoteName string
	rulesCmd := &cobra.Command{
		Use:   "rules PROJECT",
		Short: "Show or set what of a project syncs (gitignore patterns, kinds, sizes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r app.SyncRules
			if err := call(cmd.Context(), gopts, "Sync.Rules", &r, args[0]); err != nil {
				return err
			}
			f := cmd.Flags()
			changed := false
			if f.Changed("include") {
				r.Include, changed = include, true
			}
			if f.Changed("exclude") {
				r.Exclude, changed = exclude, true
			}
			if f.Changed("kind") {
				r.Kinds, changed = kinds, true
			}
			if f.Changed("max-size") {
				r.MaxSize, changed = maxSize, true
			}
			if f.Changed("min-size") {
				r.MinSize, changed = minSize, true
			}
			if f.Changed("remote") || f.Changed("to") {
				if f.Changed("remote") && f.Changed("to") {
					return errors.New("give the remote once, with --remote NAME (--to is its old name)")
				}
				r.Remote, changed = remoteName, true
			}
			if enable || disable {
				r.Enabled, changed = enable, true
			}
			if changed {
				if err := call(cmd.Context(), gopts, "Sync.SetRules", nil, args[0], r); err != nil {
					return err
				}
			}
			var pv app.SyncPreview
			if err := call(cmd.Context(), gopts, "Sync.Preview", &pv, args[0]); err != nil {
				return err
			}
			return output(gopts, map[string]any{"rules": r, "preview": pv}, func(w io.Writer) {
				fmt.Fprintf(w, "project\t%s\nenabled\t%v\nremote\t%s\ninclude\t%s\nexclude\t%s\nkinds\t%s\n", r.Project, r.Enabled, syncOr(r.Remote, "(default)"),
					strings.Join(r.Include, " "), strings.Join(r.Exclude, " "), strings.Join(r.Kinds, " "))
				fmt.Fprintf(w, "selected\t%d of %d files, %s of %s\npending\t%d\n", pv.SelectedFiles, pv.Files, humanize.Bytes(pv.SelectedBytes), humanize.Bytes(pv.Bytes), pv.Pending)
			})
		},
	}
	rf := rulesCmd.Flags()
	rf.StringSliceVar(&include, "include", nil, "gitignore-style patterns to include (default: everything)")
	rf.StringSliceVar(&exclude, "exclude", nil, "gitignore-style patterns to exclude")
	rf.StringSliceVar(&kinds, "kind", nil, "only these kinds: audio, image, video, document, module, other")
	rf.Int64Var(&maxSize, "max-size", 0, "skip files larger than this many bytes (0: no limit)")
	rf.Int64Var(&minSize, "min-size", 0, "skip files smaller than this many bytes")
	rf.BoolVar(&enable, "enable", false, "sync this project in the background")
	rf.BoolVar(&disable, "disable", false, "stop background sync of this project")
	rf.StringVar(&remoteName, "remote", "", "remote this project syncs to (see `atelier remote list`; \"\" = the default remote)")
	rf.StringVar(&remoteName, "to", "", "old name of --remote")
	rf.MarkHidden("to")
	conflicts := &cobra.Command{
		Use: "conflicts", Short: "List files changed on two devices (both versions were kept)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var cs []vault.Conflict
			if err := call(cmd.Context(), gopts, "Sync.Conflicts", &cs); err != nil {
				return err
			}
			return output(gopts, cs, func(w io.Writer) {
				fmt.Fprintln(w, "PROJECT\tFILE\tOTHER VERSION KEPT AS\tDEVICE")
				for _, c := range cs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Project, c.Path, c.Copy, c.Device)
				}
			})
		},
	}
	device := &cobra.Command{
		Use: "device NAME", Short: "Name this computer (shown in conflict copies and history)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := call(cmd.Context(), gopts, "Sync.SetDevice", nil, args[0]); err != nil {
				return err
			}
			return output(gopts, map[string]string{"device": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "this computer is now %q\n", args[0]) })
		},
	}
	for _, sc := range []*cobra.Command{run, restore, snapshots, prune, verify} {
		sc.Flags().String("passphrase-file", "", "read the vault passphrase from this file (- for stdin; or set ATELIER_VAULT_PASSPHRASE)")
	}
	c.AddCommand(run, status, pause, resume, restore, snapshots, prune, verify, rulesCmd, conflicts, device)
	return c
}

// syncUnlockProjects hands --passphrase-file to the remotes the projects
// sync to (no project: those of every project with sync enabled).
func syncUnlockProjects(cmd *cobra.Command, gopts *globalOptions, projects []string) error {
	f, _ := cmd.Flags().GetString("passphrase-file")
	if f == "" || !engineRunning(gopts) {
		// An in-process engine reads the passphrase from the environment.
		return syncUsePassphrase(cmd, gopts, "")
	}
	remotes := map[string]bool{}
	if len(projects) > 0 {
		for _, p := range projects {
			var r app.SyncRules
			if err := call(cmd.Context(), gopts, "Sync.Rules", &r, p); err != nil {
				return err
			}
			remotes[r.Remote] = true
		}
	} else {
		var st app.SyncStatus
		if err := call(cmd.Context(), gopts, "Sync.Status", &st); err != nil {
			return err
		}
		for _, p := range st.Projects {
			if p.Enabled {
				remotes[p.Remote] = true
			}
		}
	}
	if len(projects) == 0 {
		remotes[""] = true // the default remote (verify without PROJECT)
	}
	for r := range remotes {
		if err := syncUsePassphrase(cmd, gopts, r); err != nil {
			return err
		}
	}
	return nil
}

func syncPrintVerify(w io.Writer, res vault.VerifyResult) {
	fmt.Fprintf(w, "checked %d snapshots, %d packs, %d chunks (%s): %d problems\n", res.Snapshots, res.Packs, res.Chunks, humanize.Bytes(res.Bytes), len(res.Problems))
	for _, pr := range res.Problems {
		fmt.Fprintf(w, "  %s: %s\n    affects %s\n", pr.Object, pr.Err, strings.Join(pr.Files, ", "))
	}
}

// syncRepair runs Sync.Repair and names, file by file, what it could not
// repair (exit status 3 when anything is left).
func syncRepair(cmd *cobra.Command, gopts *globalOptions, project string) error {
	var res vault.RepairResult
	if err := syncCallProgress(cmd.Context(), gopts, "Sync.Repair", &res, project); err != nil {
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

func syncShort(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	if id == "" {
		return "-"
	}
	return id
}
