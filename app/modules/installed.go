package modules

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
	"atelier/signing"
	"atelier/signing/pack"
	"atelier/signing/sign"
	"atelier/signing/trust"
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

// Installed lists installed modules with their current verification state.
func (s *Service) Installed() ([]InstalledModule, error) {
	pol, err := s.policy()
	if err != nil {
		return nil, err
	}
	out := []InstalledModule{}
	now := time.Now()
	err = s.db.View(func(tx *localdb.Tx) error {
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
func (s *Service) Remove(name string, forget bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var im InstalledModule
	var found bool
	err := s.db.View(func(tx *localdb.Tx) error {
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
	err = s.db.Update(func(tx *localdb.Tx) error {
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
	s.record("module.removed", nil)
	s.host.Emit("modules", map[string]any{"change": "removed"})
	return nil
}

// Check re-hashes an installed module's files against the signed file list it
// was installed from, and records what differs (changed, missing or added files).
func (s *Service) Check(name string) (InstalledModule, error) {
	var im InstalledModule
	var list pack.FileList
	var found bool
	err := s.db.View(func(tx *localdb.Tx) error {
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
		if err := s.host.Context().Err(); err != nil {
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
	if err := s.db.Update(func(tx *localdb.Tx) error { return modInstalled.Put(tx, name, im) }); err != nil {
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
