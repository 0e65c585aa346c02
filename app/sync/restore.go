package syncsvc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/sync/target"
	"atelier/sync/vault"
)

// SnapshotInfo is one version in a project's history.
type SnapshotInfo struct {
	ID      string    `json:"id"`
	Seq     int64     `json:"seq"`
	Device  string    `json:"device"`
	Time    time.Time `json:"time"`
	Files   int       `json:"files"`
	Bytes   int64     `json:"bytes"`
	Pruned  bool      `json:"pruned"`
	Current bool      `json:"current"` // the one this device has
}

func (s *Service) projectRemote(project string) (string, Remote, error) {
	id, _, _ := s.projectID(project)
	r, _ := s.rulesOf(id)
	rm, err := s.remote(r.Remote)
	return id, rm, err
}

// RestoreOptions say how a restore treats a folder that is not empty.
type RestoreOptions struct {
	// Overwrite allows a non-empty folder, the project's own included:
	// every file replaced whose content differs is first kept beside it as
	// "name (before restore DATE).ext"; identical files are left alone.
	// Without it a non-empty folder is refused and nothing is written.
	Overwrite bool `json:"overwrite"`
}

// Restore writes a project's snapshot ("" = latest) into toDir, every file
// verified, every write inside toDir without following links. The result
// lists files kept before being replaced (Kept), written under a safe name
// (Renamed) and not written (Refused).
func (s *Service) Restore(project, toDir, snapshotID string, o RestoreOptions) (vault.RestoreResult, error) {
	if err := s.needConsent(); err != nil {
		return vault.RestoreResult{}, err
	}
	if toDir == "" {
		return vault.RestoreResult{}, apierr.WithUI(apierr.Errorf(apierr.InvalidInput, "restore needs a target folder (--to DIR): an empty or new folder, or a non-empty one with --overwrite (replaced files are kept beside the restored ones)"),
			"Choose a folder to restore into (an empty or new one).")
	}
	abs, err := filepath.Abs(toDir)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	if !o.Overwrite {
		if p, ok := s.liveProjectAt(abs); ok {
			return vault.RestoreResult{}, apierr.WithUI(apierr.Errorf(apierr.Conflict, "restore into %s refused, nothing was written: it is the folder of project %s, and restoring there replaces its current files. Restore into an empty or new folder, or ask to overwrite (`--overwrite`, or \"Overwrite\" in the Sync view): every file whose content differs is then kept beside it as \"NAME (before restore DATE).EXT\"", abs, p),
				fmt.Sprintf("Restore into %s refused, nothing was written: it is the folder of project %s, and restoring there replaces its current files. Choose an empty or new folder, or Overwrite: every file whose content differs is then kept beside it as “NAME (before restore DATE).EXT”.", abs, p))
		}
	}
	id, rm, err := s.projectRemote(project)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	ctx := s.host.Context()
	ro := vault.RestoreOptions{Overwrite: o.Overwrite, Progress: func(p vault.Progress) { s.setProgress(id, p) }}
	res, err := s.target(rm).restore(ctx, id, snapshotID, abs, ro)
	if err != nil {
		return res, restoreErr(abs, err)
	}
	for _, r := range res.Renamed {
		s.log.Warn("restore: file written under a safe name", "path", r.Path, "as", r.As, "reason", r.Reason)
	}
	for _, r := range res.Refused {
		s.log.Warn("restore: file not written", "path", r.Path, "reason", r.Reason)
	}
	return res, nil
}

// restoreErr gives a restore's refusals their kind: a non-empty folder is a
// Conflict (with the app's wording, which offers its Overwrite choice rather
// than the CLI's flag), an unknown snapshot NotFound. Messages are unchanged.
func restoreErr(dir string, err error) error {
	switch {
	case errors.Is(err, target.ErrNotEmpty):
		return apierr.WithUI(apierr.Wrap(apierr.Conflict, err),
			fmt.Sprintf("Restore into %s refused, nothing was written: the folder is not empty. Choose an empty or new folder, or Overwrite: every file whose content differs is then kept beside it as “NAME (before restore DATE).EXT”, and identical files are left alone.", dir))
	case errors.Is(err, vault.ErrNoSnapshot):
		return apierr.Wrap(apierr.NotFound, err)
	}
	return err
}

