package modules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"atelier/app/apierr"
	"atelier/app/host"
	"atelier/app/modules/sandbox"
	"atelier/signing/manifest"
)

// RunResult is a module run as the creator sees it: the report, the files
// written (in Output), and the outcome with its reason.
type RunResult struct {
	sandbox.Record
	// Output is the run's own output folder (under the data dir); Files are
	// relative to it.
	Output string `json:"output"`
}

// runner is the sandbox, made on first use: compiled modules stay in memory
// for the engine's life and in CacheDir/wasm across restarts.
type runnerOnce struct {
	once sync.Once
	r    *sandbox.Runner
	err  error
}

func (s *Service) sandbox(ctx context.Context) (*sandbox.Runner, error) {
	s.run.once.Do(func() {
		s.run.r, s.run.err = sandbox.New(context.WithoutCancel(ctx), sandbox.Config{CacheDir: filepath.Join(s.cacheDir, "wasm"), Log: s.log})
	})
	return s.run.r, s.run.err
}

// installedModule finds an installed module that may run or be applied now:
// verified (trusted key, files as installed) and of the wanted kinds.
func (s *Service) installedModule(name string, kinds ...string) (sandbox.Module, InstalledModule, error) {
	all, err := s.Installed()
	if err != nil {
		return sandbox.Module{}, InstalledModule{}, err
	}
	for _, im := range all {
		if im.Name != name {
			continue
		}
		if im.Verification != "verified" {
			return sandbox.Module{}, im, apierr.Errorf(apierr.Conflict, "%s %s cannot be used: %s; check it with `atelier module check %s` or reinstall it", im.Name, im.Version, im.Verification, im.Name)
		}
		raw, err := os.ReadFile(filepath.Join(im.Dir, manifest.FileName))
		if err != nil {
			return sandbox.Module{}, im, fmt.Errorf("%s: %w (reinstall the module)", im.Name, err)
		}
		m, err := manifest.Parse(raw, filepath.Join(im.Dir, manifest.FileName))
		if err != nil {
			return sandbox.Module{}, im, err
		}
		ok := len(kinds) == 0
		for _, k := range kinds {
			ok = ok || m.Kind == k
		}
		if !ok {
			return sandbox.Module{}, im, apierr.Errorf(apierr.InvalidInput, "%s is a %s module, not %s", im.Name, kindWord(m.Kind), strings.Join(kinds, " or "))
		}
		return sandbox.Module{Manifest: m, Dir: im.Dir, Granted: im.Permissions, Signer: im.Publisher}, im, nil
	}
	return sandbox.Module{}, InstalledModule{}, apierr.Errorf(apierr.NotFound, "no installed module %q: see `atelier module list`", name)
}

func kindWord(k string) string {
	if k == "" {
		return "plain file"
	}
	return k
}

// Run runs an installed action on a project folder (or only the given paths
// inside it) in the sandbox, with the permissions the creator approved, and
// records the run in the audit log.
func (s *Service) Run(ctx context.Context, name, project string, paths []string) (RunResult, error) {
	ctx, cancel := host.CallContext(s.host.Context(), ctx)
	defer cancel()
	m, im, err := s.installedModule(name, manifest.KindAction)
	if err != nil {
		s.audit(AuditEntry{Action: "run", Subject: name, Outcome: "refused", Detail: err.Error()})
		return RunResult{}, err
	}
	ctx, done := s.runs.start(ctx, name)
	defer done()
	s.host.Emit("modules.run", RunState{Module: name, Project: project, State: "running"})
	res, err := s.runModule(ctx, m, project, paths)
	s.host.Emit("modules.run", RunState{Module: name, Project: project, State: "done", Outcome: res.Outcome})
	s.audit(AuditEntry{Action: "run", Subject: name, Version: im.Version, KeyID: im.KeyID, Outcome: res.Outcome, Detail: res.Summary()})
	return res, err
}

