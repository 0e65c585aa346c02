package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"atelier/app/client"
	"atelier/app/library"
	"atelier/app/library/xmp"
	"atelier/humanize"
)

// `atelier find`, `tag`, `rate`, `collection`: the Library's search, marks
// and smart collections from the command line.

type findOptions struct {
	project, sort string
	offset, limit int
}

func newFindCommand(gopts *globalOptions) *cobra.Command {
	var opts findOptions
	c := &cobra.Command{
		Use:   "find [QUERY...]",
		Short: "Find files by name, kind, tags, rating, loudness, duration, BPM, date or metadata",
		Long: "Runs a Library query over every project (or --project) and prints the matching files.\n\n" +
			"Free words and \"quoted phrases\" match names, folders, metadata, tags and notes; fields:\n" +
			"kind: tag: label: ext: name: path: artist: title: album: key: camera: (words),\n" +
			"rating bpm lufs duration size width height (numbers: <, <=, >, >=, a..b), modified taken\n" +
			"(ages 7d 2w 3mo 1y or dates 2024-05-01, 2024-05), has:tags|cover|gps|loudness...;\n" +
			"a comma lists alternatives (kind:audio,image), a leading - negates (-tag:rejected).\n\n" +
			"  atelier find kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126 modified<7d \"night drive\"\n" +
			"  atelier find kick --sort -date --limit 20 --json",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFind(cmd.Context(), gopts, opts, strings.Join(args, " "))
		},
	}
	c.Flags().StringVarP(&opts.project, "project", "p", "", "search this project only (name, id or folder)")
	c.Flags().StringVar(&opts.sort, "sort", "name", "name, path, date, size, duration, loudness or rating; a leading - sorts descending")
	c.Flags().IntVar(&opts.offset, "offset", 0, "skip this many matches")
	c.Flags().IntVar(&opts.limit, "limit", 100, "print at most this many matches")
	return c
}

func runFind(ctx context.Context, gopts *globalOptions, opts findOptions, q string) error {
	var page library.FindPage
	if err := do(ctx, gopts, func(cl *client.Client) (err error) {
		page, err = cl.Library.Query(ctx, opts.project, q, opts.sort, opts.offset, opts.limit)
		return
	}); err != nil {
		return err
	}
	return output(gopts, page, func(w io.Writer) {
		for _, r := range page.Rows {
			extra := []string{humanize.Bytes(r.Size)}
			if r.Duration > 0 {
				extra = append(extra, fmt.Sprintf("%.1fs", r.Duration))
			}
			if r.LUFS != nil {
				extra = append(extra, fmt.Sprintf("%.1f LUFS", *r.LUFS))
			}
			if r.BPM > 0 {
				extra = append(extra, fmt.Sprintf("%g BPM", r.BPM))
			}
			if r.Rating != 0 {
				extra = append(extra, stars(r.Rating))
			}
			if r.Label != "" {
				extra = append(extra, r.Label)
			}
			if len(r.Tags) > 0 {
				extra = append(extra, "#"+strings.Join(r.Tags, " #"))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Project, r.Path, strings.Join(extra, "  "))
		}
		shown := len(page.Rows)
		fmt.Fprintf(w, "%d of %d matching files (%.1f ms)\n", shown, page.Total, page.Ms)
	})
}

func stars(n int) string {
	if n < 0 {
		return "rejected"
	}
	return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
}

type markOptions struct {
	project     string
	add, remove []string
	label, note string
	setLabel    bool
	setNote     bool
	list        bool
}

func newTagCommand(gopts *globalOptions) *cobra.Command {
	var opts markOptions
	c := &cobra.Command{
		Use:   "tag PATH... | tag --list",
		Short: "Add or remove tags, set a colour label or a note on files (kept in XMP sidecars too)",
		Long: "Changes the marks of files of a project (paths relative to its folder). The marks are stored\n" +
			"and written to XMP sidecars (file.ext.xmp or an existing file.xmp), which darktable, digiKam,\n" +
			"Lightroom and Bridge read.\n\n" +
			"  atelier tag -p songs --add vocals --add \"lead take\" vocals/take3.wav\n" +
			"  atelier tag -p photos --label Red --note \"cover candidate\" shoot/IMG_0042.CR2\n" +
			"  atelier tag --list          the tags in use, with how many files carry each",
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.list {
				return runTagList(cmd.Context(), gopts)
			}
			if len(args) == 0 || opts.project == "" {
				return fmt.Errorf("name the files to tag and their project: atelier tag -p PROJECT --add TAG PATH...")
			}
			opts.setLabel, opts.setNote = cmd.Flags().Changed("label"), cmd.Flags().Changed("note")
			ch := library.MarkChange{AddTags: opts.add, RemoveTags: opts.remove}
			if opts.setLabel {
				ch.Label = &opts.label
			}
			if opts.setNote {
				ch.Note = &opts.note
			}
			return runMark(cmd.Context(), gopts, opts.project, args, ch)
		},
	}
	c.Flags().StringVarP(&opts.project, "project", "p", "", "the project of the files (name, id or folder)")
	c.Flags().StringArrayVar(&opts.add, "add", nil, "add this tag (repeat for more)")
	c.Flags().StringArrayVar(&opts.remove, "remove", nil, "remove this tag (repeat for more)")
	c.Flags().StringVar(&opts.label, "label", "", "colour label: Red, Yellow, Green, Blue, Purple (\"\" clears)")
	c.Flags().StringVar(&opts.note, "note", "", "a note (\"\" clears)")
	c.Flags().BoolVar(&opts.list, "list", false, "list the tags in use with how many files carry each")
	return c
}

