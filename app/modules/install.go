package modules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
	"atelier/progress"
	"atelier/signing"
	"atelier/signing/manifest"
	"atelier/signing/trust"
)

// Permission is a requested permission with its meaning, for consent dialogs.
type Permission struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	New         bool   `json:"new"` // not granted before
}

// VerifyResult is the outcome of Verify or of the verification step of Install.
type VerifyResult struct {
	OK            bool         `json:"ok"`
	Status        string       `json:"status"` // "verified", "needs-approval", "refused", "installed"
	Message       string       `json:"message"`
	Module        string       `json:"module,omitempty"`
	Version       string       `json:"version,omitempty"`
	Description   string       `json:"description,omitempty"`
	Publisher     string       `json:"publisher,omitempty"`
	KeyID         string       `json:"keyId,omitempty"`
	Files         int          `json:"files,omitempty"`
	ArchiveDigest string       `json:"archiveDigest,omitempty"`
	StatementType string       `json:"statementType,omitempty"`
	DetachedSig   bool         `json:"detachedSignature"`
	Update        bool         `json:"update"`
	PriorVersion  string       `json:"priorVersion,omitempty"`
	Permissions   []Permission `json:"permissions"`
	NeedsApproval bool         `json:"needsApproval"`
	Dir           string       `json:"dir,omitempty"`
}

func modPermissions(m manifest.Manifest, added []string) []Permission {
	isNew := map[string]bool{}
	for _, p := range added {
		isNew[p] = true
	}
	out := []Permission{}
	for _, p := range m.Permissions {
		out = append(out, Permission{ID: p, Description: manifest.Describe(p), New: isNew[p]})
	}
	return out
}

func modResult(res signing.Result) VerifyResult {
	return VerifyResult{
		Module: res.Manifest.Name, Version: res.Manifest.Version, Description: res.Manifest.Description,
		Publisher: res.KeyName, KeyID: res.KeyID, Files: res.Files, ArchiveDigest: res.ArchiveDigest,
		StatementType: res.StatementType, DetachedSig: res.SignatureChecked,
		Update: res.Decision.Update, PriorVersion: res.Decision.PriorVersion,
		Permissions: modPermissions(res.Manifest, res.Decision.AddedPerms), NeedsApproval: res.Decision.NeedsApproval,
	}
}

func modAbs(p string) (string, error) {
	if p == "" {
		return "", apierr.Errorf(apierr.InvalidInput, "no archive given: pass the path of a module archive (.tgz)")
	}
	return filepath.Abs(p)
}

// Verify checks an archive and its signature files (beside it) against the
// trust policy, offline. A refusal is an error; a module that would need the
// user's approval for new permissions verifies with NeedsApproval set.
func (s *Service) Verify(archivePath string) (VerifyResult, error) {
	p, err := modAbs(archivePath)
	if err != nil {
		return VerifyResult{}, err
	}
	pol, err := s.policy()
	if err != nil {
		return VerifyResult{}, err
	}
	mat, err := signing.LoadMaterial(p)
	if err != nil {
		return VerifyResult{}, err
	}
	res, err := signing.Verify(s.host.Context(), mat, signing.Options{Policy: pol, Now: time.Now(), Progress: s.progress(p)})
	out := modResult(res)
	switch {
	case err == nil:
		out.OK, out.Status, out.Message = true, "verified", fmt.Sprintf("%s %s is signed by %s and trusted", out.Module, out.Version, out.Publisher)
	case errors.Is(err, trust.ErrNeedsApproval):
		out.OK, out.Status, out.Message = true, "needs-approval", err.Error()
		err = nil
	}
	s.auditResult("verify", p, out, err)
	s.record("module.verified", map[string]any{"result": modVerifyOutcome(err)})
	return out, err
}

// Install verifies an archive and installs it into Data/modules. When the
// module asks for permissions not granted before and approve is false, nothing
// is installed and the result has Status "needs-approval" listing them.
func (s *Service) Install(archivePath string, approve bool) (VerifyResult, error) {
	p, err := modAbs(archivePath)
	if err != nil {
		return VerifyResult{}, err
	}
	return s.install(p, approve, "file")
}

