package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"atelier/app/client"

	syncsvc "atelier/app/sync"

	"github.com/spf13/cobra"
)

// `atelier remote`: where sync sends files.

func newRemoteCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "remote", Short: "Configure where sync sends files (S3, GCS, Azure, a folder)"}
	c.AddCommand(
		newRemoteAddCommand(gopts),
		newRemoteListCommand(gopts),
		newRemoteTestCommand(gopts),
		newRemoteLimitCommand(gopts),
		newRemoteRemoveCommand(gopts),
	)
	return c
}

type remoteAddOptions struct {
	kind, passFile, accessKey, secretFile string
	bandwidth                             int64
	makeDefault                           bool
}

func newRemoteAddCommand(gopts *globalOptions) *cobra.Command {
	var opts remoteAddOptions
	c := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a remote: s3://bucket?endpoint=…&region=…, gs://bucket, azblob://container, file:///path",
		Long: "Add a remote. A vault (the default kind) is private: encrypted on this machine with a key from your passphrase,\n" +
			"kept in the OS keyring (or give it each time with --passphrase-file or ATELIER_VAULT_PASSPHRASE).\n" +
			"A mirror publishes plain files with content types, for a website or a shop.\n" +
			"S3 keys come from the provider's chain (AWS_ACCESS_KEY_ID, profiles) or --access-key/--secret-key-file (kept in the keyring).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemoteAdd(cmd.Context(), gopts, opts, args)
		},
	}
	c.Flags().StringVar(&opts.kind, "kind", "vault", "vault (private, encrypted, versioned) or mirror (plain files)")
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "read the vault passphrase from this file (- for stdin)")
	c.Flags().StringVar(&opts.accessKey, "access-key", "", "S3 access key ID (stored in the OS keyring)")
	c.Flags().StringVar(&opts.secretFile, "secret-key-file", "", "file holding the S3 secret key (stored in the OS keyring)")
	c.Flags().Int64Var(&opts.bandwidth, "bandwidth", 0, "limit in KiB/s (0: unlimited)")
	c.Flags().BoolVar(&opts.makeDefault, "default", false, "make it the default remote")
	return c
}

func runRemoteAdd(ctx context.Context, gopts *globalOptions, opts remoteAddOptions, args []string) error {
	spec := syncsvc.RemoteSpec{Name: args[0], URL: args[1], Kind: opts.kind, AccessKey: opts.accessKey, BandwidthKBps: opts.bandwidth, Default: opts.makeDefault}
	if opts.passFile != "" {
		p, err := syncReadSecret(opts.passFile)
		if err != nil {
			return err
		}
		spec.Passphrase = p
	} else if env := os.Getenv("ATELIER_VAULT_PASSPHRASE"); env != "" && opts.kind != "mirror" {
		spec.Passphrase = env
	}
	if opts.secretFile != "" {
		s, err := syncReadSecret(opts.secretFile)
		if err != nil {
			return err
		}
		spec.SecretKey = s
	}
	if (spec.AccessKey == "") != (spec.SecretKey == "") {
		return errors.New("give both --access-key and --secret-key-file, or neither (then the provider's chain is used)")
	}
	var r syncsvc.Remote
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Sync.RemoteAdd(ctx, spec); return }); err != nil {
		return err
	}
	if r.Warning != "" {
		fmt.Fprintln(os.Stderr, "warning:", r.Warning)
	}
	return output(gopts, r, func(w io.Writer) {
		fmt.Fprintf(w, "added %s (%s) %s\n", r.Name, r.Kind, r.URL)
	})
}

func newRemoteListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List remotes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemoteList(cmd.Context(), gopts)
		},
	}
}

func runRemoteList(ctx context.Context, gopts *globalOptions) error {
	var rs []syncsvc.Remote
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { rs, err = cl.Sync.RemoteList(ctx); return }); err != nil {
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
}

type remoteTestOptions struct {
	passFile string
}

func newRemoteTestCommand(gopts *globalOptions) *cobra.Command {
	var opts remoteTestOptions
	c := &cobra.Command{
		Use:   "test NAME",
		Short: "Check that a remote answers and its vault unlocks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTestRemote(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "try the vault passphrase from this file (- for stdin)")
	return c
}

func runTestRemote(ctx context.Context, gopts *globalOptions, opts remoteTestOptions, name string) error {
	// The passphrase is only tried by the test, not kept by a running
	// engine for its session.
	pass, err := syncPassphrase(opts.passFile)
	if err != nil {
		return err
	}
	var r syncsvc.RemoteTestResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Sync.RemoteTest(ctx, name, pass); return }); err != nil {
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
}

func newRemoteRemoveCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Forget a remote (its data stays where it is)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemoteRemove(cmd.Context(), gopts, args[0])
		},
	}
}

func runRemoteRemove(ctx context.Context, gopts *globalOptions, name string) error {
	if err := do(ctx, gopts, func(cl *client.Client) error { return cl.Sync.RemoteRemove(ctx, name) }); err != nil {
		return err
	}
	return output(gopts, map[string]string{"removed": name}, func(w io.Writer) { fmt.Fprintf(w, "removed %s\n", name) })
}

func newRemoteLimitCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "limit NAME KIB_PER_SECOND",
		Short: "Set a remote's bandwidth limit (0: no limit); running transfers follow at once",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemoteLimit(cmd.Context(), gopts, args[0], args[1])
		},
	}
}

func runRemoteLimit(ctx context.Context, gopts *globalOptions, name, limit string) error {
	kibps, err := strconv.ParseInt(limit, 10, 64)
	if err != nil || kibps < 0 {
		return fmt.Errorf("limit %q: give KiB per second as a whole number, 0 for no limit", limit)
	}
	var r syncsvc.Remote
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Sync.RemoteSetLimit(ctx, name, kibps); return }); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) {
		if r.BandwidthKBps == 0 {
			fmt.Fprintf(w, "%s: no bandwidth limit\n", r.Name)
		} else {
			fmt.Fprintf(w, "%s: limited to %d KiB/s\n", r.Name, r.BandwidthKBps)
		}
	})
}
