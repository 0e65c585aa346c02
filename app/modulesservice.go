package app

import (
	"atelier/app/apierr"
	"atelier/atomicfile"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"atelier/localdb"
	"atelier/progress"
	"atelier/signing"
	"atelier/signing/keys"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/registry"
	"atelier/signing/sign"
	"atelier/signing/trust"
)

// ModulesService verifies and installs signed modules offline against a local
// trust policy, keeps the creator's signing keys, the registries they follow
// and an audit log of every verification, install, removal and trust change.
// The signing work itself is in atelier/signing; this is its wiring.
type ModulesService struct {
	e  *Engine
	mu sync.Mutex // serialises policy read-modify-write (install, trust, remove)

	keysDir    string
	modulesDir string
	auditSeq   atomic.Uint64
}

// Tables under mod/.
var (
	modKeys      = localdb.NewTable[trust.Key]("mod/trust/key/")
	modPolicy    = localdb.NewTable[trust.Module]("mod/trust/module/")
	modInstalled = localdb.NewTable[InstalledModule]("mod/installed/")
	modRegs      = localdb.NewTable[registry.State]("mod/registry/")
	modAudit     = localdb.NewTable[AuditEntry]("mod/audit/")
	modFiles     = localdb.NewTable[pack.FileList]("mod/files/") // what was installed, for Check
)

// InstalledModule is one module in Data/modules.
type InstalledModule struct {
	Name          string    `json:"name"`
	Version       string    `json:"version"`
	Description   string    `json:"description"`
	Author        string    `json:"author"`
	License       string    `json:"license"`
	Publisher     string    `json:"publisher"` // name of the trusted key that signed it
	KeyID         string    `json:"keyId"`
	Permissions   []string  `json:"permissions"`
	Dir           string    `json:"dir"`
	ArchiveDigest string    `json:"archiveDigest"`
	SourceDigest  string    `json:"sourceDigest,omitempty"`
	StatementType string    `json:"statementType"`
	Source        string    `json:"source"` // "file" or the registry it came from
	InstalledAt   time.Time `json:"installedAt"`
	// FilesState is set by Check: "" when the files on disk match what was
	// installed, otherwise what differs.
	FilesState string    `json:"filesState,omitempty"`
	CheckedAt  time.Time `json:"checkedAt,omitzero"`
	// Verification is computed when listing: "verified", "key revoked",
	// "key expired", "key untrusted", "files missing" or "modified on disk…".
	Verification string `json:"verification"`
}

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

// KeyInfo describes a signing key in Data/keys.
type KeyInfo struct {
	Name      string    `json:"name"`
	ID        string    `json:"id"`
	PublicPEM string    `json:"publicPem"`
	Created   time.Time `json:"created"`
	Trusted   bool      `json:"trusted"` // pinned in the trust policy
}

// KeyExport is what KeysExport hands out.
type KeyExport struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	PublicPEM  string `json:"publicPem"`
	PrivatePEM string `json:"privatePem,omitempty"` // still encrypted with the passphrase
}

// PolicyView is the whole trust policy for display.
type PolicyView struct {
	Keys    []trust.Key    `json:"keys"`
	Modules []trust.Module `json:"modules"`
}

// RegistryInfo describes a followed registry.
type RegistryInfo struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	KeyID     string    `json:"keyId"`
	Version   int64     `json:"version"`
	Expires   time.Time `json:"expires"`
	CheckedAt time.Time `json:"checkedAt"`
	Modules   int       `json:"modules"`
}

// SearchHit is a module found in a registry.
type SearchHit struct {
	Registry    string   `json:"registry"`
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	Installed   string   `json:"installed,omitempty"` // installed version, if any
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"` // verify, install, remove, trust, revoke, key, registry
	Subject string    `json:"subject"`
	Version string    `json:"version,omitempty"`
	KeyID   string    `json:"keyId,omitempty"`
	Outcome string    `json:"outcome"` // ok, refused, needs-approval
	Detail  string    `json:"detail,omitempty"`
}

var modKeyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func newModulesService(e *Engine) (*ModulesService, error) {
	s := &ModulesService{e: e, keysDir: filepath.Join(e.Dirs.Data, "keys"), modulesDir: filepath.Join(e.Dirs.Data, "modules")}
	if err := e.DB.Migrate("mod", []localdb.Migration{{Version: 1, Name: "trust policy, installed modules, registries, audit"}}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *ModulesService) start(ctx context.Context) {
	// Staging dirs left by a crash mid-install are garbage.
	ents, _ := os.ReadDir(s.modulesDir)
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), ".staging-") {
			os.RemoveAll(filepath.Join(s.modulesDir, d.Name()))
		}
	}
}

func (s *ModulesService) close() error { return nil }

// ---- keys -----------------------------------------------------------------

func (s *ModulesService) keyPaths(name string) (priv, pub string, err error) {
	if !modKeyNameRE.MatchString(name) {
		return "", "", apierr.Errorf(apierr.InvalidInput, "key name %q: use letters, digits, '.', '_' or '-' (up to 64)", name)
	}
	return filepath.Join(s.keysDir, name+".key"), filepath.Join(s.keysDir, name+".pub"), nil
}

// KeysList lists the signing keys in the data dir.
func (s *ModulesService) KeysList() ([]KeyInfo, error) {
	ents, err := os.ReadDir(s.keysDir)
	if errors.Is(err, os.ErrNotExist) {
		return []KeyInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	pol, err := s.policy()
	if err != nil {
		return nil, err
	}
	out := []KeyInfo{}
	for _, d := range ents {
		name, ok := strings.CutSuffix(d.Name(), ".pub")
		if !ok {
			continue
		}
		p := filepath.Join(s.keysDir, d.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		pub, err := keys.LoadPublic(b, p)
		if err != nil {
			s.e.Log.Warn("unreadable public key", "file", p, "err", err)
			continue
		}
		id, _ := keys.ID(pub)
		info, _ := d.Info()
		ki := KeyInfo{Name: name, ID: id, PublicPEM: string(b), Trusted: pol.Keys[id].ID != ""}
		if info != nil {
			ki.Created = info.ModTime()
		}
		out = append(out, ki)
	}
	return out, nil
}

// KeysGenerate makes a P-256 key pair named name, the private key encrypted
// with passphrase (an empty one is refused). The passphrase is never stored.
func (s *ModulesService) KeysGenerate(name, passphrase string) (KeyInfo, error) {
	pair, err := keys.Generate([]byte(passphrase))
	if err != nil {
		return KeyInfo{}, err
	}
	return s.storeKey(name, pair, "generated")
}

// KeysImport stores a private key given in PEM (an Atelier or cosign key, or
// an unencrypted PKCS#8/SEC 1 P-256 key), encrypted with passphrase.
func (s *ModulesService) KeysImport(name, privatePEM, passphrase string) (KeyInfo, error) {
	priv, err := keys.ImportPrivate([]byte(privatePEM), []byte(passphrase), "imported key "+name)
	if err != nil {
		return KeyInfo{}, err
	}
	pair, err := keys.Encrypt(priv, []byte(passphrase))
	if err != nil {
		return KeyInfo{}, err
	}
	return s.storeKey(name, pair, "imported")
}

func (s *ModulesService) storeKey(name string, pair keys.Pair, how string) (KeyInfo, error) {
	privPath, pubPath, err := s.keyPaths(name)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := os.MkdirAll(s.keysDir, 0o700); err != nil {
		return KeyInfo{}, err
	}
	if _, err := os.Stat(privPath); err == nil {
		return KeyInfo{}, apierr.Errorf(apierr.Conflict, "a key named %q already exists in %s: choose another name", name, s.keysDir)
	}
	if err := atomicfile.WriteFile(privPath, pair.PrivatePEM, 0o600); err != nil {
		return KeyInfo{}, err
	}
	if err := atomicfile.WriteFile(pubPath, pair.PublicPEM, 0o600); err != nil {
		os.Remove(privPath)
		return KeyInfo{}, err
	}
	s.audit(AuditEntry{Action: "key", Subject: name, KeyID: pair.ID, Outcome: "ok", Detail: how})
	return KeyInfo{Name: name, ID: pair.ID, PublicPEM: string(pair.PublicPEM), Created: time.Now()}, nil
}

// KeysExport returns a key's public half, and with private its still-encrypted private PEM.
func (s *ModulesService) KeysExport(name string, private bool) (KeyExport, error) {
	privPath, pubPath, err := s.keyPaths(name)
	if err != nil {
		return KeyExport{}, err
	}
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		return KeyExport{}, fmt.Errorf("no key named %q in %s (see `atelier keys list`): %w", name, s.keysDir, err)
	}
	pk, err := keys.LoadPublic(pub, pubPath)
	if err != nil {
		return KeyExport{}, err
	}
	id, _ := keys.ID(pk)
	out := KeyExport{Name: name, ID: id, PublicPEM: string(pub)}
	if private {
		b, err := os.ReadFile(privPath)
		if err != nil {
			return KeyExport{}, err
		}
		out.PrivatePEM = string(b)
	}
	return out, nil
}

// ModulesKeyPath is where a named private key lives, for the CLI's signing, which
// needs no engine. (A plain function, so it is not bound as a service method.)
func ModulesKeyPath(d Dirs, name string) string { return filepath.Join(d.Data, "keys", name+".key") }

// ---- trust policy -------------------------------------------------------------

func (s *ModulesService) policy() (trust.Policy, error) {
	p := trust.Policy{Keys: map[string]trust.Key{}, Modules: map[string]trust.Module{}}
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		if err := modKeys.Scan(tx, "", func(k string, v trust.Key) error { p.Keys[k] = v; return nil }); err != nil {
			return err
		}
		return modPolicy.Scan(tx, "", func(k string, v trust.Module) error { p.Modules[k] = v; return nil })
	})
	return p, err
}

