package syncsvc

import (
	"context"
	"errors"
	"net/url"
)

// recordRun stores the usage events of one run (privacy.Events "sync.run"
// and "sync.conflict"): the remote's scheme, counts and the outcome, never
// names or paths.
func (s *Service) recordRun(pr ProjectRun, err error) {
	result := "ok"
	switch {
	case errors.Is(err, context.Canceled):
		result = "cancelled"
	case err != nil:
		result = "error"
	case len(pr.Conflicts) > 0:
		result = "conflict"
	}
	scheme := "other"
	if rm, rerr := s.remote(pr.Remote); rerr == nil {
		if u, perr := url.Parse(rm.URL); perr == nil {
			switch u.Scheme {
			case "s3", "gs", "azblob", "file":
				scheme = u.Scheme
			}
		}
	}
	s.record("sync.run", map[string]any{"remote": scheme, "direction": "push", "files": pr.Uploaded + pr.Pulled,
		"bytes": pr.BytesSent, "ms": pr.DurationMs, "result": result, "ok": err == nil})
	for range pr.Conflicts {
		s.record("sync.conflict", nil)
	}
}
