package app

import (
	"context"

	"atelier/app/index"
)

// LibraryService lists files and their previews (waveforms, thumbnails, loudness).
// STUB: the previews work replaces this file.
type LibraryService struct{ e *Engine }

func newLibraryService(e *Engine) (*LibraryService, error) { return &LibraryService{e: e}, nil }
func (s *LibraryService) start(ctx context.Context)        {}
func (s *LibraryService) close() error                     { return nil }

// consider queues a preview for an audio or image file without one.
func (s *LibraryService) consider(c index.Change) {}
