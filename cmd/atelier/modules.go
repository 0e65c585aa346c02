package main

import (
	"atelier/atomicfile"
	"atelier/humanize"
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"atelier/app"
	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/registry"
	"atelier/signing/trust"
)

// Exit codes of module commands, for scripts.
const (
	modulesExitRefused       = 2 // verification or install refused
	modulesExitNeedsApproval = 3 // new permissions need --approve
)

// ---- passphrases and keys ------------------------------------------------------------

// modulesPassphrase reads a passphrase from --passphrase-file, then
// ATELIER_PASSPHRASE, then the terminal (twice when confirming). It is never logged.
func modulesPassphrase(file string, confirm bool) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read passphrase file: %w", err)
		}
		return bytes.TrimRight(b, "\r\n"), nil
	}
	if p, ok := os.LookupEnv("ATELIER_PASSPHRASE"); ok {
		return []byte(p), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("a passphrase is needed: run in a terminal, or pass --passphrase-file FILE, or set ATELIER_PASSPHRASE")
	}
	fmt.Fprint(os.Stderr, "Passphrase: ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Repeat passphrase: ")
		q, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, q) {
			return nil, errors.New("the passphrases differ: try again")
		}
	}
	return p, nil
}

// modulesKeyFile resolves --key: a path to a key file, or the name of a key in the data dir.
func modulesKeyFile(gopts *globalOptions, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("no key given: pass --key NAME (see `atelier keys list`) or --key FILE")
	}
	if fi, err := os.Stat(ref); err == nil && fi.Mode().IsRegular() {
		return ref, nil
	}
	d, err := dirs(gopts)
	if err != nil {
		return "", err
	}
	p := app.ModulesKeyPath(d, ref)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no key file %s and no key named %q in %s (create one with `atelier keys generate %s`)", ref, ref, filepath.Dir(p), ref)
	}
	return p, nil
}

// modulesLoadKey unlocks a private key for signing.
func modulesLoadKey(gopts *globalOptions, ref, passFile string) (*ecdsa.PrivateKey, error) {
	p, err := modulesKeyFile(gopts, ref)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	pass, err := modulesPassphrase(passFile, false)
	if err != nil {
		return nil, err
	}
	return keys.LoadPrivate(raw, pass, p)
}

func newKeysCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Make, list, import and export module signing keys"}
	var passFile string
	gen := &cobra.Command{
		Use:   "generate NAME",
		Short: "Make an ECDSA P-256 key pair, encrypted with a passphrase (cosign-compatible)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pass, err := modulesPassphrase(passFile, true)
			if err != nil {
				return err
			}
			var k app.KeyInfo
			if err := call(cmd.Context(), gopts, "Modules.KeysGenerate", &k, args[0], string(pass)); err != nil {
				return err
			}
			return output(gopts, k, func(w io.Writer) {
				fmt.Fprintf(w, "Made key %s (%s).\nShare its public key with `atelier keys export %s`; trust it on this machine with `atelier keys export %s > %s.pub && atelier trust add %s.pub --scope '@YOU/*'`.\n", k.Name, k.ID[:12], k.Name, k.Name, k.Name, k.Name)
			})
		},
	}
	gen.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from FILE")
	c.AddCommand(gen)

	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List signing keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var ks []app.KeyInfo
			if err := call(cmd.Context(), gopts, "Modules.KeysList", &ks); err != nil {
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
		},
	})

	var private bool
	var out string
	exp := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a key's public key (PEM); --private exports the encrypted private key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k app.KeyExport
			if err := call(cmd.Context(), gopts, "Modules.KeysExport", &k, args[0], private); err != nil {
				return err
			}
			if gopts.json {
				return printJSON(k)
			}
			body := k.PublicPEM
			if private {
				body = k.PrivatePEM
			}
			if out != "" {
				mode := os.FileMode(0o644)
				if private {
					mode = 0o600
				}
				return atomicfile.WriteFile(out, []byte(body), mode)
			}
			fmt.Print(body)
			return nil
		},
	}
	exp.Flags().BoolVar(&private, "private", false, "export the private key (still encrypted)")
	exp.Flags().StringVarP(&out, "out", "o", "", "write to FILE instead of stdout")
	c.AddCommand(exp)

	var importPass string
	imp := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import a private key (Atelier or `cosign generate-key-pair`); it is stored encrypted",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			if len(raw) > keys.MaxPEM {
				return fmt.Errorf("%s is larger than a key file can be (%d bytes)", args[1], keys.MaxPEM)
			}
			pass, err := modulesPassphrase(importPass, false)
			if err != nil {
				return err
			}
			var k app.KeyInfo
			if err := call(cmd.Context(), gopts, "Modules.KeysImport", &k, args[0], string(raw), string(pass)); err != nil {
				return err
			}
			return output(gopts, k, func(w io.Writer) { fmt.Fprintf(w, "Imported key %s (%s).\n", k.Name, k.ID[:12]) })
		},
	}
	imp.Flags().StringVar(&importPass, "passphrase-file", "", "read the passphrase from FILE")
	c.AddCommand(imp)

	var rotKey, rotTo, rotOut, rotPass string
	var rotScopes []string
	rot := &cobra.Command{
		Use:   "rotate --key OLD --to NEW.pub --scope '@you/*'",
		Short: "Sign a statement handing your modules over from an old key to a new one",
		Long:  "Sign, with the old key, a statement that the new key takes over the given scopes. Ship it beside your next archive as ARCHIVE.rotation.json so installs made with the old key accept the new one.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := modulesLoadKey(gopts, rotKey, rotPass)
			if err != nil {
				return err
			}
			pubPath := rotTo
			if _, err := os.Stat(pubPath); err != nil {
				d, derr := dirs(gopts)
				if derr != nil {
					return derr
				}
				pubPath = filepath.Join(d.Data, "keys", rotTo+".pub")
			}
			pb, err := os.ReadFile(pubPath)
			if err != nil {
				return fmt.Errorf("read the new public key: %w", err)
			}
			np, err := keys.LoadPublic(pb, pubPath)
			if err != nil {
				return err
			}
			env, err := trust.NewRotation(old, np, rotScopes, time.Now())
			if err != nil {
				return err
			}
			if rotOut == "" {
				fmt.Println(string(env.Marshal()))
				return nil
			}
			return atomicfile.WriteFile(rotOut, env.Marshal(), 0o644)
		},
	}
	rot.Flags().StringVar(&rotKey, "key", "", "the old key (name or file)")
	rot.Flags().StringVar(&rotTo, "to", "", "the new public key (name or .pub file)")
	rot.Flags().StringSliceVar(&rotScopes, "scope", nil, "scopes handed over, e.g. '@you/*'")
	rot.Flags().StringVarP(&rotOut, "out", "o", "", "write the statement to FILE")
	rot.Flags().StringVar(&rotPass, "passphrase-file", "", "read the old key's passphrase from FILE")
	c.AddCommand(rot)
	return c
}

// ---- modules ---------------------------------------------------------------------------

func newModuleCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "module", Short: "Make, pack, sign, verify and install modules"}

	var initName, initVersion, initLicense, initAuthor string
	ini := &cobra.Command{
		Use:   "init DIR",
		Short: "Start a module: write atelier-module.json in DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			p := filepath.Join(dir, manifest.FileName)
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s already exists: edit it instead", p)
			}
			name := initName
			if name == "" {
				abs, _ := filepath.Abs(dir)
				name = "@me/" + strings.ToLower(strings.ReplaceAll(filepath.Base(abs), " ", "-"))
			}
			m := manifest.Manifest{Name: name, Version: initVersion, License: initLicense, Author: initAuthor, Description: "", Permissions: []string{}}
			if err := m.Validate(); err != nil {
				return fmt.Errorf("%w (set it with --name, --version or --license)", err)
			}
			if err := os.WriteFile(p, m.Marshal(), 0o644); err != nil {
				return err
			}
			fmt.Printf("Wrote %s for %s %s.\nAdd your files, list the permissions it needs, then `atelier module pack %s`.\n", p, m.Name, m.Version, dir)
			return nil
		},
	}
	ini.Flags().StringVar(&initName, "name", "", "module name, @publisher/name")
	ini.Flags().StringVar(&initVersion, "version", "0.1.0", "semantic version")
	ini.Flags().StringVar(&initLicense, "license", "CC-BY-4.0", "SPDX license")
	ini.Flags().StringVar(&initAuthor, "author", "", "author")
	c.AddCommand(ini)

	var packOut string
	pk := &cobra.Command{
		Use:   "pack DIR",
		Short: "Pack DIR into a deterministic archive (same folder, same bytes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, list, err := pack.Scan(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := packOut
			m := manifest.Manifest{Name: list.Module, Version: list.Version}
			if out == "" {
				out = pack.ArchiveName(m)
			} else if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				out = filepath.Join(out, pack.ArchiveName(m))
			}
			res, err := pack.PackFile(cmd.Context(), args[0], out)
			if err != nil {
				return err
			}
			return output(gopts, map[string]any{"archive": out, "result": res}, func(w io.Writer) {
				fmt.Fprintf(w, "Packed %s %s: %d files, %s → %s\nSign it with `atelier module sign %s --key NAME`.\n", res.Manifest.Name, res.Manifest.Version, res.Files, humanize.Bytes(res.Size), out, out)
			})
		},
	}
	pk.Flags().StringVarP(&packOut, "out", "o", "", "archive file or folder (default: NAME-VERSION.tgz here)")
	c.AddCommand(pk)

	var signKey, signPass string
	sg := &cobra.Command{
		Use:   "sign ARCHIVE --key NAME|FILE",
		Short: "Sign an archive: .sig (cosign verify-blob), .intoto.json (SLSA provenance, DSSE) and .sigstore.json (bundle)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			started := time.Now()
			priv, err := modulesLoadKey(gopts, signKey, signPass)
			if err != nil {
				return err
			}
			s, err := signing.SignArchive(cmd.Context(), args[0], priv, app.Version, started)
			if err != nil {
				return err
			}
			return output(gopts, s, func(w io.Writer) {
				fmt.Fprintf(w, "Signed %s %s with key %s.\n", s.Module, s.Version, s.KeyID[:12])
				fmt.Fprintf(w, "  signature\t%s\n  attestation\t%s\n  bundle\t%s\n", s.Signature, s.Envelope, s.Bundle)
			})
		},
	}
	sg.Flags().StringVar(&signKey, "key", "", "signing key: a name from `atelier keys list` or a key file")
	sg.Flags().StringVar(&signPass, "passphrase-file", "", "read the passphrase from FILE")
	c.AddCommand(sg)

	c.AddCommand(&cobra.Command{
		Use:   "verify ARCHIVE",
		Short: "Verify an archive and its signature files against your trust policy (offline)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			abs, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			var r app.VerifyResult
			if err := call(cmd.Context(), gopts, "Modules.Verify", &r, abs); err != nil {
				return exitError{code: modulesExitRefused, err: fmt.Errorf("refused: %w", err)}
			}
			return output(gopts, r, func(w io.Writer) { modulesPrintResult(w, r) })
		},
	})

	var approve, yes bool
	ins := &cobra.Command{
		Use:   "install ARCHIVE|NAME[@VERSION]",
		Short: "Verify and install a module from an archive or from your registries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			method, arg := "Modules.InstallByName", args[0]
			if fi, err := os.Stat(arg); err == nil && fi.Mode().IsRegular() {
				method = "Modules.Install"
				if arg, err = filepath.Abs(arg); err != nil {
					return err
				}
			}
			var r app.VerifyResult
			if err := call(cmd.Context(), gopts, method, &r, arg, approve); err != nil {
				return exitError{code: modulesExitRefused, err: fmt.Errorf("refused: %w", err)}
			}
			if r.Status == "needs-approval" && !gopts.json {
				modulesPrintResult(os.Stderr, r)
				if yes || modulesConfirm("Grant these permissions and install?") {
					if err := call(cmd.Context(), gopts, method, &r, arg, true); err != nil {
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
		},
	}
	ins.Flags().BoolVar(&approve, "approve", false, "grant the permissions the module requests")
	ins.Flags().BoolVarP(&yes, "yes", "y", false, "answer yes to the permission question")
	c.AddCommand(ins)

	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List installed modules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var ms []app.InstalledModule
			if err := call(cmd.Context(), gopts, "Modules.Installed", &ms); err != nil {
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
		},
	})

	c.AddCommand(&cobra.Command{
		Use:   "check NAME",
		Short: "Re-hash an installed module's files against the signed file list it came with",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var m app.InstalledModule
			if err := call(cmd.Context(), gopts, "Modules.Check", &m, args[0]); err != nil {
				return err
			}
			if err := output(gopts, m, func(w io.Writer) { fmt.Fprintf(w, "%s %s: %s\n", m.Name, m.Version, m.Verification) }); err != nil {
				return err
			}
			if m.FilesState != "" {
				return exitError{code: modulesExitRefused, err: fmt.Errorf("%s was changed on disk: reinstall it with `atelier module install`", m.Name)}
			}
			return nil
		},
	})

	var forget bool
	rm := &cobra.Command{
		Use:   "remove NAME",
		Short: "Uninstall a module (--forget also forgets its highest version and permissions)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := call(cmd.Context(), gopts, "Modules.Remove", nil, args[0], forget); err != nil {
				return err
			}
			fmt.Printf("Removed %s.\n", args[0])
			return nil
		},
	}
	rm.Flags().BoolVar(&forget, "forget", false, "forget the highest version seen and the permissions granted")
	c.AddCommand(rm)

	c.AddCommand(&cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search your registries",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := optionalArg(args)
			var hits []app.SearchHit
			if err := call(cmd.Context(), gopts, "Modules.Search", &hits, q); err != nil {
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
		},
	})
	return c
}

