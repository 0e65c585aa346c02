package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"atelier/app/client"
	"atelier/app/history"
	"atelier/humanize"
)

// Local history: `atelier history`, `restore`, `milestone`, `diff`.

type historyOptions struct {
	deleted    bool
	milestones bool
	browse     string
	at         string
	on, off    bool
}

func newHistoryCommand(gopts *globalOptions) *cobra.Command {
	var o historyOptions
	c := &cobra.Command{
		Use:   "history PROJECT [PATH]",
		Short: "Local history: a project's timeline, or the versions of one file",
		Long: "Without PATH: the project's timeline (newest first, with milestones). With PATH: the versions of that file, following renames.\n" +
			"--deleted lists deleted files that can be restored; --browse DIR --at POINT lists a folder as it was.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHistory(cmd.Context(), gopts, o, args)
		},
	}
	c.Flags().BoolVar(&o.deleted, "deleted", false, "list deleted files that can be restored")
	c.Flags().BoolVar(&o.milestones, "milestones", false, "list milestones")
	c.Flags().StringVar(&o.browse, "browse", "", "list this folder (\"/\" for the top) as it was --at a point")
	c.Flags().StringVar(&o.at, "at", "", "a version number, milestone, time (2006-01-02 15:04) or date")
	c.Flags().BoolVar(&o.on, "on", false, "turn history on for the project")
	c.Flags().BoolVar(&o.off, "off", false, "turn history off for the project (versions taken stay)")
	c.AddCommand(newHistoryBudgetCommand(gopts))
	return c
}

func runHistory(ctx context.Context, gopts *globalOptions, o historyOptions, args []string) error {
	project := args[0]
	return do(ctx, gopts, func(cl *client.Client) error {
		switch {
		case o.on || o.off:
			if o.on && o.off {
				return fmt.Errorf("give --on or --off, not both")
			}
			if err := cl.History.SetEnabled(ctx, project, o.on); err != nil {
				return err
			}
			state := map[bool]string{true: "on", false: "off"}[o.on]
			return output(gopts, map[string]any{"project": project, "history": state}, func(w io.Writer) {
				fmt.Fprintf(w, "Local history of %s is %s.\n", project, state)
			})
		case o.deleted:
			ds, err := cl.History.Deleted(ctx, project)
			if err != nil {
				return err
			}
			return output(gopts, ds, func(w io.Writer) {
				fmt.Fprintln(w, "PATH\tDELETED\tSIZE\tLAST VERSION")
				for _, d := range ds {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", d.Path, d.Time.Local().Format("2006-01-02 15:04"), humanize.Bytes(d.Size), d.LastSeq)
				}
			})
		case o.milestones:
			ms, err := cl.History.Milestones(ctx, project)
			if err != nil {
				return err
			}
			return output(gopts, ms, func(w io.Writer) {
				fmt.Fprintln(w, "MILESTONE\tVERSION\tTIME")
				for _, m := range ms {
					fmt.Fprintf(w, "%s\t%d\t%s\n", m.Name, m.Seq, m.Time.Local().Format("2006-01-02 15:04"))
				}
			})
		case o.browse != "":
			br, err := cl.History.Browse(ctx, project, o.at, strings.Trim(o.browse, "/"))
			if err != nil {
				return err
			}
			return output(gopts, br, func(w io.Writer) {
				fmt.Fprintf(w, "%s/%s at version %d (%s)\n", project, br.Dir, br.Point.Seq, br.Point.Time.Local().Format("2006-01-02 15:04"))
				for _, e := range br.Entries {
					if e.Dir {
						fmt.Fprintf(w, "%s/\n", e.Name)
					} else {
						fmt.Fprintf(w, "%s\t%s\t%s\n", e.Name, humanize.Bytes(e.Size), e.ModTime.Local().Format("2006-01-02 15:04"))
					}
				}
			})
		case len(args) == 2:
			vs, err := cl.History.Versions(ctx, project, args[1])
			if err != nil {
				return err
			}
			return output(gopts, vs, func(w io.Writer) {
				if len(vs) == 0 {
					fmt.Fprintf(w, "No versions of %s yet (a version is taken a few seconds after a change).\n", args[1])
					return
				}
				fmt.Fprintln(w, "VERSION\tTIME\tSIZE\tCHANGE")
				for _, v := range vs {
					what := string(v.Op)
					if v.From != "" {
						what += " (" + v.From + ")"
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", v.Seq, v.Time.Local().Format("2006-01-02 15:04:05"), humanize.Bytes(v.Size), what)
				}
			})
		default:
			tl, err := cl.History.Timeline(ctx, project)
			if err != nil {
				return err
			}
			return output(gopts, tl, func(w io.Writer) {
				fmt.Fprintln(w, "VERSION\tTIME\tFILES\tSIZE\tCHANGED\tMILESTONES")
				for _, s := range tl {
					ch := strings.Join(s.Changed, ", ")
					if len(ch) > 60 {
						ch = ch[:57] + "..."
					}
					if s.More > 0 {
						ch += fmt.Sprintf(" (+%d)", s.More)
					}
					fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\n", s.Seq, s.Time.Local().Format("2006-01-02 15:04:05"), s.Files, humanize.Bytes(s.Bytes), ch, strings.Join(s.Milestones, ", "))
				}
			})
		}
	})
}

func newHistoryBudgetCommand(gopts *globalOptions) *cobra.Command {
	var capStr string
	var share int
	c := &cobra.Command{
		Use:   "budget",
		Short: "Show or set the size cap of local history (--cap 20G, or --share PERCENT of the disk)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return do(ctx, gopts, func(cl *client.Client) error {
				var bi history.BudgetInfo
				var err error
				if capStr != "" || share > 0 {
					b := history.Budget{SharePercent: share}
					if capStr != "" {
						if b.CapBytes, err = parseSize(capStr); err != nil {
							return err
						}
					}
					bi, err = cl.History.SetBudget(ctx, b)
				} else {
					bi, err = cl.History.Budget(ctx)
				}
				if err != nil {
					return err
				}
				return output(gopts, bi, func(w io.Writer) {
					how := fmt.Sprintf("%d%% of the disk", bi.Budget.SharePercent)
					if bi.Budget.CapBytes > 0 {
						how = "set"
					}
					fmt.Fprintf(w, "Local history uses %s of its %s budget (%s); %s free on its disk.\n", humanize.Bytes(bi.UsedBytes), humanize.Bytes(bi.CapBytes), how, humanize.Bytes(bi.FreeBytes))
					fmt.Fprintln(w, "PROJECT\tHISTORY\tPOINTS\tVERSIONS\tFILES\tSIZE NOW")
					for _, p := range bi.Projects {
						state := "on"
						if p.Off {
							state = "off"
						}
						if p.Paused != "" {
							state = "paused: " + p.Paused
						}
						fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\n", p.Project, state, p.Points, p.Versions, p.Files, humanize.Bytes(p.Bytes))
					}
				})
			})
		},
	}
	c.Flags().StringVar(&capStr, "cap", "", "size cap, like 500M or 20G")
	c.Flags().IntVar(&share, "share", 0, "cap as a share of the disk's free space (percent)")
	return c
}

