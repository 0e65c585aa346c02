package main

// What the module commands (keys, module, trust, registry) share: exit codes,
// passphrases and signing keys.

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"atelier/app"
	"atelier/signing/keys"
)

// Exit codes of module commands, for scripts.
const (
	modulesExitRefused       = 2 // verification or install refused
	modulesExitNeedsApproval = 3 // new permissions need --approve
)

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
