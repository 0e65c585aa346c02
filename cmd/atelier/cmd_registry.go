package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/modules"
	"atelier/signing/registry"
)

// `atelier registry`: publish and follow signed module registries.

func newRegistryCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "registry", Short: "Publish and follow signed module registries"}
	c.AddCommand(
		newRegistryPublishCommand(gopts),
		newRegistryAddCommand(gopts),
		newRegistryListCommand(gopts),
		newRegistryRemoveCommand(gopts),
	)
	return c
}

type registryPublishOptions struct {
	key, passFile string
	ttl           time.Duration
}

func newRegistryPublishCommand(gopts *globalOptions) *cobra.Command {
	var opts registryPublishOptions
	c := &cobra.Command{
		Use:   "publish DIR --key NAME|FILE",
		Short: "Write DIR/index.json: a signed, versioned, expiring index of the signed archives in DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistryPublish(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.key, "key", "", "signing key: a name from `atelier keys list` or a key file")
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "read the passphrase from FILE")
	c.Flags().DurationVar(&opts.ttl, "expires-in", 30*24*time.Hour, "how long the index stays valid; publish again before then")
	return c
}

func runRegistryPublish(ctx context.Context, gopts *globalOptions, opts registryPublishOptions, dir string) error {
	priv, err := modulesLoadKey(gopts, opts.key, opts.passFile)
	if err != nil {
		return err
	}
	idx, err := registry.Publish(ctx, dir, priv, opts.ttl, time.Now())
	if err != nil {
		return err
	}
	return output(gopts, idx, func(w io.Writer) {
		fmt.Fprintf(w, "Published index version %d of %s: %d archives, expires %s.\nServe the folder with any web server or sync it; followers add it with `atelier registry add`.\n",
			idx.Version, dir, len(idx.Modules), idx.Expires.Format(time.RFC3339))
	})
}

func newRegistryAddCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "add DIR|URL",
		Short: "Follow a registry (its index must be signed by a key you trust)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistryAdd(cmd.Context(), gopts, args[0])
		},
	}
}

func runRegistryAdd(ctx context.Context, gopts *globalOptions, src string) error {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		src = abs
	}
	var r modules.RegistryInfo
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Modules.RegistryAdd(ctx, src); return }); err != nil {
		return err
	}
	return output(gopts, r, func(w io.Writer) {
		fmt.Fprintf(w, "Added registry %s (index version %d, %d modules).\n", r.Source, r.Version, r.Modules)
	})
}

func newRegistryListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List followed registries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistryList(cmd.Context(), gopts)
		},
	}
}

func runRegistryList(ctx context.Context, gopts *globalOptions) error {
	var rs []modules.RegistryInfo
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { rs, err = cl.Modules.Registries(ctx); return }); err != nil {
		return err
	}
	return output(gopts, rs, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tVERSION\tMODULES\tEXPIRES\tSOURCE")
		for _, r := range rs {
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", r.ID, r.Version, r.Modules, r.Expires.Format(time.DateOnly), r.Source)
		}
	})
}

func newRegistryRemoveCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID|SOURCE",
		Short: "Stop following a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return do(cmd.Context(), gopts, func(cl *client.Client) error { return cl.Modules.RegistryRemove(cmd.Context(), args[0]) })
		},
	}
}