// liveProjectAt reports the project whose folder dir is, is inside, or
// holds.
func (s *Service) liveProjectAt(dir string) (string, bool) {
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	within := func(a, b string) bool { // a is b or inside it
		rel, err := filepath.Rel(b, a)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	d := real(dir)
	ps, _ := s.files.Projects()
	for _, p := range ps {
		r := real(p.Root)
		if within(d, r) || within(r, d) {
			name := p.Name
			if name == "" {
				name = string(p.ID)
			}
			return name, true
		}
	}
	return "", false
}

// Snapshots lists a project's history on its remote, newest first.
func (s *Service) Snapshots(project string) ([]SnapshotInfo, error) {
	if err := s.needConsent(); err != nil {
		return nil, err
	}
	id, rm, err := s.projectRemote(project)
	if err != nil {
		return nil, err
	}
	hs, cur, err := s.target(rm).snapshots(s.host.Context(), id)
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotInfo, 0, len(hs))
	for i := len(hs) - 1; i >= 0; i-- {
		h := hs[i]
		out = append(out, SnapshotInfo{ID: h.Snapshot, Seq: h.Seq, Device: h.Device, Time: h.Time, Files: h.Files, Bytes: h.Bytes, Pruned: h.Pruned, Current: h.Snapshot == cur.Snapshot})
	}
	return out, nil
}

// Prune applies the retention policy to a remote's vault ("" = default)
// and deletes data no kept snapshot needs.
func (s *Service) Prune(remoteName string) (vault.PruneResult, error) {
	if err := s.needConsent(); err != nil {
		return vault.PruneResult{}, err
	}
	rm, err := s.remote(remoteName)
	if err != nil {
		return vault.PruneResult{}, err
	}
	if rm.Kind != "vault" {
		return vault.PruneResult{}, apierr.Errorf(apierr.InvalidInput, "%s is a mirror: it keeps no history to prune", rm.Name)
	}
	v, err := s.vault(s.host.Context(), rm)
	if err != nil {
		return vault.PruneResult{}, err
	}
	set, _ := s.settings()
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return v.Prune(s.host.Context(), set.Retention, time.Hour, false)
}

// Verify downloads and checks everything the newest snapshot of project
// ("" = every project on the default remote) references.
func (s *Service) Verify(project string) (vault.VerifyResult, error) {
	if err := s.needConsent(); err != nil {
		return vault.VerifyResult{}, err
	}
	id, rm, err := s.projectRemote(project)
	if err != nil {
		return vault.VerifyResult{}, err
	}
	return s.target(rm).verify(s.host.Context(), id, project == "", func(p vault.Progress) { s.setProgress(id, p) })
}

// Repair verifies what the newest snapshot of project references and
// uploads again, from the files here, everything missing or damaged on the
// remote whose file still has the snapshot's content; then it commits a
// snapshot that restores. What cannot be repaired from this device is
// named file by file (vault.Repair).
func (s *Service) Repair(project string) (vault.RepairResult, error) {
	res := vault.RepairResult{Repaired: []string{}, Unrepaired: []vault.Damaged{}}
	if err := s.needConsent(); err != nil {
		return res, err
	}
	if project == "" {
		return res, apierr.Errorf(apierr.InvalidInput, "name the project to repair: `atelier sync verify PROJECT --repair`")
	}
	id, _, ok := s.projectID(project)
	if !ok {
		return res, apierr.Errorf(apierr.NotFound, "no project %q: see `atelier project list`", project)
	}
	ctx := s.host.Context()
	s.runMu.Lock()
	defer s.runMu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.progress, id)
		s.mu.Unlock()
		s.emitStatus()
	}()
	rm, job, err := s.job(ctx, id, true)
	if err != nil {
		return res, err
	}
	return s.target(rm).repair(ctx, job)
}
