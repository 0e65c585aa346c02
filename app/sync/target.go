package syncsvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"atelier/sync/mirror"
	"atelier/sync/vault"
)

// syncTarget is what a remote does for a project, whatever its kind: a
// vault (encrypted, deduplicated history) or a mirror (plain files, no
// history). The target is chosen once, by target; it opens the vault or the
// storage only when an operation needs it.
type syncTarget interface {
	// sync pushes job and fills pr's counts (and, for a vault, what it pulled,
	// its conflicts and skipped files).
	sync(ctx context.Context, job vault.Job, pr *ProjectRun) error
	// restore writes project's snapshotID ("" = newest; a mirror has only
	// its current files) into dir.
	restore(ctx context.Context, project, snapshotID, dir string, o vault.RestoreOptions) (vault.RestoreResult, error)
	// verify checks what the newest snapshot of project references (all: of
	// every project on the remote, where the kind can).
	verify(ctx context.Context, project string, all bool, prog func(vault.Progress)) (vault.VerifyResult, error)
	// repair uploads again what the remote lost or damaged, from job's files.
	repair(ctx context.Context, job vault.Job) (vault.RepairResult, error)
	// snapshots lists project's history, oldest first (none for a mirror).
	snapshots(ctx context.Context, project string) ([]vault.Head, vault.Head, error)
}

// target is rm's syncTarget.
func (s *Service) target(rm Remote) syncTarget {
	if rm.Kind == "mirror" {
		return mirrorTarget{s: s, rm: rm}
	}
	return vaultTarget{s: s, rm: rm}
}

type vaultTarget struct {
	s  *Service
	rm Remote
}

func (t vaultTarget) sync(ctx context.Context, job vault.Job, pr *ProjectRun) error {
	v, err := t.s.vault(ctx, t.rm)
	if err != nil {
		return err
	}
	cp, err := t.copyHistory(ctx, v, job)
	if err != nil {
		return err
	}
	// The sync merges what the copy could not (other devices' commits,
	// lost data to heal) and sends what history has not taken yet: after
	// a copy it normally finds nothing to do.
	res, err := v.Sync(ctx, job)
	if err != nil {
		return err
	}
	pr.Snapshot, pr.Seq, pr.NoChange = res.Snapshot, res.Seq, res.NoChange && (cp.NoChange || cp.Head.Seq == 0)
	pr.Uploaded, pr.Pulled, pr.Deleted = len(res.Uploaded)+cp.FilesCopied, len(res.Pulled), len(res.DeletedHere)
	pr.BytesSent, pr.BytesNew, pr.BytesDedup = res.BytesSent+cp.BytesSent, res.BytesNew+cp.BytesNew, res.BytesDeduped+cp.BytesDeduped
	pr.Conflicts = res.Conflicts
	pr.Repaired, pr.Damaged = res.Repaired, res.Damaged
	pr.Skipped = res.Skipped
	return nil
}

func (t vaultTarget) restore(ctx context.Context, project, snapshotID, dir string, o vault.RestoreOptions) (vault.RestoreResult, error) {
	v, err := t.s.vault(ctx, t.rm)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	snap, err := v.FindSnapshot(ctx, project, snapshotID)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	return v.RestoreWith(ctx, snap, dir, o)
}

func (t vaultTarget) verify(ctx context.Context, project string, all bool, prog func(vault.Progress)) (vault.VerifyResult, error) {
	v, err := t.s.vault(ctx, t.rm)
	if err != nil {
		return vault.VerifyResult{}, err
	}
	var ps []string
	if !all {
		ps = []string{project}
	}
	return v.Verify(ctx, ps, prog)
}

func (t vaultTarget) repair(ctx context.Context, job vault.Job) (vault.RepairResult, error) {
	v, err := t.s.vault(ctx, t.rm)
	if err != nil {
		return vault.RepairResult{Repaired: []string{}, Unrepaired: []vault.Damaged{}}, err
	}
	res, err := v.Repair(ctx, job)
	if err == nil {
		t.s.log.Info("sync repair", "project", job.Project, "repaired", len(res.Repaired), "unrepaired", len(res.Unrepaired))
	}
	return res, err
}

func (t vaultTarget) snapshots(ctx context.Context, project string) ([]vault.Head, vault.Head, error) {
	v, err := t.s.vault(ctx, t.rm)
	if err != nil {
		return nil, vault.Head{}, err
	}
	hs, err := v.Heads(ctx, project)
	if err != nil {
		return nil, vault.Head{}, err
	}
	cur, _, _ := v.LastSnapshot(project)
	return hs, cur, nil
}

type mirrorTarget struct {
	s  *Service
	rm Remote
}

