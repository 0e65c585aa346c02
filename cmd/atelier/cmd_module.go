package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"atelier/app"
	"atelier/app/modules"
	"atelier/humanize"
	"atelier/signing"
	"atelier/signing/manifest"
	"atelier/signing/pack"
)

// `atelier module`: make, pack, sign, verify, install and manage modules.

func newModuleCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "module", Short: "Make, pack, sign, verify and install modules"}
	c.AddCommand(
		newModuleInitCommand(gopts),
		newModulePackCommand(gopts),
		newModuleSignCommand(gopts),
		newModuleVerifyCommand(gopts),
		newModuleInstallCommand(gopts),
		newModuleListCommand(gopts),
		newModuleCheckCommand(gopts),
		newModuleRemoveCommand(gopts),
		newModuleSearchCommand(gopts),
	)
	return c
}

type moduleInitOptions struct {
	name, version, license, author string
}

func newModuleInitCommand(gopts *globalOptions) *cobra.Command {
	var opts moduleInitOptions
	c := &cobra.Command{
		Use:   "init DIR",
		Short: "Start a module: write atelier-module.json in DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleInit(opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.name, "name", "", "module name, @publisher/name")
	c.Flags().StringVar(&opts.version, "version", "0.1.0", "semantic version")
	c.Flags().StringVar(&opts.license, "license", "CC-BY-4.0", "SPDX license")
	c.Flags().StringVar(&opts.author, "author", "", "author")
	return c
}

func runModuleInit(opts moduleInitOptions, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := filepath.Join(dir, manifest.FileName)
	if _, err := os.Stat(p); err == nil {
		return fmt.Errorf("%s already exists: edit it instead", p)
	}
	name := opts.name
	if name == "" {
		abs, _ := filepath.Abs(dir)
		name = "@me/" + strings.ToLower(strings.ReplaceAll(filepath.Base(abs), " ", "-"))
	}
	m := manifest.Manifest{Name: name, Version: opts.version, License: opts.license, Author: opts.author, Description: "", Permissions: []string{}}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w (set it with --name, --version or --license)", err)
	}
	if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
		return err
	}
	fmt.Printf("Wrote %s for %s %s.\nAdd your files, list the permissions it needs, then `atelier module pack %s`.\n", p, m.Name, m.Version, dir)
	return nil
}

type modulePackOptions struct {
	out string
}

func newModulePackCommand(gopts *globalOptions) *cobra.Command {
	var opts modulePackOptions
	c := &cobra.Command{
		Use:   "pack DIR",
		Short: "Pack DIR into a deterministic archive (same folder, same bytes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModulePack(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVarP(&opts.out, "out", "o", "", "archive file or folder (default: NAME-VERSION.tgz here)")
	return c
}

func runModulePack(ctx context.Context, gopts *globalOptions, opts modulePackOptions, dir string) error {
	_, list, err := pack.Scan(ctx, dir)
	if err != nil {
		return err
	}
	out := opts.out
	m := manifest.Manifest{Name: list.Module, Version: list.Version}
	if out == "" {
		out = pack.ArchiveName(m)
	} else if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		out = filepath.Join(out, pack.ArchiveName(m))
	}
	res, err := pack.PackFile(ctx, dir, out)
	if err != nil {
		return err
	}
	return output(gopts, map[string]any{"archive": out, "result": res}, func(w io.Writer) {
		fmt.Fprintf(w, "Packed %s %s: %d files, %s → %s\nSign it with `atelier module sign %s --key NAME`.\n", res.Manifest.Name, res.Manifest.Version, res.Files, humanize.Bytes(res.Size), out, out)
	})
}

type moduleSignOptions struct {
	key, passFile string
}

