package modules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
	"atelier/signing/trust"
)

// PolicyView is the whole trust policy for display.
type PolicyView struct {
	Keys    []trust.Key    `json:"keys"`
	Modules []trust.Module `json:"modules"`
}

func (s *Service) policy() (trust.Policy, error) {
	p := trust.Policy{Keys: map[string]trust.Key{}, Modules: map[string]trust.Module{}}
	err := s.db.View(func(tx *localdb.Tx) error {
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
func (s *Service) Trust(name, publicPEM string, scopes []string, notBefore, notAfter string) (trust.Key, error) {
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
	err = s.db.Update(func(tx *localdb.Tx) error {
		if old, ok, _ := modKeys.Get(tx, k.ID); ok && old.Revoked {
			return fmt.Errorf("key %s (%s) was revoked on %s (%s): a revoked key cannot be trusted again", k.ID[:12], old.Name, old.RevokedAt.Format(time.DateOnly), old.Reason)
		}
		return modKeys.Put(tx, k.ID, k)
	})
	if err != nil {
		return trust.Key{}, err
	}
	s.audit(AuditEntry{Action: "trust", Subject: name, KeyID: k.ID, Outcome: "ok", Detail: "scopes " + strings.Join(scopes, ", ")})
	s.host.Emit("modules", map[string]any{"change": "trust"})
	return k, nil
}

// findKey resolves a key ID, an unambiguous ID prefix (≥ 8 hex) or a key name.
func (s *Service) findKey(pol trust.Policy, ref string) (trust.Key, error) {
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
func (s *Service) Revoke(key, reason string) (trust.Key, error) {
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
	if err := s.db.Update(func(tx *localdb.Tx) error { return modKeys.Put(tx, k.ID, k) }); err != nil {
		return trust.Key{}, err
	}
	s.audit(AuditEntry{Action: "revoke", Subject: k.Name, KeyID: k.ID, Outcome: "ok", Detail: reason})
	s.host.Emit("modules", map[string]any{"change": "trust"})
	return k, nil
}

// Policy returns the trust policy: pinned keys and what is remembered per module.
func (s *Service) Policy() (PolicyView, error) {
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
