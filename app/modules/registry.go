package modules

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/app/host"
	"atelier/localdb"
	"atelier/signing/manifest"
	"atelier/signing/pack"
	"atelier/signing/registry"
)

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

func modRand() []byte {
	b := make([]byte, 6)
	rand.Read(b)
	return b
}

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
func (s *Service) RegistryAdd(ctx context.Context, source string) (RegistryInfo, error) {
	ctx, done := host.CallContext(s.host.Context(), ctx)
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
	if err := s.db.Update(func(tx *localdb.Tx) error { return modRegs.Put(tx, id, st) }); err != nil {
		return RegistryInfo{}, err
	}
	s.audit(AuditEntry{Action: "registry", Subject: src, KeyID: st.KeyID, Version: fmt.Sprint(st.Version), Outcome: "ok", Detail: "added"})
	return modRegInfo(id, st), nil
}

func (s *Service) refresh(ctx context.Context, src string, prev registry.State) (registry.State, error) {
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
func (s *Service) Registries() ([]RegistryInfo, error) {
	out := []RegistryInfo{}
	err := s.db.View(func(tx *localdb.Tx) error {
		return modRegs.Scan(tx, "", func(id string, st registry.State) error {
			out = append(out, modRegInfo(id, st))
			return nil
		})
	})
	return out, err
}

// RegistryRemove stops following a registry (by ID or source).
func (s *Service) RegistryRemove(ref string) error {
	regs, err := s.Registries()
	if err != nil {
		return err
	}
	for _, r := range regs {
		if r.ID == ref || r.Source == ref {
			err := s.db.Update(func(tx *localdb.Tx) error { return modRegs.Delete(tx, r.ID) })
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
func (s *Service) refreshAll(ctx context.Context) (map[string]registry.State, error) {
	out := map[string]registry.State{}
	prev := map[string]registry.State{}
	if err := s.db.View(func(tx *localdb.Tx) error {
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
		if err := s.db.Update(func(tx *localdb.Tx) error { return modRegs.Put(tx, id, st) }); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, errors.Join(errs...)
}

// Search lists modules in the followed registries matching query (all when empty).
func (s *Service) Search(ctx context.Context, query string) ([]SearchHit, error) {
	ctx, done := host.CallContext(s.host.Context(), ctx)
	defer done()
	regs, err := s.refreshAll(ctx)
	if err != nil && len(regs) == 0 {
		return nil, err
	}
	installed := map[string]string{}
	s.db.View(func(tx *localdb.Tx) error {
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
func (s *Service) InstallByName(ctx context.Context, spec string, approve bool) (VerifyResult, error) {
	ctx, done := host.CallContext(s.host.Context(), ctx)
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
	tmp, err := os.MkdirTemp(s.cacheDir, "module-download-")
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