// parseSize reads 1500, 500K, 500M, 20G, 1T (powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("size %q: give a number with K, M, G or T, like 20G", s)
	}
	return int64(f * float64(mult)), nil
}

func newRestoreCommand(gopts *globalOptions) *cobra.Command {
	var at, as string
	var copyBeside bool
	c := &cobra.Command{
		Use:   "restore PROJECT PATH",
		Short: "Restore a file or folder from local history, in place (what is there becomes a version first) or --as a copy",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var res history.RestoreResult
			err := do(ctx, gopts, func(cl *client.Client) (err error) {
				res, err = cl.History.Restore(ctx, history.RestoreRequest{Project: args[0], Path: args[1], At: at, As: as, Copy: copyBeside})
				return
			})
			if err != nil {
				return err
			}
			return output(gopts, res, func(w io.Writer) {
				if res.As != "" {
					fmt.Fprintf(w, "Version %d of %s saved as %s.\n", res.From, args[1], res.As)
				} else {
					fmt.Fprintf(w, "Restored %d file(s) of %s from version %d", len(res.Paths), args[1], res.From)
					if res.Before > 0 {
						fmt.Fprintf(w, "; what was there is version %d (`atelier restore %s %s --at %d` brings it back)", res.Before, args[0], args[1], res.Before)
					}
					fmt.Fprintln(w, ".")
				}
				if res.Note != "" {
					fmt.Fprintln(w, res.Note)
				}
			})
		},
	}
	c.Flags().StringVar(&at, "at", "", "a version number, milestone, time (2006-01-02 15:04) or date (default: the latest; a deleted file's last)")
	c.Flags().StringVar(&as, "as", "", "save the version as this file (a path in the project) instead of in place")
	c.Flags().BoolVar(&copyBeside, "copy", false, "save the version beside the file as \"NAME (version N).EXT\"")
	return c
}

func newMilestoneCommand(gopts *globalOptions) *cobra.Command {
	var at string
	var remove bool
	c := &cobra.Command{
		Use:   "milestone PROJECT NAME",
		Short: "Name a point of a project's history (kept until removed), like \"sent to mastering\"",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return do(ctx, gopts, func(cl *client.Client) error {
				if remove {
					if err := cl.History.RemoveMilestone(ctx, args[0], args[1]); err != nil {
						return err
					}
					return output(gopts, map[string]string{"removed": args[1]}, func(w io.Writer) { fmt.Fprintf(w, "Milestone %q removed.\n", args[1]) })
				}
				m, err := cl.History.Milestone(ctx, args[0], args[1], at)
				if err != nil {
					return err
				}
				return output(gopts, m, func(w io.Writer) {
					fmt.Fprintf(w, "Milestone %q is version %d (%s).\n", m.Name, m.Seq, m.Time.Local().Format("2006-01-02 15:04"))
				})
			})
		},
	}
	c.Flags().StringVar(&at, "at", "", "the point to name (default: the latest)")
	c.Flags().BoolVar(&remove, "remove", false, "remove the milestone")
	return c
}

func newDiffCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "diff PROJECT [FROM [TO]]",
		Short: "What changed between two points of local history (default: the latest and the one before)",
		Args:  cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			from, to := "", ""
			if len(args) > 1 {
				from = args[1]
			}
			if len(args) > 2 {
				to = args[2]
			}
			var d history.Diff
			if err := do(ctx, gopts, func(cl *client.Client) (err error) { d, err = cl.History.Diff(ctx, args[0], from, to); return }); err != nil {
				return err
			}
			return output(gopts, d, func(w io.Writer) {
				fmt.Fprintf(w, "%s: version %d → %d: %d added, %d removed, %d changed, %d renamed (%+d bytes)\n", args[0], d.From.Seq, d.To.Seq, d.Added, d.Removed, d.Changed, d.Renamed, d.SizeDelta)
				for _, e := range d.Entries {
					line := fmt.Sprintf("%-8s %s", e.Status, e.Path)
					if e.From != "" {
						line += " (from " + e.From + ")"
					}
					if e.SizeDelta != 0 {
						line += fmt.Sprintf("\t%+d bytes", e.SizeDelta)
					}
					fmt.Fprintln(w, line)
				}
			})
		},
	}
}