func modulesPrintResult(w io.Writer, r app.VerifyResult) {
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

// ---- trust -----------------------------------------------------------------------------

func newTrustCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "trust", Short: "Pin, list and revoke publisher keys"}
	var name, notBefore, notAfter string
	var scopes []string
	add := &cobra.Command{
		Use:   "add PUB.pem --scope '@publisher/*'",
		Short: "Trust a publisher's public key for name scopes, optionally within a validity window",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if len(raw) > keys.MaxPEM {
				return fmt.Errorf("%s is larger than a public key file can be", args[0])
			}
			n := name
			if n == "" {
				n = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
			}
			var k trust.Key
			if err := call(cmd.Context(), gopts, "Modules.Trust", &k, n, string(raw), scopes, notBefore, notAfter); err != nil {
				return err
			}
			return output(gopts, k, func(w io.Writer) {
				fmt.Fprintf(w, "Trusted %s (%s) for %s.\n", k.Name, k.ID[:12], strings.Join(k.Scopes, ", "))
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "who the key belongs to (default: the file name)")
	add.Flags().StringSliceVar(&scopes, "scope", nil, "module names it may sign: '@publisher/*' or '@publisher/name' (repeatable)")
	add.Flags().StringVar(&notBefore, "not-before", "", "trusted from (YYYY-MM-DD or RFC 3339)")
	add.Flags().StringVar(&notAfter, "not-after", "", "trusted until (YYYY-MM-DD or RFC 3339)")
	c.AddCommand(add)

	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "Show the trust policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var p app.PolicyView
			if err := call(cmd.Context(), gopts, "Modules.Policy", &p); err != nil {
				return err
			}
			return output(gopts, p, func(w io.Writer) {
				if len(p.Keys) == 0 {
					fmt.Fprintln(w, "No trusted keys. Add one with `atelier trust add PUB.pem --scope '@publisher/*'`.")
				} else {
					fmt.Fprintln(w, "NAME\tKEY ID\tSCOPES\tVALID\tSTATE")
					for _, k := range p.Keys {
						state := "trusted"
						if k.Revoked {
							state = "revoked " + k.RevokedAt.Format(time.DateOnly) + ": " + k.Reason
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.ID[:16], strings.Join(k.Scopes, ", "), modulesWindow(k), state)
					}
				}
				if len(p.Modules) > 0 {
					fmt.Fprintln(w, "\nMODULE\tHIGHEST VERSION\tKEY ID\tGRANTED")
					for _, m := range p.Modules {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.Name, m.HighestVersion, m.KeyID[:16], strings.Join(m.Granted, ", "))
					}
				}
			})
		},
	})

	var reason string
	rv := &cobra.Command{
		Use:   "revoke KEY",
		Short: "Revoke a trusted key (by ID, ID prefix or name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k trust.Key
			if err := call(cmd.Context(), gopts, "Modules.Revoke", &k, args[0], reason); err != nil {
				return err
			}
			return output(gopts, k, func(w io.Writer) { fmt.Fprintf(w, "Revoked %s (%s).\n", k.Name, k.ID[:12]) })
		},
	}
	rv.Flags().StringVar(&reason, "reason", "", "why (kept in the policy and audit log)")
	c.AddCommand(rv)
	return c
}

