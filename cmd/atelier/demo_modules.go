package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"atelier/app"
	"atelier/app/client"
	"atelier/app/modules"
	firstparty "atelier/modules"
	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/pack"
)

// The demo's studio key: its passphrase is public (it signs only the demo's
// own modules, on the creator's machine); a real studio makes its own with
// `atelier keys generate`.
const (
	demoStudioKey        = "studio"
	demoStudioPassphrase = "atelier-demo-studio"
	demoStudioScope      = "@studio/*"
)

// demoStudioModules does the seed's playbook step "sign the first three
// internal modules" on first run: it makes the studio's key, trusts it for
// @studio/*, and packs, signs and installs the first-party modules staged by
// `make modules` in staged (one folder per module). Modules already installed
// at the same version are left alone.
func demoStudioModules(ctx context.Context, home *globalOptions, ws, staged string) error {
	if _, err := os.Stat(staged); err != nil {
		fmt.Printf("No first-party modules at %s: build them with `make modules` to have them signed and installed here.\n", staged)
		return nil
	}
	var ks []modules.KeyInfo
	var installed []modules.InstalledModule
	if err := do(ctx, home, func(cl *client.Client) (err error) {
		if ks, err = cl.Modules.KeysList(ctx); err != nil {
			return err
		}
		installed, err = cl.Modules.Installed(ctx)
		return err
	}); err != nil {
		return err
	}
	var key *modules.KeyInfo
	for i := range ks {
		if ks[i].Name == demoStudioKey {
			key = &ks[i]
		}
	}
	if key == nil {
		var k modules.KeyInfo
		if err := do(ctx, home, func(cl *client.Client) (err error) {
			k, err = cl.Modules.KeysGenerate(ctx, demoStudioKey, demoStudioPassphrase)
			return
		}); err != nil {
			return fmt.Errorf("make the studio key: %w", err)
		}
		key = &k
		fmt.Printf("Made the studio's signing key %s (%s).\n", k.Name, k.ID[:12])
	}
	if !key.Trusted {
		if err := do(ctx, home, func(cl *client.Client) error {
			_, err := cl.Modules.Trust(ctx, demoStudioKey, key.PublicPEM, []string{demoStudioScope}, "", "")
			return err
		}); err != nil {
			return fmt.Errorf("trust the studio key for %s: %w", demoStudioScope, err)
		}
		fmt.Printf("Trusted key %s for %s.\n", demoStudioKey, demoStudioScope)
	}
	keyFile, err := modulesKeyFile(home, demoStudioKey)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	priv, err := keys.LoadPrivate(raw, []byte(demoStudioPassphrase), keyFile)
	if err != nil {
		return fmt.Errorf("unlock the studio key %s: %w", keyFile, err)
	}
	have := map[string]string{}
	for _, m := range installed {
		have[m.Name] = m.Version
	}
	out := filepath.Join(ws, "modules")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, name := range firstparty.FirstParty {
		dir := filepath.Join(staged, name)
		m, list, err := pack.Scan(ctx, dir)
		if err != nil {
			return fmt.Errorf("first-party module %s: %w (rebuild with `make modules`)", name, err)
		}
		if have[m.Name] == m.Version {
			continue
		}
		archive := filepath.Join(out, pack.ArchiveName(m))
		if _, err := pack.PackFile(ctx, dir, archive); err != nil {
			return err
		}
		if _, err := signing.SignArchive(ctx, archive, priv, app.Version, time.Now()); err != nil {
			return err
		}
		var r modules.VerifyResult
		if err := do(ctx, home, func(cl *client.Client) (err error) { r, err = cl.Modules.Install(ctx, archive, true); return }); err != nil {
			return fmt.Errorf("install %s: %w", archive, err)
		}
		fmt.Printf("Signed and installed %s %s (%d files, %s).\n", m.Name, m.Version, len(list.Files), r.Status)
	}
	return nil
}
