package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/privacy"
)

// `atelier experiment`: reversible A/B experiments.

func newExperimentCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "experiment", Short: "Reversible A/B experiments: create, list, show, stop"}
	c.AddCommand(
		newExperimentCreateCommand(gopts),
		newExperimentListCommand(gopts),
		newExperimentShowCommand(gopts),
		newExperimentStopCommand(gopts),
		newExperimentExposeCommand(gopts),
		newExperimentConvertCommand(gopts),
	)
	return c
}

type experimentCreateOptions struct {
	experiment privacy.NewExperiment
	variants   []string // NAME[=VALUE][:WEIGHT]
}

func newExperimentCreateCommand(gopts *globalOptions) *cobra.Command {
	var opts experimentCreateOptions
	c := &cobra.Command{
		Use:   "create NAME --variant NAME[=VALUE][:WEIGHT] --variant ...",
		Short: "Create and start an experiment (the first variant is the original)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentCreate(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringArrayVar(&opts.variants, "variant", nil, "NAME[=VALUE][:WEIGHT], at least two; the first is the original")
	c.Flags().StringVar(&opts.experiment.Metric, "metric", "conversion", "what counts as a conversion (download, purchase...)")
	c.Flags().StringVar(&opts.experiment.Description, "description", "", "what the experiment tries")
	return c
}

func runExperimentCreate(ctx context.Context, gopts *globalOptions, opts experimentCreateOptions, experiment string) error {
	n := opts.experiment
	n.Name = experiment
	n.Variants = nil
	for _, v := range opts.variants {
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
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { x, err = cl.Privacy.ExperimentCreate(ctx, n); return }); err != nil {
		return err
	}
	return output(gopts, x, func(w io.Writer) {
		fmt.Fprintf(w, "experiment %s is running with %d variants\n", x.ID, len(x.Variants))
	})
}

func newExperimentListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List experiments with their results", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentList(cmd.Context(), gopts)
		},
	}
}

func runExperimentList(ctx context.Context, gopts *globalOptions) error {
	var out []privacy.ExperimentResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Privacy.ExperimentList(ctx); return }); err != nil {
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
}

func newExperimentShowCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show an experiment's results and its full history", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentShow(cmd.Context(), gopts, args[0])
		},
	}
}

func runExperimentShow(ctx context.Context, gopts *globalOptions, id string) error {
	var x privacy.ExperimentResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { x, err = cl.Privacy.ExperimentShow(ctx, id); return }); err != nil {
		return err
	}
	return output(gopts, x, func(w io.Writer) { privacyPrintExperiment(w, x) })
}

type experimentStopOptions struct {
	keep, reason string
}

func newExperimentStopCommand(gopts *globalOptions) *cobra.Command {
	var opts experimentStopOptions
	c := &cobra.Command{
		Use: "stop ID", Short: "Stop an experiment: --keep VARIANT for everyone, or roll back to the original", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentStop(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.keep, "keep", "", "variant everyone gets from now on (default: the original, i.e. roll back)")
	c.Flags().StringVar(&opts.reason, "reason", "", "why, for the history")
	return c
}

func runExperimentStop(ctx context.Context, gopts *globalOptions, opts experimentStopOptions, id string) error {
	var x privacy.Experiment
	if err := do(ctx, gopts, func(cl *client.Client) (err error) {
		x, err = cl.Privacy.ExperimentStop(ctx, id, opts.keep, opts.reason)
		return
	}); err != nil {
		return err
	}
	return output(gopts, x, func(w io.Writer) { fmt.Fprintf(w, "experiment %s %s: everyone gets %s\n", x.ID, x.Status, x.Kept) })
}

func newExperimentExposeCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "expose ID UNIT", Short: "Print the variant a visitor sees and count an exposure", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentExpose(cmd.Context(), gopts, args[0], args[1])
		},
	}
}

func runExperimentExpose(ctx context.Context, gopts *globalOptions, id, unit string) error {
	var a privacy.Assignment
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { a, err = cl.Privacy.ExperimentExpose(ctx, id, unit); return }); err != nil {
		return err
	}
	return output(gopts, a, func(w io.Writer) { fmt.Fprintf(w, "%s\t%s\n", a.Variant, a.Value) })
}

func newExperimentConvertCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "convert ID UNIT", Short: "Count a conversion for a visitor", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExperimentConvert(cmd.Context(), gopts, args[0], args[1])
		},
	}
}

func runExperimentConvert(ctx context.Context, gopts *globalOptions, id, unit string) error {
	var a privacy.Assignment
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { a, err = cl.Privacy.ExperimentConvert(ctx, id, unit); return }); err != nil {
		return err
	}
	return output(gopts, a, func(w io.Writer) { fmt.Fprintf(w, "%s\t%v\n", a.Variant, a.Recorded) })
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