// RunDev runs an unpacked module folder (an author's work in progress) with
// the permissions its manifest declares, as a user's Atelier would apply them.
func (s *Service) RunDev(ctx context.Context, dir, project string, paths []string) (RunResult, error) {
	ctx, cancel := host.CallContext(s.host.Context(), ctx)
	defer cancel()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return RunResult{}, apierr.Wrap(apierr.InvalidInput, err)
	}
	raw, err := os.ReadFile(filepath.Join(abs, manifest.FileName))
	if err != nil {
		return RunResult{}, apierr.Errorf(apierr.NotFound, "%s: %v (start one with `atelier module init --kind action %s`)", abs, err, dir)
	}
	m, err := manifest.Parse(raw, filepath.Join(abs, manifest.FileName))
	if err != nil {
		return RunResult{}, apierr.Wrap(apierr.InvalidInput, err)
	}
	ctx, done := s.runs.start(ctx, m.Name)
	defer done()
	res, err := s.runModule(ctx, sandbox.Module{Manifest: m, Dir: abs}, project, paths)
	s.audit(AuditEntry{Action: "run", Subject: m.Name, Version: m.Version, Outcome: res.Outcome, Detail: "--dev " + abs + ": " + res.Summary()})
	return res, err
}

func (s *Service) runModule(ctx context.Context, m sandbox.Module, project string, paths []string) (RunResult, error) {
	r, err := s.sandbox(ctx)
	if err != nil {
		return RunResult{}, err
	}
	root := ""
	if project != "" {
		if root, err = filepath.Abs(project); err != nil {
			return RunResult{}, apierr.Wrap(apierr.InvalidInput, err)
		}
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			return RunResult{}, apierr.Errorf(apierr.NotFound, "project folder %s does not exist", root)
		}
	}
	out := filepath.Join(s.runsDir, strings.NewReplacer("@", "", "/", "-").Replace(m.Manifest.Name), time.Now().UTC().Format("20060102-150405.000"))
	rec, err := r.Run(ctx, m, sandbox.Request{Project: root, Paths: paths, Output: out})
	res := RunResult{Record: *rec, Output: rec.Output}
	if res.Output == "" {
		os.Remove(out) // not granted module:write: nothing was made
	}
	s.record("module.run", map[string]any{"outcome": rec.Outcome, "ms": rec.Duration.Milliseconds()})
	if err != nil && rec.Outcome == sandbox.OutcomeRefused {
		return res, apierr.Wrap(apierr.Conflict, err)
	}
	if errors.Is(context.Cause(ctx), ErrRunCancelled) && rec.Outcome == sandbox.OutcomeCanceled {
		res.Message = fmt.Sprintf("cancelled: %s was stopped by you before it finished", m.Manifest.Name)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return res, nil // the record says "cancelled"
	}
	return res, nil
}

// NewProjectResult is a project made from a template.
type NewProjectResult struct {
	Template string   `json:"template"`
	Version  string   `json:"version"`
	Dir      string   `json:"dir"`
	Files    []string `json:"files"`
}

// NewProject makes a new project folder from an installed template module
// (dir must not exist or be empty). Registering it is the Projects service's.
func (s *Service) NewProject(ctx context.Context, template, dir string) (NewProjectResult, error) {
	ctx, cancel := host.CallContext(s.host.Context(), ctx)
	defer cancel()
	m, im, err := s.installedModule(template, manifest.KindTemplate)
	if err != nil {
		return NewProjectResult{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return NewProjectResult{}, apierr.Wrap(apierr.InvalidInput, err)
	}
	files, err := sandbox.ApplyTemplate(ctx, m, abs)
	outcome := "ok"
	if err != nil {
		outcome = "refused"
		if strings.Contains(err.Error(), "not empty") {
			err = apierr.Wrap(apierr.Conflict, err)
		}
	}
	s.audit(AuditEntry{Action: "template", Subject: im.Name, Version: im.Version, KeyID: im.KeyID, Outcome: outcome, Detail: fmt.Sprintf("%s: %d files", abs, len(files))})
	if err != nil {
		return NewProjectResult{}, err
	}
	return NewProjectResult{Template: im.Name, Version: im.Version, Dir: abs, Files: files}, nil
}
