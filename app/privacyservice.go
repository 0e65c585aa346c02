package app

import "context"

// PrivacyService holds consent, local analytics and experiments.
// STUB: the privacy work replaces this file.
type PrivacyService struct{ e *Engine }

func newPrivacyService(e *Engine) (*PrivacyService, error) { return &PrivacyService{e: e}, nil }
func (s *PrivacyService) start(ctx context.Context)        {}
func (s *PrivacyService) close() error                     { return nil }

// record stores a usage event of Atelier's own features when analytics.local
// is granted (dropped and counted otherwise). fields follow the event's schema.
func (s *PrivacyService) record(event string, fields map[string]any) {}

// granted reports whether purpose is currently granted.
func (s *PrivacyService) granted(purpose string) bool { return false }
