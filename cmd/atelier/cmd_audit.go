package main

import (
	"context"
	"fmt"
	"io"

	"atelier/app/client"

	"atelier/app/modules"

	"github.com/spf13/cobra"
)

// `atelier audit`: the module audit log.

type auditOptions struct {
	limit int
}

func newAuditCommand(gopts *globalOptions) *cobra.Command {
	var opts auditOptions
	c := &cobra.Command{
		Use:   "audit",
		Short: "Show the module audit log: verifications, installs, removals and trust changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), gopts, opts)
		},
	}
	c.Flags().IntVarP(&opts.limit, "limit", "n", 50, "how many entries, newest first")
	return c
}

func runAudit(ctx context.Context, gopts *globalOptions, opts auditOptions) error {
	var es []modules.AuditEntry
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { es, err = cl.Modules.Audit(ctx, opts.limit); return }); err != nil {
		return err
	}
	return output(gopts, es, func(w io.Writer) {
		fmt.Fprintln(w, "TIME\tACTION\tSUBJECT\tVERSION\tOUTCOME\tDETAIL")
		for _, e := range es {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Action, e.Subject, e.Version, e.Outcome, e.Detail)
		}
	})
}
