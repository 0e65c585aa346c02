// Package trust is the local trust policy that decides whether a verified
// signature is good enough to install a module: pinned publisher keys limited
// to name scopes and validity windows, revocations, the highest version seen
// per module (rollback is refused), the permissions granted before (more needs
// the user's approval), and key rotations signed by the old key.
//
// It holds plain values; the app stores them in its database.
package trust

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"atelier/signing/keys"
	"atelier/signing/manifest"
)

// Refusal reasons, for errors.Is.
var (
	ErrUntrusted     = errors.New("key is not trusted")
	ErrRevoked       = errors.New("key is revoked")
	ErrExpired       = errors.New("key is outside its validity window")
	ErrScope         = errors.New("key may not sign this module name")
	ErrKeyChange     = errors.New("module key changed without a rotation statement")
	ErrRollback      = errors.New("rollback to an older version")
	ErrNeedsApproval = errors.New("needs approval")
)

// Key is a pinned publisher key.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // who it belongs to, for people
	PublicPEM string    `json:"publicPem"`
	Scopes    []string  `json:"scopes"` // "@alice/*", "@alice/reverb"
	NotBefore time.Time `json:"notBefore,omitzero"`
	NotAfter  time.Time `json:"notAfter,omitzero"`
	AddedAt   time.Time `json:"addedAt"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// Public parses the key's PEM.
func (k Key) Public() (*ecdsa.PublicKey, error) {
	return keys.LoadPublic([]byte(k.PublicPEM), "trusted key "+k.Name)
}

// NewKey pins pub for scopes.
func NewKey(name string, pubPEM []byte, scopes []string, notBefore, notAfter time.Time, now time.Time) (Key, error) {
	pub, err := keys.LoadPublic(pubPEM, "public key "+name)
	if err != nil {
		return Key{}, err
	}
	id, err := keys.ID(pub)
	if err != nil {
		return Key{}, err
	}
	if len(scopes) == 0 {
		return Key{}, fmt.Errorf("key %s: give at least one scope, e.g. --scope '@publisher/*'", name)
	}
	for _, s := range scopes {
		if err := CheckScope(s); err != nil {
			return Key{}, err
		}
	}
	if !notAfter.IsZero() && !notBefore.IsZero() && !notAfter.After(notBefore) {
		return Key{}, fmt.Errorf("key %s: validity window ends (%s) before it starts (%s)", name, notAfter, notBefore)
	}
	return Key{ID: id, Name: name, PublicPEM: string(pubPEM), Scopes: scopes, NotBefore: notBefore, NotAfter: notAfter, AddedAt: now}, nil
}

// CheckScope accepts "@publisher/*" and exact module names.
func CheckScope(s string) error {
	if p, ok := strings.CutSuffix(s, "/*"); ok {
		if manifest.Publisher(p+"/x") == p && strings.HasPrefix(p, "@") && (manifest.Manifest{Name: p + "/x", Version: "1.0.0", License: "x"}).Validate() == nil {
			return nil
		}
	} else if (manifest.Manifest{Name: s, Version: "1.0.0", License: "x"}).Validate() == nil {
		return nil
	}
	return fmt.Errorf("scope %q: use @publisher/* or an exact @publisher/name", s)
}

// InScope reports whether name falls under one of the key's scopes.
func (k Key) InScope(name string) bool {
	for _, s := range k.Scopes {
		if ok, _ := path.Match(s, name); ok || s == name {
			return true
		}
	}
	return false
}

// Module is what the policy remembers of an installed (or once installed) module.
type Module struct {
	Name           string    `json:"name"`
	HighestVersion string    `json:"highestVersion"`
	KeyID          string    `json:"keyId"`
	Granted        []string  `json:"granted"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Policy is the whole trust state.
type Policy struct {
	Keys    map[string]Key    `json:"keys"`
	Modules map[string]Module `json:"modules"`
}

// Request asks whether a module signed by KeyID may be installed.
type Request struct {
	Manifest  manifest.Manifest
	KeyID     string
	Now       time.Time
	Rotations []Rotation // verified rotation statements offered with the module
	Approve   bool       // the user approved the requested permissions
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Key           Key      `json:"key"`
	Update        bool     `json:"update"`
	PriorVersion  string   `json:"priorVersion,omitempty"`
	AddedPerms    []string `json:"addedPermissions,omitempty"`
	NeedsApproval bool     `json:"needsApproval"`
	Rotated       []string `json:"rotated,omitempty"` // key IDs passed through
}