// open builds the mirror over rm's storage and local state.
func (t mirrorTarget) open(ctx context.Context) (*mirror.Mirror, error) {
	st, err := t.s.storage(ctx, t.rm)
	if err != nil {
		return nil, err
	}
	return &mirror.Mirror{S: st, St: t.s.syncState(t.rm.Name), Log: t.s.log, GOOS: t.s.goos}, nil
}

func (t mirrorTarget) sync(ctx context.Context, job vault.Job, pr *ProjectRun) error {
	mr, err := t.open(ctx)
	if err != nil {
		return err
	}
	res, err := mr.Sync(ctx, job)
	pr.Uploaded, pr.Deleted, pr.BytesSent, pr.NoChange = len(res.Uploaded), len(res.Deleted), res.BytesSent, res.NoChange
	return err
}

func (t mirrorTarget) restore(ctx context.Context, project, _, dir string, o vault.RestoreOptions) (vault.RestoreResult, error) {
	mr, err := t.open(ctx)
	if err != nil {
		return vault.RestoreResult{}, err
	}
	return mr.Restore(ctx, project, dir, o)
}

func (t mirrorTarget) verify(ctx context.Context, project string, _ bool, _ func(vault.Progress)) (vault.VerifyResult, error) {
	mr, err := t.open(ctx)
	if err != nil {
		return vault.VerifyResult{}, err
	}
	p, err := mr.Verify(ctx, project)
	return vault.VerifyResult{Problems: p}, err
}

// repair publishes again what a mirror lost: Verify forgets the
// missing or damaged files, a sync sends them, a second Verify confirms.
func (t mirrorTarget) repair(ctx context.Context, job vault.Job) (vault.RepairResult, error) {
	res := vault.RepairResult{Repaired: []string{}, Unrepaired: []vault.Damaged{}}
	mr, err := t.open(ctx)
	if err != nil {
		return res, err
	}
	probs, err := mr.Verify(ctx, job.Project)
	res.Verify = vault.VerifyResult{Problems: probs}
	if err != nil || len(probs) == 0 {
		return res, err
	}
	sr, err := mr.Sync(ctx, job)
	if err != nil {
		return res, err
	}
	after, err := mr.Verify(ctx, job.Project)
	if err != nil {
		return res, err
	}
	sent := map[string]bool{}
	for _, p := range sr.Uploaded {
		sent[job.Project+"/"+p] = true
	}
	bad := map[string]string{}
	for _, p := range after {
		for _, f := range p.Files {
			bad[f] = p.Err
		}
	}
	for _, p := range probs {
		for _, f := range p.Files {
			rel := strings.TrimPrefix(f, job.Project+"/")
			switch {
			case bad[f] != "":
				res.Unrepaired = append(res.Unrepaired, vault.Damaged{Path: rel, Reason: bad[f]})
			case sent[f]:
				res.Repaired = append(res.Repaired, rel)
			default:
				res.Unrepaired = append(res.Unrepaired, vault.Damaged{Path: rel, Reason: "the file is not on this device (or not selected here): publish it again from a device that has it"})
			}
		}
	}
	return res, nil
}

func (t mirrorTarget) snapshots(context.Context, string) ([]vault.Head, vault.Head, error) {
	return nil, vault.Head{}, nil
}

// copyHistory copies local history's newest snapshot of job's project to
// v, the selected files only (vault.CopyFrom). A copy that cannot commit
// (the vault moved on elsewhere, history has no snapshot yet) or fails is
// left to the sync that follows; only a cancelled run stops here.
func (t vaultTarget) copyHistory(ctx context.Context, v *vault.Vault, job vault.Job) (vault.CopyResult, error) {
	if t.s.history == nil {
		return vault.CopyResult{}, nil
	}
	hv, ok, err := t.s.history.CloudSnapshot(ctx, job.Project)
	if err == nil && ok {
		r, _ := t.s.rulesOf(job.Project)
		key, _ := json.Marshal(r.Rules)
		sum := sha256.Sum256(key)
		var res vault.CopyResult
		res, err = v.CopyFrom(ctx, hv, vault.CopyOptions{Project: job.Project, Select: job.Selected,
			SelectKey: hex.EncodeToString(sum[:8]), Progress: job.Progress})
		if err == nil {
			return res, nil
		}
	}
	if ctx.Err() != nil {
		return vault.CopyResult{}, ctx.Err()
	}
	if err != nil && !errors.Is(err, vault.ErrNeedsMerge) && !errors.Is(err, vault.ErrNoSnapshot) {
		t.s.log.Warn("sync: history not copied; the sync sends the files itself", "project", job.Project, "err", err)
	}
	return vault.CopyResult{}, nil
}