func modParseTime(v, what string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, apierr.Errorf(apierr.InvalidInput, "%s %q: use a date like 2027-01-31 or 2027-01-31T12:00:00Z", what, v)
}

// Trust pins a publisher's public key (PEM) for name scopes ("@alice/*" or
// exact names), optionally within a validity window (RFC 3339 or YYYY-MM-DD,
// "" for open). Pinning the same key again updates its scopes and window.
func (s *ModulesService) Trust(name, publicPEM string, scopes []string, notBefore, notAfter string) (trust.Key, error) {
	nb, err := modParseTime(notBefore, "not-before")
	if err != nil {
		return trust.Key{}, err
	}
	na, err := modParseTime(notAfter, "not-after")
	if err != nil {
		return trust.Key{}, err
	}
	k, err := trust.NewKey(name, []byte(publicPEM), scopes, nb, na, time.Now().UTC())
	if err != nil {
		return trust.Key{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.e.DB.Update(func(tx *localdb.Tx) error {
		if old, ok, _ := modKeys.Get(tx, k.ID); ok && old.Revoked {
			return fmt.Errorf("key %s (%s) was revoked on %s (%s): a revoked key cannot be trusted again", k.ID[:12], old.Name, old.RevokedAt.Format(time.DateOnly), old.Reason)
		}
		return modKeys.Put(tx, k.ID, k)
	})
	if err != nil {
		return trust.Key{}, err
	}
	s.audit(AuditEntry{Action: "trust", Subject: name, KeyID: k.ID, Outcome: "ok", Detail: "scopes " + strings.Join(scopes, ", ")})
	s.e.Emit("modules", map[string]any{"change": "trust"})
	return k, nil
}

// findKey resolves a key ID, an unambiguous ID prefix (≥ 8 hex) or a key name.
func (s *ModulesService) findKey(pol trust.Policy, ref string) (trust.Key, error) {
	var hits []trust.Key
	for id, k := range pol.Keys {
		if id == ref || (len(ref) >= 8 && strings.HasPrefix(id, ref)) || k.Name == ref {
			hits = append(hits, k)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return trust.Key{}, apierr.Errorf(apierr.NotFound, "no trusted key matches %q (see `atelier trust list`)", ref)
	default:
		return trust.Key{}, apierr.Errorf(apierr.InvalidInput, "%q matches %d trusted keys: give the full key ID", ref, len(hits))
	}
}

// Revoke revokes a trusted key (by ID, ID prefix or name). Modules it signed
// stay installed but show "key revoked", and nothing it signs installs again.
func (s *ModulesService) Revoke(key, reason string) (trust.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pol, err := s.policy()
	if err != nil {
		return trust.Key{}, err
	}
	k, err := s.findKey(pol, key)
	if err != nil {
		return trust.Key{}, err
	}
	if reason == "" {
		reason = "revoked by the user"
	}
	k.Revoked, k.RevokedAt, k.Reason = true, time.Now().UTC(), reason
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return modKeys.Put(tx, k.ID, k) }); err != nil {
		return trust.Key{}, err
	}
	s.audit(AuditEntry{Action: "revoke", Subject: k.Name, KeyID: k.ID, Outcome: "ok", Detail: reason})
	s.e.Emit("modules", map[string]any{"change": "trust"})
	return k, nil
}

// Policy returns the trust policy: pinned keys and what is remembered per module.
func (s *ModulesService) Policy() (PolicyView, error) {
	pol, err := s.policy()
	if err != nil {
		return PolicyView{}, err
	}
	v := PolicyView{Keys: []trust.Key{}, Modules: []trust.Module{}}
	for _, k := range pol.Keys {
		v.Keys = append(v.Keys, k)
	}
	for _, m := range pol.Modules {
		v.Modules = append(v.Modules, m)
	}
	sort.Slice(v.Keys, func(i, j int) bool { return v.Keys[i].Name+v.Keys[i].ID < v.Keys[j].Name+v.Keys[j].ID })
	sort.Slice(v.Modules, func(i, j int) bool { return v.Modules[i].Name < v.Modules[j].Name })
	return v, nil
}

// ---- verify and install -----------------------------------------------------------

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
func (s *ModulesService) Verify(archivePath string) (VerifyResult, error) {
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
	res, err := signing.Verify(s.e.Context(), mat, signing.Options{Policy: pol, Now: time.Now(), Progress: s.progress(p)})
	out := modResult(res)
	switch {
	case err == nil:
		out.OK, out.Status, out.Message = true, "verified", fmt.Sprintf("%s %s is signed by %s and trusted", out.Module, out.Version, out.Publisher)
	case errors.Is(err, trust.ErrNeedsApproval):
		out.OK, out.Status, out.Message = true, "needs-approval", err.Error()
		err = nil
	}
	s.auditResult("verify", p, out, err)
	s.e.Privacy.record("module.verified", map[string]any{"result": modVerifyOutcome(err)})
	return out, err
}

// Install verifies an archive and installs it into Data/modules. When the
// module asks for permissions not granted before and approve is false, nothing
// is installed and the result has Status "needs-approval" listing them.
func (s *ModulesService) Install(archivePath string, approve bool) (VerifyResult, error) {
	p, err := modAbs(archivePath)
	if err != nil {
		return VerifyResult{}, err
	}
	return s.install(p, approve, "file")
}

func (s *ModulesService) install(p string, approve bool, source string) (VerifyResult, error) {
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
	inst, err := signing.Install(s.e.Context(), mat, signing.Options{Policy: pol, Now: time.Now(), Approve: approve, Progress: s.progress(p)}, s.modulesDir)
	out := modResult(inst.Result)
	if errors.Is(err, trust.ErrNeedsApproval) {
		out.Status, out.Message = "needs-approval", err.Error()
		s.auditResult("install", p, out, nil)
		s.e.Notify("A module is waiting for your approval", fmt.Sprintf("%s %s asks for new permissions: review them in Modules", out.Module, out.Version))
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
	err = s.e.DB.Update(func(tx *localdb.Tx) error {
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
	s.e.Privacy.record("module.installed", map[string]any{"source": src, "signed": true, "size": size})
	s.e.Emit("modules", map[string]any{"change": "installed"})
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

func (s *ModulesService) auditResult(action, archive string, r VerifyResult, err error) {
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

// Installed lists installed modules with their current verification state.
func (s *ModulesService) Installed() ([]InstalledModule, error) {
	pol, err := s.policy()
	if err != nil {
		return nil, err
	}
	out := []InstalledModule{}
	now := time.Now()
	err = s.e.DB.View(func(tx *localdb.Tx) error {
		return modInstalled.Scan(tx, "", func(_ string, m InstalledModule) error {
			m.Verification = "verified"
			if _, err := pol.CheckKey(m.KeyID, m.Name, now); err != nil {
				switch {
				case errors.Is(err, trust.ErrRevoked):
					m.Verification = "key revoked"
				case errors.Is(err, trust.ErrExpired):
					m.Verification = "key expired"
				default:
					m.Verification = "key untrusted"
				}
			} else if _, err := os.Stat(m.Dir); err != nil {
				m.Verification = "files missing"
			} else if m.FilesState != "" {
				m.Verification = m.FilesState
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

// Remove uninstalls a module. With forget, the policy also forgets the highest
// version and permissions seen, so an older version may be installed again.
func (s *ModulesService) Remove(name string, forget bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var im InstalledModule
	var found bool
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		var err error
		im, found, err = modInstalled.Get(tx, name)
		return err
	})
	if err != nil {
		return err
	}
	if !found && !forget {
		return apierr.Errorf(apierr.NotFound, "%s is not installed (see `atelier module list`)", name)
	}
	if found {
		dir := signing.ModuleDir(s.modulesDir, name)
		if filepath.Clean(im.Dir) != dir {
			return fmt.Errorf("installed record of %s points outside %s: remove %s by hand", name, s.modulesDir, im.Dir)
		}
		// Move aside first so a half-deleted module never looks installed.
		trash := filepath.Join(s.modulesDir, ".staging-remove-"+hex.EncodeToString(modRand()))
		if err := os.Rename(dir, trash); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		os.RemoveAll(trash)
	}
	err = s.e.DB.Update(func(tx *localdb.Tx) error {
		if err := modInstalled.Delete(tx, name); err != nil {
			return err
		}
		if err := modFiles.Delete(tx, name); err != nil {
			return err
		}
		if forget {
			return modPolicy.Delete(tx, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	detail := ""
	if forget {
		detail = "forgot highest version and granted permissions"
	}
	s.audit(AuditEntry{Action: "remove", Subject: name, Version: im.Version, KeyID: im.KeyID, Outcome: "ok", Detail: detail})
	s.e.Privacy.record("module.removed", nil)
	s.e.Emit("modules", map[string]any{"change": "removed"})
	return nil
}

// Check re-hashes an installed module's files against the signed file list it
// was installed from, and records what differs (changed, missing or added files).
func (s *ModulesService) Check(name string) (InstalledModule, error) {
	var im InstalledModule
	var list pack.FileList
	var found bool
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		var err error
		if im, found, err = modInstalled.Get(tx, name); err != nil || !found {
			return err
		}
		list, _, err = modFiles.Get(tx, name)
		return err
	})
	if err != nil {
		return InstalledModule{}, err
	}
	if !found {
		return InstalledModule{}, apierr.Errorf(apierr.NotFound, "%s is not installed (see `atelier module list`)", name)
	}
	var changed, missing, added []string
	listed := map[string]bool{}
	for _, f := range list.Files {
		if err := s.e.Context().Err(); err != nil {
			return InstalledModule{}, err
		}
		listed[f.Path] = true
		p := filepath.Join(im.Dir, filepath.FromSlash(f.Path))
		fh, err := os.Open(p)
		if err != nil {
			missing = append(missing, f.Path)
			continue
		}
		d, n, err := sign.Digest(fh)
		fh.Close()
		if err != nil || n != f.Size || hex.EncodeToString(d[:]) != f.SHA256 {
			changed = append(changed, f.Path)
		}
	}
	filepath.WalkDir(im.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if rel, rerr := filepath.Rel(im.Dir, p); rerr == nil && !listed[filepath.ToSlash(rel)] {
				added = append(added, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	im.FilesState = ""
	if len(changed)+len(missing)+len(added) > 0 {
		im.FilesState = fmt.Sprintf("modified on disk: %d changed, %d missing, %d added", len(changed), len(missing), len(added))
	}
	im.CheckedAt = time.Now().UTC()
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return modInstalled.Put(tx, name, im) }); err != nil {
		return InstalledModule{}, err
	}
	outcome, detail := "ok", "files match the signed file list"
	if im.FilesState != "" {
		outcome, detail = "refused", im.FilesState+" ("+strings.Join(append(append(changed, missing...), added...), ", ")+")"
	}
	s.audit(AuditEntry{Action: "check", Subject: name, Version: im.Version, KeyID: im.KeyID, Outcome: outcome, Detail: detail})
	im.Verification = "verified"
	if im.FilesState != "" {
		im.Verification = im.FilesState
	}
	return im, nil
}

func modRand() []byte {
	b := make([]byte, 6)
	rand.Read(b)
	return b
}

// ---- registries -----------------------------------------------------------------

func modRegID(src string) string {
	s := sha256.Sum256([]byte(src))
	return hex.EncodeToString(s[:6])
}

func modRegInfo(id string, st registry.State) RegistryInfo {
	return RegistryInfo{ID: id, Source: st.Source, KeyID: st.KeyID, Version: st.Version, Expires: st.Expires, CheckedAt: st.CheckedAt, Modules: len(st.Index.Modules)}
}

func modSource(src string) (string, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return strings.TrimRight(src, "/"), nil
	}
	p, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return "", apierr.Errorf(apierr.InvalidInput, "registry %s is not a folder or an http(s) URL", src)
	}
	return p, nil
}

// RegistryAdd follows a registry (a folder or http(s) URL): its index must be
// signed by a key in the trust policy, which it stays bound to.
func (s *ModulesService) RegistryAdd(ctx context.Context, source string) (RegistryInfo, error) {
	ctx, done := s.e.callContext(ctx)
	defer done()
	src, err := modSource(source)
	if err != nil {
		return RegistryInfo{}, err
	}
	st, err := s.refresh(ctx, src, registry.State{})
	if cerr := ctx.Err(); cerr != nil {
		return RegistryInfo{}, fmt.Errorf("registry %s not added: %w", src, cerr)
	}
	if err != nil {
		s.audit(AuditEntry{Action: "registry", Subject: src, Outcome: "refused", Detail: err.Error()})
		return RegistryInfo{}, err
	}
	id := modRegID(src)
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return modRegs.Put(tx, id, st) }); err != nil {
		return RegistryInfo{}, err
	}
	s.audit(AuditEntry{Action: "registry", Subject: src, KeyID: st.KeyID, Version: fmt.Sprint(st.Version), Outcome: "ok", Detail: "added"})
	return modRegInfo(id, st), nil
}

func (s *ModulesService) refresh(ctx context.Context, src string, prev registry.State) (registry.State, error) {
	raw, err := registry.Fetch(ctx, src, registry.IndexName, registry.MaxIndex)
	if err != nil {
		return registry.State{}, fmt.Errorf("read the index of registry %s: %w", src, err)
	}
	pol, err := s.policy()
	if err != nil {
		return registry.State{}, err
	}
	return registry.Open(raw, src, pol, prev, time.Now())
}

// Registries lists followed registries.
func (s *ModulesService) Registries() ([]RegistryInfo, error) {
	out := []RegistryInfo{}
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		return modRegs.Scan(tx, "", func(id string, st registry.State) error {
			out = append(out, modRegInfo(id, st))
			return nil
		})
	})
	return out, err
}

// RegistryRemove stops following a registry (by ID or source).
func (s *ModulesService) RegistryRemove(ref string) error {
	regs, err := s.Registries()
	if err != nil {
		return err
	}
	for _, r := range regs {
		if r.ID == ref || r.Source == ref {
			err := s.e.DB.Update(func(tx *localdb.Tx) error { return modRegs.Delete(tx, r.ID) })
			if err == nil {
				s.audit(AuditEntry{Action: "registry", Subject: r.Source, Outcome: "ok", Detail: "removed"})
			}
			return err
		}
	}
	return apierr.Errorf(apierr.NotFound, "no registry %q (see `atelier registry list`)", ref)
}

// refreshAll fetches every registry's index, checking it against what was seen
// before (a rolled-back or expired index is refused and reported).
func (s *ModulesService) refreshAll(ctx context.Context) (map[string]registry.State, error) {
	out := map[string]registry.State{}
	prev := map[string]registry.State{}
	if err := s.e.DB.View(func(tx *localdb.Tx) error {
		return modRegs.Scan(tx, "", func(id string, st registry.State) error { prev[id] = st; return nil })
	}); err != nil {
		return nil, err
	}
	var errs []error
	for id, p := range prev {
		st, err := s.refresh(ctx, p.Source, p)
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		if err != nil {
			s.audit(AuditEntry{Action: "registry", Subject: p.Source, Outcome: "refused", Detail: err.Error()})
			errs = append(errs, err)
			continue
		}
		if err := s.e.DB.Update(func(tx *localdb.Tx) error { return modRegs.Put(tx, id, st) }); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, errors.Join(errs...)
}

// Search lists modules in the followed registries matching query (all when empty).
func (s *ModulesService) Search(ctx context.Context, query string) ([]SearchHit, error) {
	ctx, done := s.e.callContext(ctx)
	defer done()
	regs, err := s.refreshAll(ctx)
	if err != nil && len(regs) == 0 {
		return nil, err
	}
	installed := map[string]string{}
	s.e.DB.View(func(tx *localdb.Tx) error {
		return modInstalled.Scan(tx, "", func(k string, m InstalledModule) error { installed[k] = m.Version; return nil })
	})
	hits := []SearchHit{}
	for _, st := range regs {
		for _, e := range st.Index.Search(query) {
			hits = append(hits, SearchHit{Registry: st.Source, Name: e.Name, Version: e.Version, Description: e.Description, Permissions: e.Permissions, Installed: installed[e.Name]})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Name != hits[j].Name {
			return hits[i].Name < hits[j].Name
		}
		return manifest.Compare(hits[i].Version, hits[j].Version) > 0
	})
	return hits, err
}

// InstallByName installs "@publisher/name" or "@publisher/name@1.2.0" from
// the followed registries (the highest version when none is given).
func (s *ModulesService) InstallByName(ctx context.Context, spec string, approve bool) (VerifyResult, error) {
	ctx, done := s.e.callContext(ctx)
	defer done()
	name, version := spec, ""
	if i := strings.LastIndexByte(spec, '@'); i > 0 {
		name, version = spec[:i], spec[i+1:]
	}
	regs, err := s.refreshAll(ctx)
	if err != nil && len(regs) == 0 {
		return VerifyResult{}, err
	}
	var best registry.Entry
	var from string
	for _, st := range regs {
		e, ferr := st.Index.Find(name, version)
		if ferr == nil && (from == "" || manifest.Compare(e.Version, best.Version) > 0) {
			best, from = e, st.Source
		}
	}
	if from == "" {
		return VerifyResult{}, apierr.Errorf(apierr.NotFound, "%s is in none of your registries (add one with `atelier registry add DIR|URL`, search with `atelier module search`)", spec)
	}
	tmp, err := os.MkdirTemp(s.e.Dirs.Cache, "module-download-")
	if err != nil {
		return VerifyResult{}, err
	}
	defer os.RemoveAll(tmp)
	arc, err := registry.Download(ctx, from, best, tmp, pack.DefaultLimits().MaxTotal)
	if err != nil {
		return VerifyResult{}, err
	}
	return s.install(arc, approve, from)
}

// progress emits "modules.progress" events for long verifications and
// installs, at most four a second (small archives emit only their last).
func (s *ModulesService) progress(archive string) progress.Func {
	var last time.Time
	name := filepath.Base(archive)
	return func(p progress.Progress) {
		if now := time.Now(); now.Sub(last) >= 250*time.Millisecond || p.Done == p.Total {
			last = now
			s.e.Emit("modules.progress", map[string]any{"archive": name, "progress": p})
		}
	}
}

// ---- audit -----------------------------------------------------------------------

func (s *ModulesService) audit(e AuditEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	key := fmt.Sprintf("%020d-%06d", e.Time.UnixNano(), s.auditSeq.Add(1)%1000000)
	if err := s.e.DB.Update(func(tx *localdb.Tx) error { return modAudit.Put(tx, key, e) }); err != nil {
		s.e.Log.Error("write module audit log", "err", err)
	}
	s.e.Log.Info("module audit", "action", e.Action, "subject", e.Subject, "version", e.Version, "outcome", e.Outcome)
}

// Audit returns the newest limit entries of the audit log, newest first (limit ≤ 0: 100).
func (s *ModulesService) Audit(limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	var all []AuditEntry
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		return modAudit.Scan(tx, "", func(_ string, e AuditEntry) error { all = append(all, e); return nil })
	})
	if err != nil {
		return nil, err
	}
	out := []AuditEntry{}
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, all[i])
	}
	return out, nil
}
