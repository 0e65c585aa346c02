package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/privacy"
)

// `atelier analytics`: local analytics and audience statistics.

func newAnalyticsCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "analytics", Short: "Local analytics and audience statistics: dashboard, import, export, erase"}
	c.AddCommand(
		newAnalyticsDashboardCommand(gopts),
		newAnalyticsImportCommand(gopts),
		newAnalyticsExportCommand(gopts),
		newAnalyticsEraseCommand(gopts),
		newAnalyticsEventsCommand(gopts),
		newAnalyticsDroppedCommand(gopts),
	)
	return c
}

type analyticsDashboardOptions struct {
	query privacy.DashboardQuery
}

func newAnalyticsDashboardCommand(gopts *globalOptions) *cobra.Command {
	var opts analyticsDashboardOptions
	c := &cobra.Command{
		Use: "dashboard", Short: "Show totals, a daily series and breakdowns from the rollups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyticsDashboard(cmd.Context(), gopts, opts)
		},
	}
	c.Flags().StringVar(&opts.query.From, "from", "", "first day, YYYY-MM-DD (default: 29 days before --to)")
	c.Flags().StringVar(&opts.query.To, "to", "", "last day, YYYY-MM-DD (default: today)")
	c.Flags().StringVar(&opts.query.Source, "source", "analytics", "analytics (usage events) or audience (imported statistics)")
	c.Flags().StringVar(&opts.query.Metric, "metric", "", "metric to chart (default: the largest)")
	return c
}

func runAnalyticsDashboard(ctx context.Context, gopts *globalOptions, opts analyticsDashboardOptions) error {
	var d privacy.Dashboard
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { d, err = cl.Privacy.Dashboard(ctx, opts.query); return }); err != nil {
		return err
	}
	return output(gopts, d, func(w io.Writer) { privacyPrintDashboard(w, d) })
}

type analyticsImportOptions struct {
	mapping privacy.AudienceMapping
	metrics []string // COLUMN=metric
}

func newAnalyticsImportCommand(gopts *globalOptions) *cobra.Command {
	var opts analyticsImportOptions
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a platform's statistics CSV (all rows or none)",
		Long: "Import plays, streams, views or sales per day from a platform export, under the audience.import purpose.\n" +
			"Recognised exports: " + strings.Join(privacy.AudiencePlatforms()[2:], ", ") + " (--platform auto detects them).\n" +
			"Any other file: --platform generic --date COLUMN --metric 'COLUMN=metric' [--item COLUMN] [--platform-column COLUMN].\n" +
			"Importing the same data again changes nothing; a newer export replaces the values it overlaps.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyticsImport(cmd.Context(), gopts, opts, args[0])
		},
	}
	m := &opts.mapping
	c.Flags().StringVar(&m.Platform, "platform", "auto", "auto, generic, "+strings.Join(privacy.AudiencePlatforms()[2:], ", "))
	c.Flags().StringVar(&m.Date, "date", "", "date column (generic)")
	c.Flags().StringVar(&m.Item, "item", "", "track or product column")
	c.Flags().StringVar(&m.PlatformColumn, "platform-column", "", "column naming the store or platform of each row")
	c.Flags().StringArrayVar(&opts.metrics, "metric", nil, "COLUMN=metric, repeatable (e.g. 'Units Sold=sales')")
	c.Flags().StringVar(&m.DateFormat, "date-format", "", "DD/MM/YYYY or MM/DD/YYYY for slashed dates")
	return c
}

func runAnalyticsImport(ctx context.Context, gopts *globalOptions, opts analyticsImportOptions, file string) error {
	m := opts.mapping
	m.Metrics = map[string]string{}
	for _, x := range opts.metrics {
		col, name, _ := strings.Cut(x, "=")
		m.Metrics[col] = name
	}
	path, err := privacyAbs(file)
	if err != nil {
		return err
	}
	var r privacy.ImportResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Privacy.ImportAudience(ctx, path, m); return }); err != nil {
		return err
	}
	if err := output(gopts, r, func(w io.Writer) {
		switch {
		case r.Duplicate:
			fmt.Fprintf(w, "%s was imported before (import %s): nothing changed\n", r.File, r.ID)
		case r.OK:
			fmt.Fprintf(w, "imported %s as %s: %d rows, %d values (%d new, %d updated, %d unchanged), %s to %s, metrics %s\n",
				r.File, r.Platform, r.Rows, r.Values, r.New, r.Updated, r.Unchanged, r.From, r.To, strings.Join(r.Metrics, ", "))
		default:
			fmt.Fprintf(w, "nothing was imported from %s: %d of %d rows have errors\n", r.File, r.ErrorRows, r.Rows)
			fmt.Fprintln(w, "ROW\tCOLUMN\tERROR")
			for _, e := range r.Errors {
				fmt.Fprintf(w, "%d\t%s\t%s\n", e.Row, e.Column, e.Error)
			}
			if r.ErrorRows > int64(len(r.Errors)) {
				fmt.Fprintf(w, "…\t\t%d more\n", r.ErrorRows-int64(len(r.Errors)))
			}
		}
	}); err != nil {
		return err
	}
	if !r.OK {
		return exitError{code: 1, err: fmt.Errorf("%s: fix the rows above and import again", r.File)}
	}
	return nil
}

func newAnalyticsExportCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "export [DIR]", Short: "Export all privacy data: one JSON file plus a CSV per table", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyticsExport(cmd.Context(), gopts, args)
		},
	}
}

func runAnalyticsExport(ctx context.Context, gopts *globalOptions, args []string) error {
	dir := ""
	if len(args) == 1 {
		var err error
		if dir, err = privacyAbs(args[0]); err != nil {
			return err
		}
	}
	var r privacy.ExportResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Privacy.Export(ctx, dir); return }); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) {
		fmt.Fprintf(w, "exported to %s\n", r.Dir)
		for _, f := range r.Files {
			fmt.Fprintf(w, "  %s\n", f)
		}
	})
}

type analyticsEraseOptions struct {
	yes bool
}

func newAnalyticsEraseCommand(gopts *globalOptions) *cobra.Command {
	var opts analyticsEraseOptions
	c := &cobra.Command{
		Use: "erase PURPOSE|all", Short: "Erase everything collected under a purpose, or under all of them", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyticsErase(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	return c
}

func runAnalyticsErase(ctx context.Context, gopts *globalOptions, opts analyticsEraseOptions, purpose string) error {
	if _, err := privacy.ErasePrefixes(purpose); err != nil {
		return err
	}
	if !opts.yes {
		what := "everything collected under " + purpose
		if purpose == privacy.EraseAll {
			what = "ALL privacy data (events, counts, audience statistics, experiments, the cloud sync queue and state; the consent ledger stays)"
		}
		ok, err := privacyConfirm("Erase " + what + "? This cannot be undone.")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("nothing erased")
		}
	}
	var r privacy.EraseResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Privacy.Erase(ctx, purpose); return }); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) {
		fmt.Fprintf(w, "erased %s: %d keys\n", strings.Join(r.Purposes, ", "), r.Keys)
	})
}

func newAnalyticsEventsCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "events", Short: "List the allow-listed usage events and their fields", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyticsEvents(cmd.Context(), gopts)
		},
	}
}

func runAnalyticsEvents(ctx context.Context, gopts *globalOptions) error {
	var out []privacy.EventDef
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Privacy.Events(ctx); return }); err != nil {
		return err
	}
	return output(gopts, out, func(w io.Writer) {
		fmt.Fprintln(w, "EVENT\tPURPOSE\tFIELDS")
		for _, e := range out {
			var fs []string
			for _, f := range e.Fields {
				fs = append(fs, f.Name+"("+string(f.Kind)+")")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", e.Name, e.Purpose, strings.Join(fs, " "))
		}
	})
}

func newAnalyticsDroppedCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "dropped", Short: "Show how many events were dropped, per purpose and reason", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyticsDropped(cmd.Context(), gopts)
		},
	}
}

func runAnalyticsDropped(ctx context.Context, gopts *globalOptions) error {
	var out []privacy.DroppedCount
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Privacy.Dropped(ctx); return }); err != nil {
		return err
	}
	return output(gopts, out, func(w io.Writer) {
		fmt.Fprintln(w, "PURPOSE\tREASON\tCOUNT")
		for _, d := range out {
			fmt.Fprintf(w, "%s\t%s\t%d\n", d.Purpose, d.Reason, d.Count)
		}
	})
}

func privacyPrintDashboard(w io.Writer, d privacy.Dashboard) {
	fmt.Fprintf(w, "%s, %s to %s", d.Source, d.From, d.To)
	if !d.Granted {
		fmt.Fprintf(w, " (%s is not granted: nothing new is collected)", d.Purpose)
	}
	fmt.Fprintln(w)
	if len(d.Metrics) == 0 {
		fmt.Fprintln(w, "no data in this range")
		return
	}
	fmt.Fprintln(w, "\nMETRIC\tTOTAL")
	for _, m := range d.Metrics {
		fmt.Fprintf(w, "%s\t%s\n", m.Name, privacyNum(m.Value))
	}
	max := 0.0
	for _, p := range d.Series {
		if p.Value > max {
			max = p.Value
		}
	}
	fmt.Fprintf(w, "\n%s by %s\n", d.Metric, map[string]string{"h": "hour", "d": "day", "m": "month"}[d.Granularity])
	for _, p := range d.Series {
		bar := 0
		if max > 0 {
			bar = int(p.Value / max * 40)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.Bucket, privacyNum(p.Value), strings.Repeat("█", bar))
	}
	if len(d.Top) > 0 {
		fmt.Fprintln(w, "\nTOP\tVALUE")
		for _, t := range d.Top {
			fmt.Fprintf(w, "%s\t%s\n", t.Name, privacyNum(t.Value))
		}
	}
	for _, b := range d.Breakdowns {
		fmt.Fprintf(w, "\nBY %s\tVALUE\n", strings.ToUpper(b.Field))
		for _, it := range b.Items {
			fmt.Fprintf(w, "%s\t%s\n", it.Name, privacyNum(it.Value))
		}
	}
}