// CheckKey checks that id is pinned, unrevoked, within its window and scoped
// for name.
func (p Policy) CheckKey(id, name string, now time.Time) (Key, error) {
	k, ok := p.Keys[id]
	if !ok {
		return Key{}, fmt.Errorf("%w: %s is signed by key %s, which is not in your trust policy; if you trust the publisher, add their public key with `atelier trust add PUB.pem --scope %s/*`", ErrUntrusted, name, short(id), manifest.Publisher(name))
	}
	if k.Revoked {
		return Key{}, fmt.Errorf("%w: %s is signed by key %s (%s), revoked on %s (%s); ask the publisher for a release signed by their new key", ErrRevoked, name, short(id), k.Name, k.RevokedAt.Format(time.DateOnly), k.Reason)
	}
	if (!k.NotBefore.IsZero() && now.Before(k.NotBefore)) || (!k.NotAfter.IsZero() && now.After(k.NotAfter)) {
		return Key{}, fmt.Errorf("%w: key %s (%s) is trusted from %s to %s, not at %s; extend its window with `atelier trust add` if this is expected", ErrExpired, short(id), k.Name, fmtTime(k.NotBefore), fmtTime(k.NotAfter), now.Format(time.RFC3339))
	}
	if !k.InScope(name) {
		return Key{}, fmt.Errorf("%w: key %s (%s) is trusted for %s only, not for %s", ErrScope, short(id), k.Name, strings.Join(k.Scopes, ", "), name)
	}
	return k, nil
}

// Evaluate decides a request. A refusal is an error; a permission escalation
// without approval is a Decision with NeedsApproval and an ErrNeedsApproval error.
func (p Policy) Evaluate(r Request) (Decision, error) {
	name := r.Manifest.Name
	k, err := p.CheckKey(r.KeyID, name, r.Now)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Key: k}
	prev, known := p.Modules[name]
	granted := []string(nil)
	if known {
		d.Update = true
		d.PriorVersion = prev.HighestVersion
		granted = prev.Granted
		if prev.KeyID != r.KeyID {
			chain, err := p.rotationChain(prev.KeyID, r.KeyID, name, r.Rotations, r.Now)
			if err != nil {
				return Decision{}, err
			}
			d.Rotated = chain
		}
		if manifest.Compare(r.Manifest.Version, prev.HighestVersion) < 0 {
			return Decision{}, fmt.Errorf("%w: %s %s is older than %s, the highest version seen; a downgrade could reintroduce fixed vulnerabilities (remove the module and its record with `atelier module remove --forget` to allow it)", ErrRollback, name, r.Manifest.Version, prev.HighestVersion)
		}
	}
	d.AddedPerms = manifest.Added(granted, r.Manifest.Permissions)
	if len(d.AddedPerms) > 0 && !r.Approve {
		d.NeedsApproval = true
		return d, fmt.Errorf("%w: %s %s requests permissions not granted before: %s; review them and install again with approval (--approve)", ErrNeedsApproval, name, r.Manifest.Version, strings.Join(d.AddedPerms, ", "))
	}
	return d, nil
}

// rotationChain links from (the key the module was bound to) to to through
// rotation statements, each signed by the key it rotates away from.
func (p Policy) rotationChain(from, to, name string, rots []Rotation, now time.Time) ([]string, error) {
	cur := from
	var chain []string
	for step := 0; step < 8 && cur != to; step++ {
		found := false
		for _, r := range rots {
			if r.OldKeyID != cur || !r.Verified {
				continue
			}
			if !r.covers(name) {
				continue
			}
			if old, ok := p.Keys[cur]; ok && old.Revoked {
				// A revoked key may be in an attacker's hands, and the issue
				// time is the signer's claim: its rotations count for nothing.
				continue
			}
			chain = append(chain, r.NewKeyID)
			cur = r.NewKeyID
			found = true
			break
		}
		if !found {
			break
		}
	}
	if cur != to {
		if old, ok := p.Keys[from]; ok && old.Revoked {
			return nil, fmt.Errorf("%w: %s was installed from key %s, since revoked, and this release is signed by %s; if you trust the new key for it, run `atelier module remove --forget %s` and install again", ErrKeyChange, name, short(from), short(to), name)
		}
		return nil, fmt.Errorf("%w: %s was installed from key %s but this release is signed by %s; the publisher must ship a rotation statement signed by the old key (`atelier keys rotate`)", ErrKeyChange, name, short(from), short(to))
	}
	return chain, nil
}

// Record returns the policy's memory of a module after a successful install.
func Record(prev Module, known bool, m manifest.Manifest, keyID string, now time.Time) Module {
	rec := Module{Name: m.Name, HighestVersion: m.Version, KeyID: keyID, UpdatedAt: now}
	if known && manifest.Compare(prev.HighestVersion, m.Version) > 0 {
		rec.HighestVersion = prev.HighestVersion
	}
	g := append([]string(nil), m.Permissions...)
	sort.Strings(g)
	rec.Granted = g
	return rec
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.Format(time.RFC3339)
}