func (s *Service) install(p string, approve bool, source string) (VerifyResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pol, err := s.policy()
	if err != nil {
		return VerifyResult{}, err
	}
	mat, err := signing.LoadMaterial(p)
	if err != nil {
		return VerifyResult{}, err
	}
	inst, err := signing.Install(s.host.Context(), mat, signing.Options{Policy: pol, Now: time.Now(), Approve: approve, Progress: s.progress(p)}, s.modulesDir)
	out := modResult(inst.Result)
	if errors.Is(err, trust.ErrNeedsApproval) {
		out.Status, out.Message = "needs-approval", err.Error()
		s.auditResult("install", p, out, nil)
		s.host.Notify("A module is waiting for your approval", fmt.Sprintf("%s %s asks for new permissions: review them in Modules", out.Module, out.Version))
		return out, nil
	}
	if err != nil {
		s.auditResult("install", p, out, err)
		return out, err
	}
	now := time.Now().UTC()
	prev, known := pol.Modules[inst.Manifest.Name]
	rec := trust.Record(prev, known, inst.Manifest, inst.KeyID, now)
	im := InstalledModule{
		Name: inst.Manifest.Name, Version: inst.Manifest.Version, Description: inst.Manifest.Description,
		Author: inst.Manifest.Author, License: inst.Manifest.License, Publisher: inst.KeyName, KeyID: inst.KeyID,
		Permissions: append([]string{}, inst.Manifest.Permissions...), Dir: inst.Dir, ArchiveDigest: inst.ArchiveDigest,
		SourceDigest: inst.SourceDigest, StatementType: inst.StatementType, Source: source, InstalledAt: now,
	}
	err = s.db.Update(func(tx *localdb.Tx) error {
		if err := modPolicy.Put(tx, rec.Name, rec); err != nil {
			return err
		}
		if err := modFiles.Put(tx, im.Name, inst.Head().Files); err != nil {
			return err
		}
		return modInstalled.Put(tx, im.Name, im)
	})
	if err != nil {
		return out, fmt.Errorf("record the install of %s: %w", im.Name, err)
	}
	out.OK, out.Status, out.Dir = true, "installed", inst.Dir
	out.Message = fmt.Sprintf("installed %s %s from %s", im.Name, im.Version, im.Publisher)
	s.auditResult("install", p, out, nil)
	var size int64
	for _, f := range inst.Head().Files.Files {
		size += f.Size
	}
	src := "file"
	if source != "file" {
		src = "registry"
	}
	s.record("module.installed", map[string]any{"source": src, "signed": true, "size": size})
	s.host.Emit("modules", map[string]any{"change": "installed"})
	return out, nil
}

// modVerifyOutcome buckets a verification error for local analytics.
func modVerifyOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, trust.ErrUntrusted), errors.Is(err, trust.ErrRevoked), errors.Is(err, trust.ErrExpired),
		errors.Is(err, trust.ErrScope), errors.Is(err, trust.ErrKeyChange):
		return "untrusted"
	case errors.Is(err, os.ErrNotExist):
		return "error"
	default:
		return "invalid"
	}
}

func (s *Service) auditResult(action, archive string, r VerifyResult, err error) {
	e := AuditEntry{Action: action, Subject: r.Module, Version: r.Version, KeyID: r.KeyID, Outcome: "ok", Detail: filepath.Base(archive)}
	if e.Subject == "" {
		e.Subject = filepath.Base(archive)
	}
	switch {
	case err != nil:
		e.Outcome, e.Detail = "refused", err.Error()
	case r.Status == "needs-approval":
		e.Outcome, e.Detail = "needs-approval", r.Message
	}
	s.audit(e)
}

// progress emits "modules.progress" events for long verifications and
// installs, at most four a second (small archives emit only their last).
func (s *Service) progress(archive string) progress.Func {
	var last time.Time
	name := filepath.Base(archive)
	return func(p progress.Progress) {
		if now := time.Now(); now.Sub(last) >= 250*time.Millisecond || p.Done == p.Total {
			last = now
			s.host.Emit("modules.progress", map[string]any{"archive": name, "progress": p})
		}
	}
}
