package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"atelier/app/privacy"
)

// privacyConfirm asks a yes/no question on the terminal; without a terminal
// it refuses and tells the user to pass --yes.
func privacyConfirm(question string) (bool, error) {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false, fmt.Errorf("%s: not asking without a terminal; pass --yes to confirm", strings.TrimSuffix(question, "?"))
	}
	fmt.Fprintf(os.Stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

func privacyIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func privacyTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func newConsentCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "consent", Short: "See and change what Atelier may collect (the consent ledger)"}
	list := &cobra.Command{
		Use: "list", Short: "List purposes and whether each is granted", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []privacy.PurposeState
			if err := call(cmd.Context(), gopts, "Privacy.Purposes", &out); err != nil {
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
		},
	}
	policy := &cobra.Command{
		Use: "policy PURPOSE", Short: "Show a purpose's description and full policy text", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []privacy.PurposeState
			if err := call(cmd.Context(), gopts, "Privacy.Purposes", &out); err != nil {
				return err
			}
			for _, p := range out {
				if p.Name == args[0] {
					return output(gopts, p, func(w io.Writer) {
						fmt.Fprintf(w, "%s — %s\n\n%s\n\n%s\n\npolicy version %s, sha256 %s\n", p.Name, p.Title, p.Description, p.Policy, p.Version, p.SHA256)
					})
				}
			}
			_, err := privacy.Lookup(args[0])
			return err
		},
	}
	var where string
	grant := &cobra.Command{
		Use: "grant PURPOSE", Short: "Grant a purpose (recorded in the ledger first)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r privacy.LedgerRecord
			if err := call(cmd.Context(), gopts, "Privacy.Grant", &r, args[0], where); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) { fmt.Fprintf(w, "granted %s (ledger record %d)\n", r.Purpose, r.Seq) })
		},
	}
	grant.Flags().StringVar(&where, "where", "cli", "where the decision was made, for the ledger")
	deny := &cobra.Command{
		Use: "deny PURPOSE", Short: "Record that a purpose is refused", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r privacy.LedgerRecord
			if err := call(cmd.Context(), gopts, "Privacy.Deny", &r, args[0], "cli"); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) { fmt.Fprintf(w, "denied %s (ledger record %d)\n", r.Purpose, r.Seq) })
		},
	}
	var erase, keep bool
	withdraw := &cobra.Command{
		Use: "withdraw PURPOSE", Short: "Withdraw a purpose, and optionally erase what was collected under it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := privacy.Lookup(args[0]); err != nil {
				return err
			}
			if !erase && !keep && privacyIsTerminal() {
				ok, err := privacyConfirm(fmt.Sprintf("Also erase everything collected under %s?", args[0]))
				if err != nil {
					return err
				}
				erase = ok
			}
			var r privacy.LedgerRecord
			if err := call(cmd.Context(), gopts, "Privacy.WithdrawAt", &r, args[0], "cli", erase); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) {
				fmt.Fprintf(w, "withdrew %s (ledger record %d)", r.Purpose, r.Seq)
				if r.Erased {
					fmt.Fprint(w, "; its data was erased")
				}
				fmt.Fprintln(w)
			})
		},
	}
	withdraw.Flags().BoolVar(&erase, "erase", false, "also erase everything collected under the purpose")
	withdraw.Flags().BoolVar(&keep, "keep-data", false, "keep what was collected (do not ask)")
	history := &cobra.Command{
		Use: "history [PURPOSE]", Short: "Show the consent ledger", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := optionalArg(args)
			var out []privacy.LedgerRecord
			if err := call(cmd.Context(), gopts, "Privacy.History", &out, p); err != nil {
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
		},
	}
	verify := &cobra.Command{
		Use: "verify", Short: "Check the consent ledger's hash chain", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var v privacy.VerifyResult
			if err := call(cmd.Context(), gopts, "Privacy.VerifyLedger", &v); err != nil {
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
		},
	}
	c.AddCommand(list, policy, grant, deny, withdraw, history, verify)
	return c
}

func newAnalyticsCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "analytics", Short: "Local analytics and audience statistics: dashboard, import, export, erase"}
	var q privacy.DashboardQuery
	dash := &cobra.Command{
		Use: "dashboard", Short: "Show totals, a daily series and breakdowns from the rollups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var d privacy.Dashboard
			if err := call(cmd.Context(), gopts, "Privacy.Dashboard", &d, q); err != nil {
				return err
			}
			return output(gopts, d, func(w io.Writer) { privacyPrintDashboard(w, d) })
		},
	}
	dash.Flags().StringVar(&q.From, "from", "", "first day, YYYY-MM-DD (default: 29 days before --to)")
	dash.Flags().StringVar(&q.To, "to", "", "last day, YYYY-MM-DD (default: today)")
	dash.Flags().StringVar(&q.Source, "source", "analytics", "analytics (usage events) or audience (imported statistics)")
	dash.Flags().StringVar(&q.Metric, "metric", "", "metric to chart (default: the largest)")

	var m privacy.AudienceMapping
	var metrics []string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a platform's statistics CSV (all rows or none)",
		Long: "Import plays, streams, views or sales per day from a platform export, under the audience.import purpose.\n" +
			"Recognised exports: " + strings.Join(privacy.AudiencePlatforms()[2:], ", ") + " (--platform auto detects them).\n" +
			"Any other file: --platform generic --date COLUMN --metric 'COLUMN=metric' [--item COLUMN] [--platform-column COLUMN].\n" +
			"Importing the same data again changes nothing; a newer export replaces the values it overlaps.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m.Metrics = map[string]string{}
			for _, x := range metrics {
				col, name, _ := strings.Cut(x, "=")
				m.Metrics[col] = name
			}
			path, err := privacyAbs(args[0])
			if err != nil {
				return err
			}
			var r privacy.ImportResult
			if err := call(cmd.Context(), gopts, "Privacy.ImportAudience", &r, path, m); err != nil {
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
		},
	}
	imp.Flags().StringVar(&m.Platform, "platform", "auto", "auto, generic, "+strings.Join(privacy.AudiencePlatforms()[2:], ", "))
	imp.Flags().StringVar(&m.Date, "date", "", "date column (generic)")
	imp.Flags().StringVar(&m.Item, "item", "", "track or product column")
	imp.Flags().StringVar(&m.PlatformColumn, "platform-column", "", "column naming the store or platform of each row")
	imp.Flags().StringArrayVar(&metrics, "metric", nil, "COLUMN=metric, repeatable (e.g. 'Units Sold=sales')")
	imp.Flags().StringVar(&m.DateFormat, "date-format", "", "DD/MM/YYYY or MM/DD/YYYY for slashed dates")

	export := &cobra.Command{
		Use: "export [DIR]", Short: "Export all privacy data: one JSON file plus a CSV per table", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				var err error
				if dir, err = privacyAbs(args[0]); err != nil {
					return err
				}
			}
			var r privacy.ExportResult
			if err := call(cmd.Context(), gopts, "Privacy.Export", &r, dir); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) {
				fmt.Fprintf(w, "exported to %s\n", r.Dir)
				for _, f := range r.Files {
					fmt.Fprintf(w, "  %s\n", f)
				}
			})
		},
	}
	var yes bool
	erase := &cobra.Command{
		Use: "erase PURPOSE|all", Short: "Erase everything collected under a purpose, or under all of them", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := privacy.ErasePrefixes(args[0]); err != nil {
				return err
			}
			if !yes {
				what := "everything collected under " + args[0]
				if args[0] == privacy.EraseAll {
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
			if err := call(cmd.Context(), gopts, "Privacy.Erase", &r, args[0]); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) {
				fmt.Fprintf(w, "erased %s: %d keys\n", strings.Join(r.Purposes, ", "), r.Keys)
			})
		},
	}
	erase.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	events := &cobra.Command{
		Use: "events", Short: "List the allow-listed usage events and their fields", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []privacy.EventDef
			if err := call(cmd.Context(), gopts, "Privacy.Events", &out); err != nil {
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
		},
	}
	dropped := &cobra.Command{
		Use: "dropped", Short: "Show how many events were dropped, per purpose and reason", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []privacy.DroppedCount
			if err := call(cmd.Context(), gopts, "Privacy.Dropped", &out); err != nil {
				return err
			}
			return output(gopts, out, func(w io.Writer) {
				fmt.Fprintln(w, "PURPOSE\tREASON\tCOUNT")
				for _, d := range out {
					fmt.Fprintf(w, "%s\t%s\t%d\n", d.Purpose, d.Reason, d.Count)
				}
			})
		},
	}
	c.AddCommand(dash, imp, export, erase, events, dropped)
	return c
}

// privacyAbs makes a path absolute: a running engine has another working directory.
func privacyAbs(p string) (string, error) {
	a, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	return a, nil
}

