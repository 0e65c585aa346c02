package app

import (
	"context"

	"atelier/app/index"
)

// SyncService pushes selected files to cloud remotes and restores them.
// STUB: the sync work replaces this file.
type SyncService struct{ e *Engine }

func newSyncService(e *Engine) (*SyncService, error) { return &SyncService{e: e}, nil }
func (s *SyncService) start(ctx context.Context)        {}
func (s *SyncService) close() error                     { return nil }

// consider adds a change to the outbox when the project's rules select it.
func (s *SyncService) consider(c index.Change) {}
