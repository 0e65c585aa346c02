package modules

import (
	"fmt"
	"time"

	"atelier/localdb"
)

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

func (s *Service) audit(e AuditEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	key := fmt.Sprintf("%020d-%06d", e.Time.UnixNano(), s.auditSeq.Add(1)%1000000)
	if err := s.db.Update(func(tx *localdb.Tx) error { return modAudit.Put(tx, key, e) }); err != nil {
		s.log.Error("write module audit log", "err", err)
	}
	s.log.Info("module audit", "action", e.Action, "subject", e.Subject, "version", e.Version, "outcome", e.Outcome)
}

// Audit returns the newest limit entries of the audit log, newest first (limit ≤ 0: 100).
func (s *Service) Audit(limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	var all []AuditEntry
	err := s.db.View(func(tx *localdb.Tx) error {
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