func modulesWindow(k trust.Key) string {
	if k.NotBefore.IsZero() && k.NotAfter.IsZero() {
		return "always"
	}
	f := func(t time.Time) string {
		if t.IsZero() {
			return "…"
		}
		return t.Format(time.DateOnly)
	}
	return f(k.NotBefore) + " – " + f(k.NotAfter)
}

// ---- registries and audit ----------------------------------------------------------------

func newRegistryCommand(gopts *globalOptions) *cobra.Command {
	c := &cobra.Command{Use: "registry", Short: "Publish and follow signed module registries"}
	var key, passFile string
	var ttl time.Duration
	pub := &cobra.Command{
		Use:   "publish DIR --key NAME|FILE",
		Short: "Write DIR/index.json: a signed, versioned, expiring index of the signed archives in DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			priv, err := modulesLoadKey(gopts, key, passFile)
			if err != nil {
				return err
			}
			idx, err := registry.Publish(cmd.Context(), args[0], priv, ttl, time.Now())
			if err != nil {
				return err
			}
			return output(gopts, idx, func(w io.Writer) {
				fmt.Fprintf(w, "Published index version %d of %s: %d archives, expires %s.\nServe the folder with any web server or sync it; followers add it with `atelier registry add`.\n",
					idx.Version, args[0], len(idx.Modules), idx.Expires.Format(time.RFC3339))
			})
		},
	}
	pub.Flags().StringVar(&key, "key", "", "signing key: a name from `atelier keys list` or a key file")
	pub.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from FILE")
	pub.Flags().DurationVar(&ttl, "expires-in", 30*24*time.Hour, "how long the index stays valid; publish again before then")
	c.AddCommand(pub)

	c.AddCommand(&cobra.Command{
		Use:   "add DIR|URL",
		Short: "Follow a registry (its index must be signed by a key you trust)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
				abs, err := filepath.Abs(src)
				if err != nil {
					return err
				}
				src = abs
			}
			var r app.RegistryInfo
			if err := call(cmd.Context(), gopts, "Modules.RegistryAdd", &r, src); err != nil {
				return err
			}
			return output(gopts, r, func(w io.Writer) {
				fmt.Fprintf(w, "Added registry %s (index version %d, %d modules).\n", r.Source, r.Version, r.Modules)
			})
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List followed registries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs []app.RegistryInfo
			if err := call(cmd.Context(), gopts, "Modules.Registries", &rs); err != nil {
				return err
			}
			return output(gopts, rs, func(w io.Writer) {
				fmt.Fprintln(w, "ID\tVERSION\tMODULES\tEXPIRES\tSOURCE")
				for _, r := range rs {
					fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", r.ID, r.Version, r.Modules, r.Expires.Format(time.DateOnly), r.Source)
				}
			})
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "remove ID|SOURCE",
		Short: "Stop following a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd.Context(), gopts, "Modules.RegistryRemove", nil, args[0])
		},
	})
	return c
}

func newAuditCommand(gopts *globalOptions) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "audit",
		Short: "Show the module audit log: verifications, installs, removals and trust changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var es []app.AuditEntry
			if err := call(cmd.Context(), gopts, "Modules.Audit", &es, limit); err != nil {
				return err
			}
			return output(gopts, es, func(w io.Writer) {
				fmt.Fprintln(w, "TIME\tACTION\tSUBJECT\tVERSION\tOUTCOME\tDETAIL")
				for _, e := range es {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Action, e.Subject, e.Version, e.Outcome, e.Detail)
				}
			})
		},
	}
	c.Flags().IntVarP(&limit, "limit", "n", 50, "how many entries, newest first")
	return c
}