func newModuleSignCommand(gopts *globalOptions) *cobra.Command {
	var opts moduleSignOptions
	c := &cobra.Command{
		Use:   "sign ARCHIVE --key NAME|FILE",
		Short: "Sign an archive: .sig (cosign verify-blob), .intoto.json (SLSA provenance, DSSE) and .sigstore.json (bundle)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleSign(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVar(&opts.key, "key", "", "signing key: a name from `atelier keys list` or a key file")
	c.Flags().StringVar(&opts.passFile, "passphrase-file", "", "read the passphrase from FILE")
	return c
}

func runModuleSign(ctx context.Context, gopts *globalOptions, opts moduleSignOptions, archive string) error {
	started := time.Now()
	priv, err := modulesLoadKey(gopts, opts.key, opts.passFile)
	if err != nil {
		return err
	}
	s, err := signing.SignArchive(ctx, archive, priv, app.Version, started)
	if err != nil {
		return err
	}
	return output(gopts, s, func(w io.Writer) {
		fmt.Fprintf(w, "Signed %s %s with key %s.\n", s.Module, s.Version, s.KeyID[:12])
		fmt.Fprintf(w, "  signature\t%s\n  attestation\t%s\n  bundle\t%s\n", s.Signature, s.Envelope, s.Bundle)
	})
}

func newModuleVerifyCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "verify ARCHIVE",
		Short: "Verify an archive and its signature files against your trust policy (offline)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleVerify(cmd.Context(), gopts, args[0])
		},
	}
}

func runModuleVerify(ctx context.Context, gopts *globalOptions, archive string) error {
	abs, err := filepath.Abs(archive)
	if err != nil {
		return err
	}
	var r modules.VerifyResult
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Modules.Verify(ctx, abs); return }); err != nil {
		return exitError{code: modulesExitRefused, err: fmt.Errorf("refused: %w", err)}
	}
	return output(gopts, r, func(w io.Writer) { modulesPrintResult(w, r) })
}

type moduleInstallOptions struct {
	approve, yes bool
}

func newModuleInstallCommand(gopts *globalOptions) *cobra.Command {
	var opts moduleInstallOptions
	c := &cobra.Command{
		Use:   "install ARCHIVE|NAME[@VERSION]",
		Short: "Verify and install a module from an archive or from your registries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleInstall(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().BoolVar(&opts.approve, "approve", false, "grant the permissions the module requests")
	c.Flags().BoolVarP(&opts.yes, "yes", "y", false, "answer yes to the permission question")
	return c
}

func runModuleInstall(ctx context.Context, gopts *globalOptions, opts moduleInstallOptions, arg string) error {
	install := func(c *client.Client, approve bool) (modules.VerifyResult, error) {
		return c.Modules.InstallByName(ctx, arg, approve)
	}
	if fi, err := os.Stat(arg); err == nil && fi.Mode().IsRegular() {
		install = func(c *client.Client, approve bool) (modules.VerifyResult, error) {
			return c.Modules.Install(ctx, arg, approve)
		}
		if arg, err = filepath.Abs(arg); err != nil {
			return err
		}
	}
	var r modules.VerifyResult
	if err := do(ctx, gopts, func(c *client.Client) (err error) { r, err = install(c, opts.approve); return }); err != nil {
		return exitError{code: modulesExitRefused, err: fmt.Errorf("refused: %w", err)}
	}
	if r.Status == "needs-approval" && !gopts.json {
		modulesPrintResult(os.Stderr, r)
		if opts.yes || modulesConfirm("Grant these permissions and install?") {
			if err := do(ctx, gopts, func(c *client.Client) (err error) { r, err = install(c, true); return }); err != nil {
				return exitError{code: modulesExitRefused, err: fmt.Errorf("refused: %w", err)}
			}
		}
	}
	if err := output(gopts, r, func(w io.Writer) { modulesPrintResult(w, r) }); err != nil {
		return err
	}
	if r.Status == "needs-approval" {
		return exitError{code: modulesExitNeedsApproval, err: errors.New("not installed: the module needs your approval for new permissions (run again in a terminal, or pass --approve)")}
	}
	return nil
}

func newModuleListCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List installed modules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleList(cmd.Context(), gopts)
		},
	}
}

