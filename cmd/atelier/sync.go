package main

// What the `sync` and `remote` commands share: the progress line, passphrases
// and short IDs.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"atelier/app/client"

	syncsvc "atelier/app/sync"

	"golang.org/x/term"

	"atelier/app/api"
)

// syncDoProgress is do with a live progress line on a terminal: from the
// running engine's event stream, or from the engine opened here.
func syncDoProgress(ctx context.Context, gopts *globalOptions, fn func(c *client.Client) error) error {
	if gopts.json || !term.IsTerminal(int(os.Stderr.Fd())) {
		return do(ctx, gopts, fn)
	}
	var mu sync.Mutex
	shown := false
	show := func(ev api.Event) {
		if ev.Name != syncsvc.SyncProgressEvent {
			return
		}
		b, _ := json.Marshal(ev.Data)
		var p syncsvc.SyncProgress
		if json.Unmarshal(b, &p) != nil {
			return
		}
		pct := ""
		if p.Total > 0 {
			pct = fmt.Sprintf("%3d%% ", p.Done*100/p.Total)
		}
		mu.Lock()
		fmt.Fprintf(os.Stderr, "\r\033[K%s%s", pct, p.Note)
		shown = true
		mu.Unlock()
	}
	defer func() {
		mu.Lock()
		if shown {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		mu.Unlock()
	}()
	d, err := dirs(gopts)
	if err != nil {
		return err
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	c, e, err := connect(ctx, d)
	if err != nil {
		return err
	}
	if c != nil {
		go c.Events(pctx, show)
		return fn(client.New(c))
	}
	defer e.Close()
	evs, unsub := e.Hub().Subscribe()
	defer unsub()
	go func() {
		for {
			select {
			case <-pctx.Done():
				return
			case ev, ok := <-evs:
				if !ok {
					return
				}
				show(ev)
			}
		}
	}()
	return fn(client.New(local(e)))
}

// syncReadSecret reads a secret from a file ("-" = stdin), without the
// trailing newline.
func syncReadSecret(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<16))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read the passphrase file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("the passphrase file %s is empty", path)
	}
	return s, nil
}

// syncPassphrase reads the vault passphrase from the --passphrase-file
// value file ("" without the flag).
func syncPassphrase(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	return syncReadSecret(file)
}

// syncUsePassphrase hands the vault passphrase from --passphrase-file to the
// engine: a running engine keeps it for its session; an in-process one reads
// it from the environment.
func syncUsePassphrase(ctx context.Context, gopts *globalOptions, passFile, remoteName string) error {
	pass, err := syncPassphrase(passFile)
	if err != nil || pass == "" {
		return err
	}
	if engineRunning(gopts) {
		return do(ctx, gopts, func(cl *client.Client) error { return cl.Sync.Unlock(ctx, remoteName, pass, false) })
	}
	return os.Setenv("ATELIER_VAULT_PASSPHRASE", pass)
}

func syncOr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// syncUnlockProjects hands --passphrase-file to the remotes the projects
// sync to (no project: those of every project with sync enabled).
func syncUnlockProjects(ctx context.Context, gopts *globalOptions, passFile string, projects []string) error {
	if passFile == "" || !engineRunning(gopts) {
		// An in-process engine reads the passphrase from the environment.
		return syncUsePassphrase(ctx, gopts, passFile, "")
	}
	remotes := map[string]bool{}
	if len(projects) > 0 {
		for _, p := range projects {
			var r syncsvc.SyncRules
			if err := do(ctx, gopts, func(cl *client.Client) (err error) { r, err = cl.Sync.Rules(ctx, p); return }); err != nil {
				return err
			}
			remotes[r.Remote] = true
		}
	} else {
		var st syncsvc.SyncStatus
		if err := do(ctx, gopts, func(cl *client.Client) (err error) { st, err = cl.Sync.Status(ctx); return }); err != nil {
			return err
		}
		for _, p := range st.Projects {
			if p.Enabled {
				remotes[p.Remote] = true
			}
		}
	}
	if len(projects) == 0 {
		remotes[""] = true // the default remote (verify without PROJECT)
	}
	for r := range remotes {
		if err := syncUsePassphrase(ctx, gopts, passFile, r); err != nil {
			return err
		}
	}
	return nil
}

// syncShort is a snapshot ID cut to 12 characters ("-" for none).
func syncShort(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	if id == "" {
		return "-"
	}
	return id
}