func runTagList(ctx context.Context, gopts *globalOptions) error {
	var tags map[string]int
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { tags, err = cl.Library.Tags(ctx); return }); err != nil {
		return err
	}
	return output(gopts, tags, func(w io.Writer) {
		names := make([]string, 0, len(tags))
		for n := range tags {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		for _, n := range names {
			fmt.Fprintf(w, "%s\t%d\n", n, tags[n])
		}
	})
}

func newRateCommand(gopts *globalOptions) *cobra.Command {
	var project string
	c := &cobra.Command{
		Use:   "rate STARS PATH...",
		Short: "Rate files 0-5 stars (-1 rejects), kept in XMP sidecars too",
		Long:  "  atelier rate -p songs 5 vocals/take3.wav vocals/take4.wav",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("the rating is a number from 0 to 5 (-1 rejects), not %q", args[0])
			}
			return runMark(cmd.Context(), gopts, project, args[1:], library.MarkChange{Rating: &n})
		},
	}
	c.Flags().StringVarP(&project, "project", "p", "", "the project of the files (name, id or folder)")
	_ = c.MarkFlagRequired("project")
	return c
}

func runMark(ctx context.Context, gopts *globalOptions, project string, paths []string, ch library.MarkChange) error {
	var marks map[string]xmp.Marks
	err := do(ctx, gopts, func(cl *client.Client) (err error) {
		marks, err = cl.Library.Mark(ctx, project, paths, ch)
		return
	})
	if err != nil && marks == nil {
		return err
	}
	if perr := output(gopts, marks, func(w io.Writer) {
		for _, p := range paths {
			m := marks[p]
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p, stars(m.Rating), m.Label, strings.Join(m.Tags, ", "))
		}
	}); perr != nil {
		return perr
	}
	return err
}

func newCollectionCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "collection",
		Short: "List, save and delete smart collections (saved queries)",
	}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the smart collections with how many files each holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var cs []library.CollectionInfo
			if err := do(ctx, gopts, func(cl *client.Client) (err error) { cs, err = cl.Library.Collections(ctx); return }); err != nil {
				return err
			}
			return output(gopts, cs, func(w io.Writer) {
				for _, c := range cs {
					fmt.Fprintf(w, "%s\t%s\t%d files\t%s\n", c.ID, c.Name, c.Count, c.Query)
				}
			})
		},
	})
	var project, sort string
	save := &cobra.Command{
		Use:   "save NAME QUERY...",
		Short: "Save a query as a smart collection",
		Long:  "  atelier collection save \"Vocal keepers\" kind:audio tag:vocals rating>=4",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			in := xmp.Collection{Name: args[0], Query: strings.Join(args[1:], " "), Sort: sort, Project: project}
			var out xmp.Collection
			if err := do(ctx, gopts, func(cl *client.Client) (err error) { out, err = cl.Library.SaveCollection(ctx, in); return }); err != nil {
				return err
			}
			return output(gopts, out, func(w io.Writer) { fmt.Fprintf(w, "saved %s\t%s\n", out.ID, out.Name) })
		},
	}
	save.Flags().StringVarP(&project, "project", "p", "", "limit the collection to one project")
	save.Flags().StringVar(&sort, "sort", "", "its order (name, date, size, duration, loudness, rating; - for descending)")
	c.AddCommand(save, &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a smart collection",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return do(ctx, gopts, func(cl *client.Client) error { return cl.Library.DeleteCollection(ctx, args[0]) })
		},
	})
	return c
}

func newSidecarsCommand(gopts *globalOptions) *cobra.Command {
	var project string
	var o library.SidecarSettings
	c := &cobra.Command{
		Use:   "sidecars",
		Short: "Show or choose where a project's XMP sidecars go (beside the files, or a folder outside it)",
		Long: "Ratings, labels, tags and notes are written to XMP sidecars. By default they sit beside\n" +
			"the files as file.ext.xmp; --naming base writes file.xmp (Lightroom, Bridge), and --folder keeps\n" +
			"them out of the project, in another folder that mirrors its tree (--folder \"\" brings them back).\n\n" +
			"  atelier sidecars -p songs --folder ~/Sidecars/songs",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			set := cmd.Flags().Changed("folder") || cmd.Flags().Changed("naming")
			var out library.SidecarSettings
			err := do(ctx, gopts, func(cl *client.Client) (err error) {
				if !set {
					out, err = cl.Library.SidecarOptions(ctx, project)
					return
				}
				cur, err := cl.Library.SidecarOptions(ctx, project)
				if err != nil {
					return err
				}
				if cmd.Flags().Changed("folder") {
					cur.Folder = o.Folder
				}
				if cmd.Flags().Changed("naming") {
					cur.Naming = o.Naming
				}
				out, err = cl.Library.SetSidecarOptions(ctx, project, cur)
				return
			})
			if err != nil {
				return err
			}
			return output(gopts, out, func(w io.Writer) {
				where := "beside the files"
				if out.Folder != "" {
					where = out.Folder
				}
				fmt.Fprintf(w, "folder\t%s\nnaming\t%s\n", where, out.Naming)
			})
		},
	}
	c.Flags().StringVarP(&project, "project", "p", "", "the project (name, id or folder)")
	c.Flags().StringVar(&o.Folder, "folder", "", "keep the sidecars in this folder, outside the project (\"\" = beside the files)")
	c.Flags().StringVar(&o.Naming, "naming", "", "name new sidecars file.ext.xmp (ext) or file.xmp (base)")
	_ = c.MarkFlagRequired("project")
	return c
}
