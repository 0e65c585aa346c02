package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/modules"
	"atelier/signing/keys"
	"atelier/signing/trust"
)

// `atelier trust`: pin, list and revoke publisher keys.

func newTrustCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "trust", Short: "Pin, list and revoke publisher keys"}
	c.AddCommand(
		newTrustAddCommand(gopts),
		newTrustListCommand(gopts),
		newTrustRevokeCommand(gopts),
	)
	return c
}

type trustAddOptions struct {
	name, notBefore, notAfter string
	scopes                    []string
}

func newTrustAddCommand(gopts *globalOptions) *cobra.Command {
	var opts trustAddOptions
	c := &cobra.Command{
		Use:   "add PUB.pem --scope '@publisher/*'",
		Short: "Trust a publisher's public key for name scopes, optionally within a validity window",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrustAdd(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.name, "name", "", "who the key belongs to (default: the file name)")
	c.Flags().StringSliceVar(&opts.scopes, "scope", nil, "module names it may sign: '@publisher/*' or '@publisher/name' (repeatable)")
	c.Flags().StringVar(&opts.notBefore, "not-before", "", "trusted from (YYYY-MM-DD or RFC 3339)")
	c.Flags().StringVar(&opts.notAfter, "not-after", "", "trusted until (YYYY-MM-DD or RFC 3339)")
	return c
}

func runTrustAdd(ctx context.Context, gopts *globalOptions, opts trustAddOptions, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if len(raw) > keys.MaxPEM {
		return fmt.Errorf("%s is larger than a public key file can be", file)
	}
	n := opts.name
	if n == "" {
		n = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	var k trust.Key
	if err := do(ctx, gopts, func(cl *client.Client) (err error) {
		k, err = cl.Modules.Trust(ctx, n, string(raw), opts.scopes, opts.notBefore, opts.notAfter)
		return
	}); err != nil {
		return err
	}
	return output(gopts, k, func(w io.Writer) {
		fmt.Fprintf(w, "Trusted %s (%s) for %s.\n", k.Name, k.ID[:12], strings.Join(k.Scopes, ", "))
	})
}

func newTrustListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Show the trust policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrustList(cmd.Context(), gopts)
		},
	}
}

func runTrustList(ctx context.Context, gopts *globalOptions) error {
	var p modules.PolicyView
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { p, err = cl.Modules.Policy(ctx); return }); err != nil {
		return err
	}
	return output(gopts, p, func(w io.Writer) {
		if len(p.Keys) == 0 {
			fmt.Fprintln(w, "No trusted keys. Add one with `atelier trust add PUB.pem --scope '@publisher/*'`.")
		} else {
			fmt.Fprintln(w, "NAME\tKEY ID\tSCOPES\tVALID\tSTATE")
			for _, k := range p.Keys {
				state := "trusted"
				if k.Revoked {
					state = "revoked " + k.RevokedAt.Format(time.DateOnly) + ": " + k.Reason
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.ID[:16], strings.Join(k.Scopes, ", "), trustWindow(k), state)
			}
		}
		if len(p.Modules) > 0 {
			fmt.Fprintln(w, "\nMODULE\tHIGHEST VERSION\tKEY ID\tGRANTED")
			for _, m := range p.Modules {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.Name, m.HighestVersion, m.KeyID[:16], strings.Join(m.Granted, ", "))
			}
		}
	})
}

// trustWindow is a key's validity window ("always" without one).
func trustWindow(k trust.Key) string {
	if k.NotBefore.IsZero() && k.NotAfter.IsZero() {
		return "always"
	}
	f := func(t time.Time) string {
		if t.IsZero() {
			return "…"
		}
		return t.Format(time.DateOnly)
	}
	return f(k.NotBefore) + " – " + f(k.NotAfter)
}

type trustRevokeOptions struct {
	reason string
}

func newTrustRevokeCommand(gopts *globalOptions) *cobra.Command {
	var opts trustRevokeOptions
	c := &cobra.Command{
		Use:   "revoke KEY",
		Short: "Revoke a trusted key (by ID, ID prefix or name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrustRevoke(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.reason, "reason", "", "why (kept in the policy and audit log)")
	return c
}

func runTrustRevoke(ctx context.Context, gopts *globalOptions, opts trustRevokeOptions, key string) error {
	var k trust.Key
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { k, err = cl.Modules.Revoke(ctx, key, opts.reason); return }); err != nil {
		return err
	}
	return output(gopts, k, func(w io.Writer) { fmt.Fprintf(w, "Revoked %s (%s).\n", k.Name, k.ID[:12]) })
}
