package syncsvc

import (
	"fmt"
	"time"

	"atelier/humanize"
	"atelier/progress"
	"atelier/sync/vault"
)

// SyncProgress is the "syncProgress" event: the common progress fields plus
// the sync detail.
type SyncProgress struct {
	Project string `json:"project"`
	progress.Progress
	Detail vault.Progress `json:"detail"`
}

// SyncProgressEvent carries SyncProgress.
const SyncProgressEvent = "syncProgress"

func (s *Service) setProgress(project string, p vault.Progress) {
	sp := &SyncProgress{Project: project, Detail: p}
	sp.Done, sp.Total, sp.Unit = p.BytesDone, p.BytesTotal, "bytes"
	switch p.Phase {
	case "upload":
		eta := ""
		if p.ETASeconds >= 0 {
			eta = fmt.Sprintf(", about %s left", (time.Duration(p.ETASeconds+0.999) * time.Second).String())
		}
		sp.Note = fmt.Sprintf("%s: %d of %d files, %s new and %s already in the vault%s", project, p.FilesDone, p.FilesTotal, humanize.Bytes(p.BytesNew), humanize.Bytes(p.BytesDeduped), eta)
	case "download":
		sp.Note = fmt.Sprintf("%s: fetching %d files from other devices", project, p.FilesTotal)
	default:
		sp.Note = project + ": " + p.Phase
	}
	if p.Paused {
		sp.Note += " (paused)"
	}
	s.mu.Lock()
	s.progress[project] = sp
	s.mu.Unlock()
	s.emitProg()
}