func privacyNum(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
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

func newExperimentCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "experiment", Short: "Reversible A/B experiments: create, list, show, stop"}
	var n privacy.NewExperiment
	var variants []string
	create := &cobra.Command{
		Use:   "create NAME --variant NAME[=VALUE][:WEIGHT] --variant ...",
		Short: "Create and start an experiment (the first variant is the original)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n.Name = args[0]
			n.Variants = nil
			for _, v := range variants {
				spec, weight := v, 1
				if i := strings.LastIndexByte(v, ':'); i >= 0 {
					w, err := strconv.Atoi(v[i+1:])
					if err != nil {
						return fmt.Errorf("variant %q: the weight after ':' must be a whole number", v)
					}
					spec, weight = v[:i], w
				}
				name, value, _ := strings.Cut(spec, "=")
				n.Variants = append(n.Variants, privacy.Variant{Name: name, Value: value, Weight: weight})
			}
			var x privacy.Experiment
			if err := call(cmd.Context(), gopts, "Privacy.ExperimentCreate", &x, n); err != nil {
				return err
			}
			return output(gopts, x, func(w io.Writer) {
				fmt.Fprintf(w, "experiment %s is running with %d variants\n", x.ID, len(x.Variants))
			})
		},
	}
	create.Flags().StringArrayVar(&variants, "variant", nil, "NAME[=VALUE][:WEIGHT], at least two; the first is the original")
	create.Flags().StringVar(&n.Metric, "metric", "conversion", "what counts as a conversion (download, purchase...)")
	create.Flags().StringVar(&n.Description, "description", "", "what the experiment tries")
	list := &cobra.Command{
		Use: "list", Short: "List experiments with their results", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []privacy.ExperimentResult
			if err := call(cmd.Context(), gopts, "Privacy.ExperimentList", &out); err != nil {
				return err
			}
			return output(gopts, out, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tSTATUS\tMETRIC\tVARIANTS\tEXPOSURES\tVERDICT")
				for _, x := range out {
					var exp int64
					names := make([]string, len(x.Variants))
					for i, v := range x.Variants {
						names[i] = v.Name
					}
					for _, r := range x.Results {
						exp += r.Exposures
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", x.ID, x.Status, x.Metric, strings.Join(names, ","), exp, x.Verdict)
				}
			})
		},
	}
	show := &cobra.Command{
		Use: "show ID", Short: "Show an experiment's results and its full history", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var x privacy.ExperimentResult
			if err := call(cmd.Context(), gopts, "Privacy.ExperimentShow", &x, args[0]); err != nil {
				return err
			}
			return output(gopts, x, func(w io.Writer) { privacyPrintExperiment(w, x) })
		},
	}
	var keep, reason string
	stop := &cobra.Command{
		Use: "stop ID", Short: "Stop an experiment: --keep VARIANT for everyone, or roll back to the original", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var x privacy.Experiment
			if err := call(cmd.Context(), gopts, "Privacy.ExperimentStop", &x, args[0], keep, reason); err != nil {
				return err
			}
			return output(gopts, x, func(w io.Writer) { fmt.Fprintf(w, "experiment %s %s: everyone gets %s\n", x.ID, x.Status, x.Kept) })
		},
	}
	stop.Flags().StringVar(&keep, "keep", "", "variant everyone gets from now on (default: the original, i.e. roll back)")
	stop.Flags().StringVar(&reason, "reason", "", "why, for the history")
	expose := &cobra.Command{
		Use: "expose ID UNIT", Short: "Print the variant a visitor sees and count an exposure", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var a privacy.Assignment
			if err := call(cmd.Context(), gopts, "Privacy.ExperimentExpose", &a, args[0], args[1]); err != nil {
				return err
			}
			return output(gopts, a, func(w io.Writer) { fmt.Fprintf(w, "%s\t%s\n", a.Variant, a.Value) })
		},
	}
	convert := &cobra.Command{
		Use: "convert ID UNIT", Short: "Count a conversion for a visitor", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var a privacy.Assignment
			if err := call(cmd.Context(), gopts, "Privacy.ExperimentConvert", &a, args[0], args[1]); err != nil {
				return err
			}
			return output(gopts, a, func(w io.Writer) { fmt.Fprintf(w, "%s\t%v\n", a.Variant, a.Recorded) })
		},
	}
	c.AddCommand(create, list, show, stop, expose, convert)
	return c
}

func privacyPrintExperiment(w io.Writer, x privacy.ExperimentResult) {
	fmt.Fprintf(w, "%s (%s): %s, metric %s\n", x.Name, x.ID, x.Status, x.Metric)
	if x.Kept != "" {
		fmt.Fprintf(w, "everyone gets %s\n", x.Kept)
	}
	fmt.Fprintln(w, "\nVARIANT\tVALUE\tEXPOSURES\tCONVERSIONS\tRATE\tVS ORIGINAL (95% CI)\tP")
	for i, r := range x.Results {
		cmp := "original"
		p := ""
		if i > 0 {
			if r.Enough && x.Enough {
				cmp = fmt.Sprintf("%+.2f pts (%+.2f to %+.2f)", 100*r.Diff, 100*r.CILow, 100*r.CIHigh)
				p = fmt.Sprintf("%.3g", r.PValue)
			} else {
				cmp = "not enough data yet"
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.2f%%\t%s\t%s\n", r.Variant, r.Value, r.Exposures, r.Conversions, 100*r.Rate, cmp, p)
	}
	fmt.Fprintf(w, "\n%s\n\nHISTORY\n", x.Verdict)
	for _, h := range x.History {
		fmt.Fprintf(w, "%s\t%s\t%s\n", h.Time.Local().Format("2006-01-02 15:04"), h.Action, h.Detail)
	}
}
