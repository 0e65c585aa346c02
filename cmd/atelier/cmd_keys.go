package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/modules"
	"atelier/atomicfile"
	"atelier/signing/keys"
	"atelier/signing/trust"
)

// `atelier keys`: make, list, import, export and rotate module signing keys.

func newKeysCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Make, list, import and export module signing keys"}
	c.AddCommand(
		newKeysGenerateCommand(gopts),
		newKeysListCommand(gopts),
		newKeysExportCommand(gopts),
		newKeysImportCommand(gopts),
		newKeysRotateCommand(gopts),
	)
	return c
}

type keysGenerateOptions struct {
	passFile string
}

func newKeysGenerateCommand(gopts *globalOptions) *cobra.Command {
	var opts keysGenerateOptions
	c := &cobra.Command{
		Use:   "generate NAME",
		Short: "Make an ECDSA P-256 key pair, encrypted with a passphrase (cosign-compatible)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysGenerate(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "read the passphrase from FILE")
	return c
}

func runKeysGenerate(ctx context.Context, gopts *globalOptions, opts keysGenerateOptions, name string) error {
	pass, err := modulesPassphrase(opts.passFile, true)
	if err != nil {
		return err
	}
	var k modules.KeyInfo
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { k, err = cl.Modules.KeysGenerate(ctx, name, string(pass)); return }); err != nil {
		return err
	}
	return output(gopts, k, func(w io.Writer) {
		fmt.Fprintf(w, "Made key %s (%s).\nShare its public key with `atelier keys export %s`; trust it on this machine with `atelier keys export %s > %s.pub && atelier trust add %s.pub --scope '@YOU/*'`.\n", k.Name, k.ID[:12], k.Name, k.Name, k.Name, k.Name)
	})
}

func newKeysListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List signing keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysList(cmd.Context(), gopts)
		},
	}
}

func runKeysList(ctx context.Context, gopts *globalOptions) error {
	var ks []modules.KeyInfo
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { ks, err = cl.Modules.KeysList(ctx); return }); err != nil {
		return err
	}
	return output(gopts, ks, func(w io.Writer) {
		if len(ks) == 0 {
			fmt.Fprintln(w, "No keys yet. Make one with `atelier keys generate NAME`.")
			return
		}
		fmt.Fprintln(w, "NAME\tKEY ID\tTRUSTED\tCREATED")
		for _, k := range ks {
			fmt.Fprintf(w, "%s\t%s\t%v\t%s\n", k.Name, k.ID[:16], k.Trusted, k.Created.Format(time.DateOnly))
		}
	})
}

type keysExportOptions struct {
	private bool
	out     string
}

func newKeysExportCommand(gopts *globalOptions) *cobra.Command {
	var opts keysExportOptions
	c := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a key's public key (PEM); --private exports the encrypted private key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysExport(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().BoolVar(&opts.private, "private", false, "export the private key (still encrypted)")
	c.Flags().StringVarP(&opts.out, "out", "o", "", "write to FILE instead of stdout")
	return c
}

func runKeysExport(ctx context.Context, gopts *globalOptions, opts keysExportOptions, name string) error {
	var k modules.KeyExport
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { k, err = cl.Modules.KeysExport(ctx, name, opts.private); return }); err != nil {
		return err
	}
	if gopts.json {
		return printJSON(k)
	}
	body := k.PublicPEM
	if opts.private {
		body = k.PrivatePEM
	}
	if opts.out != "" {
		mode := os.FileMode(0o644)
		if opts.private {
			mode = 0o600
		}
		return atomicfile.WriteFile(opts.out, []byte(body), mode)
	}
	fmt.Print(body)
	return nil
}

type keysImportOptions struct {
	passFile string
}

func newKeysImportCommand(gopts *globalOptions) *cobra.Command {
	var opts keysImportOptions
	c := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import a private key (Atelier or `cosign generate-key-pair`); it is stored encrypted",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysImport(cmd.Context(), gopts, opts, args[0], args[1])
		},
	}
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "read the passphrase from FILE")
	return c
}

func runKeysImport(ctx context.Context, gopts *globalOptions, opts keysImportOptions, name, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if len(raw) > keys.MaxPEM {
		return fmt.Errorf("%s is larger than a key file can be (%d bytes)", file, keys.MaxPEM)
	}
	pass, err := modulesPassphrase(opts.passFile, false)
	if err != nil {
		return err
	}
	var k modules.KeyInfo
	if err := do(ctx, gopts, func(cl *client.Client) (err error) {
		k, err = cl.Modules.KeysImport(ctx, name, string(raw), string(pass))
		return
	}); err != nil {
		return err
	}
	return output(gopts, k, func(w io.Writer) { fmt.Fprintf(w, "Imported key %s (%s).\n", k.Name, k.ID[:12]) })
}

type keysRotateOptions struct {
	key, to, out, passFile string
	scopes                 []string
}

func newKeysRotateCommand(gopts *globalOptions) *cobra.Command {
	var opts keysRotateOptions
	c := &cobra.Command{
		Use:   "rotate --key OLD --to NEW.pub --scope '@you/*'",
		Short: "Sign a statement handing your modules over from an old key to a new one",
		Long:  "Sign, with the old key, a statement that the new key takes over the given scopes. Ship it beside your next archive as ARCHIVE.rotation.json so installs made with the old key accept the new one.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeysRotate(gopts, opts)
		},
	}
	c.Flags().StringVar(&opts.key, "key", "", "the old key (name or file)")
	c.Flags().StringVar(&opts.to, "to", "", "the new public key (name or .pub file)")
	c.Flags().StringSliceVar(&opts.scopes, "scope", nil, "scopes handed over, e.g. '@you/*'")
	c.Flags().StringVarP(&opts.out, "out", "o", "", "write the statement to FILE")
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "read the old key's passphrase from FILE")
	return c
}

func runKeysRotate(gopts *globalOptions, opts keysRotateOptions) error {
	old, err := modulesLoadKey(gopts, opts.key, opts.passFile)
	if err != nil {
		return err
	}
	pubPath := opts.to
	if _, err := os.Stat(pubPath); err != nil {
		d, derr := dirs(gopts)
		if derr != nil {
			return derr
		}
		pubPath = filepath.Join(d.Data, "keys", opts.to+".pub")
	}
	pb, err := os.ReadFile(pubPath)
	if err != nil {
		return fmt.Errorf("read the new public key: %w", err)
	}
	np, err := keys.LoadPublic(pb, pubPath)
	if err != nil {
		return err
	}
	env, err := trust.NewRotation(old, np, opts.scopes, time.Now())
	if err != nil {
		return err
	}
	if opts.out == "" {
		fmt.Println(string(env.Marshal()))
		return nil
	}
	return atomicfile.WriteFile(opts.out, env.Marshal(), 0o644)
}
