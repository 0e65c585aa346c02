package main

import (
	"context"
	"fmt"
	"io"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/privacy"
)

// `atelier consent`: see and change what Atelier may collect.

func newConsentCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "consent", Short: "See and change what Atelier may collect (the consent ledger)"}
	c.AddCommand(
		newConsentListCommand(gopts),
		newConsentPolicyCommand(gopts),
		newConsentGrantCommand(gopts),
		newConsentDenyCommand(gopts),
		newConsentWithdrawCommand(gopts),
		newConsentHistoryCommand(gopts),
		newConsentVerifyCommand(gopts),
	)
	return c
}

func newConsentListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List purposes and whether each is granted", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentList(cmd.Context(), gopts)
		},
	}
}

func runConsentList(ctx context.Context, gopts *globalOptions) error {
	var out []privacy.PurposeState
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Privacy.Purposes(ctx); return }); err != nil {
		return err
	}
	return output(gopts, out, func(w io.Writer) {
		fmt.Fprintln(w, "PURPOSE\tSTATE\tSINCE\tDROPPED\tTITLE")
		for _, p := range out {
			state := "off"
			switch {
			case p.Granted:
				state = "granted"
			case p.Stale:
				state = "policy changed: review"
			case p.Decision == privacy.DecisionDeny:
				state = "denied"
			case p.Decision == privacy.DecisionWithdraw:
				state = "withdrawn"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", p.Name, state, privacyTime(p.Since), p.Dropped, p.Title)
		}
	})
}

func newConsentPolicyCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "policy PURPOSE", Short: "Show a purpose's description and full policy text", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentPolicy(cmd.Context(), gopts, args[0])
		},
	}
}

func runConsentPolicy(ctx context.Context, gopts *globalOptions, purpose string) error {
	var out []privacy.PurposeState
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Privacy.Purposes(ctx); return }); err != nil {
		return err
	}
	for _, p := range out {
		if p.Name == purpose {
			return output(gopts, p, func(w io.Writer) {
				fmt.Fprintf(w, "%s — %s\n\n%s\n\n%s\n\npolicy version %s, sha256 %s\n", p.Name, p.Title, p.Description, p.Policy, p.Version, p.SHA256)
			})
		}
	}
	_, err := privacy.Lookup(purpose)
	return err
}

type consentGrantOptions struct {
	where string
}

func newConsentGrantCommand(gopts *globalOptions) *cobra.Command {
	var opts consentGrantOptions
	c := &cobra.Command{
		Use: "grant PURPOSE", Short: "Grant a purpose (recorded in the ledger first)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentGrant(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.where, "where", "cli", "where the decision was made, for the ledger")
	return c
}

func runConsentGrant(ctx context.Context, gopts *globalOptions, opts consentGrantOptions, purpose string) error {
	var r privacy.LedgerRecord
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Privacy.Grant(ctx, purpose, opts.where); return }); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) { fmt.Fprintf(w, "granted %s (ledger record %d)\n", r.Purpose, r.Seq) })
}

func newConsentDenyCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "deny PURPOSE", Short: "Record that a purpose is refused", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentDeny(cmd.Context(), gopts, args[0])
		},
	}
}

func runConsentDeny(ctx context.Context, gopts *globalOptions, purpose string) error {
	var r privacy.LedgerRecord
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Privacy.Deny(ctx, purpose, "cli"); return }); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) { fmt.Fprintf(w, "denied %s (ledger record %d)\n", r.Purpose, r.Seq) })
}

type consentWithdrawOptions struct {
	erase, keep bool
}

func newConsentWithdrawCommand(gopts *globalOptions) *cobra.Command {
	var opts consentWithdrawOptions
	c := &cobra.Command{
		Use: "withdraw PURPOSE", Short: "Withdraw a purpose, and optionally erase what was collected under it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentWithdraw(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().BoolVar(&opts.erase, "erase", false, "also erase everything collected under the purpose")
	c.Flags().BoolVar(&opts.keep, "keep-data", false, "keep what was collected (do not ask)")
	return c
}

func runConsentWithdraw(ctx context.Context, gopts *globalOptions, opts consentWithdrawOptions, purpose string) error {
	if _, err := privacy.Lookup(purpose); err != nil {
		return err
	}
	erase := opts.erase
	if !erase && !opts.keep && privacyIsTerminal() {
		ok, err := privacyConfirm(fmt.Sprintf("Also erase everything collected under %s?", purpose))
		if err != nil {
			return err
		}
		erase = ok
	}
	var r privacy.LedgerRecord
	if err := do(ctx, gopts, func(cl *client.Client) (err error) {
		r, err = cl.Privacy.WithdrawAt(ctx, purpose, "cli", erase)
		return
	}); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) {
		fmt.Fprintf(w, "withdrew %s (ledger record %d)", r.Purpose, r.Seq)
		if r.Erased {
			fmt.Fprint(w, "; its data was erased")
		}
		fmt.Fprintln(w)
	})
}

func newConsentHistoryCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "history [PURPOSE]", Short: "Show the consent ledger", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentHistory(cmd.Context(), gopts, optionalArg(args))
		},
	}
}

func runConsentHistory(ctx context.Context, gopts *globalOptions, purpose string) error {
	var out []privacy.LedgerRecord
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Privacy.History(ctx, purpose); return }); err != nil {
		return err
	}
	return output(gopts, out, func(w io.Writer) {
		fmt.Fprintln(w, "SEQ\tTIME\tPURPOSE\tDECISION\tWHERE\tPOLICY\tHASH")
		for _, r := range out {
			d := r.Decision
			if r.Erased {
				d += "+erase"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%.12s\n", r.Seq, privacyTime(&r.Time), r.Purpose, d, r.Where, r.PolicyVersion, r.Hash)
		}
	})
}

func newConsentVerifyCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "verify", Short: "Check the consent ledger's hash chain", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsentVerify(cmd.Context(), gopts)
		},
	}
}

func runConsentVerify(ctx context.Context, gopts *globalOptions) error {
	var v privacy.VerifyResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { v, err = cl.Privacy.VerifyLedger(ctx); return }); err != nil {
		return err
	}
	if err := output(gopts, v, func(w io.Writer) {
		if v.OK {
			fmt.Fprintf(w, "consent ledger OK: %d records, head %.16s\n", v.Records, v.Head)
		} else {
			fmt.Fprintf(w, "consent ledger DAMAGED at record %d: %s\n", v.BadSeq, v.Problem)
		}
	}); err != nil {
		return err
	}
	if !v.OK {
		return exitError{code: 2, err: fmt.Errorf("the consent ledger failed its check")}
	}
	return nil
}
