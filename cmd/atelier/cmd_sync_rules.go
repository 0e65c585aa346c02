package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"atelier/app/client"

	syncsvc "atelier/app/sync"

	"github.com/spf13/cobra"

	"atelier/humanize"
)

// `atelier sync rules PROJECT`: show or set what of a project syncs.

// syncRulesOptions are the flags of `sync rules`; set names the flags given
// (a rule changes only when its flag is given, even to its zero value).
type syncRulesOptions struct {
	include, exclude, kinds []string
	maxSize, minSize        int64
	enable, disable         bool
	remote                  string
	set                     func(flag string) bool
}

func newSyncRulesCommand(gopts *globalOptions) *cobra.Command {
	var opts syncRulesOptions
	c := &cobra.Command{
		Use:   "rules PROJECT",
		Short: "Show or set what of a project syncs (gitignore patterns, kinds, sizes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.set = cmd.Flags().Changed
			return runSyncRules(cmd.Context(), gopts, opts, args[0])
		},
	}
	f := c.Flags()
	f.StringSliceVar(&opts.include, "include", nil, "gitignore-style patterns to include (default: everything)")
	f.StringSliceVar(&opts.exclude, "exclude", nil, "gitignore-style patterns to exclude")
	f.StringSliceVar(&opts.kinds, "kind", nil, "only these kinds: audio, image, video, document, module, other")
	f.Int64Var(&opts.maxSize, "max-size", 0, "skip files larger than this many bytes (0: no limit)")
	f.Int64Var(&opts.minSize, "min-size", 0, "skip files smaller than this many bytes")
	f.BoolVar(&opts.enable, "enable", false, "sync this project in the background")
	f.BoolVar(&opts.disable, "disable", false, "stop background sync of this project")
	f.StringVar(&opts.remote, "remote", "", "remote this project syncs to (see `atelier remote list`; \"\" = the default remote)")
	f.StringVar(&opts.remote, "to", "", "old name of --remote")
	f.MarkHidden("to")
	return c
}

func runSyncRules(ctx context.Context, gopts *globalOptions, opts syncRulesOptions, project string) error {
	var r syncsvc.SyncRules
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Sync.Rules(ctx, project); return }); err != nil {
		return err
	}
	changed := false
	if opts.set("include") {
		r.Include, changed = opts.include, true
	}
	if opts.set("exclude") {
		r.Exclude, changed = opts.exclude, true
	}
	if opts.set("kind") {
		r.Kinds, changed = opts.kinds, true
	}
	if opts.set("max-size") {
		r.MaxSize, changed = opts.maxSize, true
	}
	if opts.set("min-size") {
		r.MinSize, changed = opts.minSize, true
	}
	if opts.set("remote") || opts.set("to") {
		if opts.set("remote") && opts.set("to") {
			return errors.New("give the remote once, with --remote NAME (--to is its old name)")
		}
		r.Remote, changed = opts.remote, true
	}
	if opts.enable || opts.disable {
		r.Enabled, changed = opts.enable, true
	}
	if changed {
		if err := do(ctx, gopts, func(cl *client.Client) error { return cl.Sync.SetRules(ctx, project, r) }); err != nil {
			return err
		}
	}
	var pv syncsvc.SyncPreview
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { pv, err = cl.Sync.Preview(ctx, project); return }); err != nil {
		return err
	}
	return output(gopts, map[string]any{"rules": r, "preview": pv}, func(w io.Writer) {
		fmt.Fprintf(w, "project\t%s\nenabled\t%v\nremote\t%s\ninclude\t%s\nexclude\t%s\nkinds\t%s\n", r.Project, r.Enabled, syncOr(r.Remote, "(default)"),
			strings.Join(r.Include, " "), strings.Join(r.Exclude, " "), strings.Join(r.Kinds, " "))
		fmt.Fprintf(w, "selected\t%d of %d files, %s of %s\npending\t%d\n", pv.SelectedFiles, pv.Files, humanize.Bytes(pv.SelectedBytes), humanize.Bytes(pv.Bytes), pv.Pending)
	})
}