func runModuleList(ctx context.Context, gopts *globalOptions) error {
	var ms []modules.InstalledModule
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { ms, err = cl.Modules.Installed(ctx); return }); err != nil {
		return err
	}
	return output(gopts, ms, func(w io.Writer) {
		if len(ms) == 0 {
			fmt.Fprintln(w, "No modules installed. Install one with `atelier module install ARCHIVE|NAME`.")
			return
		}
		fmt.Fprintln(w, "NAME\tVERSION\tPUBLISHER\tSTATE\tPERMISSIONS")
		for _, m := range ms {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Name, m.Version, m.Publisher, m.Verification, strings.Join(m.Permissions, ", "))
		}
	})
}

func newModuleCheckCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "check NAME",
		Short: "Re-hash an installed module's files against the signed file list it came with",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleCheck(cmd.Context(), gopts, args[0])
		},
	}
}

func runModuleCheck(ctx context.Context, gopts *globalOptions, name string) error {
	var m modules.InstalledModule
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { m, err = cl.Modules.Check(ctx, name); return }); err != nil {
		return err
	}
	if err := output(gopts, m, func(w io.Writer) { fmt.Fprintf(w, "%s %s: %s\n", m.Name, m.Version, m.Verification) }); err != nil {
		return err
	}
	if m.FilesState != "" {
		return exitError{code: modulesExitRefused, err: fmt.Errorf("%s was changed on disk: reinstall it with `atelier module install`", m.Name)}
	}
	return nil
}

type moduleRemoveOptions struct {
	forget bool
}

func newModuleRemoveCommand(gopts *globalOptions) *cobra.Command {
	var opts moduleRemoveOptions
	c := &cobra.Command{
		Use:   "remove NAME",
		Short: "Uninstall a module (--forget also forgets its highest version and permissions)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleRemove(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().BoolVar(&opts.forget, "forget", false, "forget the highest version seen and the permissions granted")
	return c
}

func runModuleRemove(ctx context.Context, gopts *globalOptions, opts moduleRemoveOptions, name string) error {
	if err := do(ctx, gopts, func(cl *client.Client) error { return cl.Modules.Remove(ctx, name, opts.forget) }); err != nil {
		return err
	}
	fmt.Printf("Removed %s.\n", name)
	return nil
}

func newModuleSearchCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search your registries",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runModuleSearch(cmd.Context(), gopts, optionalArg(args))
		},
	}
}

func runModuleSearch(ctx context.Context, gopts *globalOptions, q string) error {
	var hits []modules.SearchHit
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { hits, err = cl.Modules.Search(ctx, q); return }); err != nil {
		return err
	}
	return output(gopts, hits, func(w io.Writer) {
		if len(hits) == 0 {
			fmt.Fprintln(w, "Nothing found. Add a registry with `atelier registry add DIR|URL`.")
			return
		}
		fmt.Fprintln(w, "NAME\tVERSION\tINSTALLED\tPERMISSIONS\tDESCRIPTION")
		for _, h := range hits {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", h.Name, h.Version, h.Installed, strings.Join(h.Permissions, ", "), h.Description)
		}
	})
}

func modulesPrintResult(w io.Writer, r modules.VerifyResult) {
	if r.Status == "needs-approval" {
		fmt.Fprintf(w, "%s %s is signed by %s and trusted, and asks for permissions not granted before (+):\n", r.Module, r.Version, r.Publisher)
	} else {
		fmt.Fprintln(w, r.Message)
	}
	att := r.StatementType
	if att == "" {
		att = "none: a signature over the archive only (.sig or a message-signature bundle), no provenance"
	}
	fmt.Fprintf(w, "  key\t%s\n  archive sha256\t%s\n  attestation\t%s\n  detached signature\t%v\n", r.KeyID, r.ArchiveDigest, att, r.DetachedSig)
	if r.Update {
		fmt.Fprintf(w, "  update from\t%s\n", r.PriorVersion)
	}
	for _, p := range r.Permissions {
		mark := " "
		if p.New {
			mark = "+"
		}
		fmt.Fprintf(w, "  %s %s\t%s\n", mark, p.ID, p.Description)
	}
}

func modulesConfirm(q string) bool {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return false
	}
	fmt.Fprintf(os.Stderr, "%s [y/N] ", q)
	var a string
	fmt.Scanln(&a)
	return strings.HasPrefix(strings.ToLower(a), "y")
}
