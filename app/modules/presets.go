package modules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"atelier/app/apierr"
	"atelier/app/host"
	"atelier/app/modules/sandbox"
	"atelier/localdb"
	"atelier/signing/manifest"
)

// modPresetDirs remembers the folder the creator picked for each preset module.
var modPresetDirs = localdb.NewTable[PresetFolder]("mod/preset/")

// PresetFolder is the folder a preset module installs into: picked once by
// the creator for its folder:LABEL permission, then remembered.
type PresetFolder struct {
	Module string `json:"module"`
	Label  string `json:"label"`  // the folder:LABEL permission's label
	Folder string `json:"folder"` // "" until picked
}

// PresetResult is a preset installed into its folder.
type PresetResult struct {
	Module  string   `json:"module"`
	Version string   `json:"version"`
	Folder  string   `json:"folder"`
	Files   []string `json:"files"`
}

func folderLabel(m manifest.Manifest) string {
	for _, p := range m.Permissions {
		if l, ok := strings.CutPrefix(p, manifest.PermFolderPrefix); ok {
			return l
		}
	}
	return ""
}

// PresetFolderOf answers the folder remembered for preset module name ("" if
// none was picked yet) and the label its permission gives it.
func (s *Service) PresetFolderOf(name string) (PresetFolder, error) {
	m, _, err := s.installedModule(name, manifest.KindPreset)
	if err != nil {
		return PresetFolder{}, err
	}
	pf := PresetFolder{Module: name, Label: folderLabel(m.Manifest)}
	err = s.db.View(func(tx *localdb.Tx) error {
		got, ok, err := modPresetDirs.Get(tx, name)
		if ok {
			pf.Folder = got.Folder
		}
		return err
	})
	return pf, err
}

// PresetInstall copies preset module name's files into folder, the folder the
// creator picked for it (remembered for the next time); "" uses the folder
// picked before. Files already there from an earlier install are replaced.
func (s *Service) PresetInstall(ctx context.Context, name, folder string) (PresetResult, error) {
	ctx, cancel := host.CallContext(s.host.Context(), ctx)
	defer cancel()
	m, im, err := s.installedModule(name, manifest.KindPreset)
	if err != nil {
		return PresetResult{}, err
	}
	label := folderLabel(m.Manifest)
	if label == "" || !has(im.Permissions, manifest.PermFolderPrefix+label) {
		return PresetResult{}, apierr.Errorf(apierr.Conflict, "%s does not have a granted folder:LABEL permission naming where its files go; approve the module again", name)
	}
	if folder == "" {
		pf, err := s.PresetFolderOf(name)
		if err != nil {
			return PresetResult{}, err
		}
		if pf.Folder == "" {
			return PresetResult{}, apierr.Errorf(apierr.InvalidInput, "pick the folder for %s (%s) first", name, label)
		}
		folder = pf.Folder
	}
	abs, err := filepath.Abs(folder)
	if err != nil {
		return PresetResult{}, apierr.Wrap(apierr.InvalidInput, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return PresetResult{}, apierr.Errorf(apierr.NotFound, "folder %s for %s does not exist: pick another", abs, name)
	}
	files, err := sandbox.InstallPreset(ctx, m, abs, true)
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	s.audit(AuditEntry{Action: "preset", Subject: name, Version: im.Version, KeyID: im.KeyID, Outcome: outcome, Detail: fmt.Sprintf("%s (%s): %d files", abs, label, len(files))})
	if err != nil {
		return PresetResult{}, err
	}
	if err := s.db.Update(func(tx *localdb.Tx) error {
		return modPresetDirs.Put(tx, name, PresetFolder{Module: name, Label: label, Folder: abs})
	}); err != nil {
		return PresetResult{}, fmt.Errorf("remember the folder of %s: %w", name, err)
	}
	return PresetResult{Module: name, Version: im.Version, Folder: abs, Files: files}, nil
}

func has(list []string, p string) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}
