package app

import "context"

// ModulesService packs, signs, verifies and installs modules.
// STUB: the modules work replaces this file.
type ModulesService struct{ e *Engine }

func newModulesService(e *Engine) (*ModulesService, error) { return &ModulesService{e: e}, nil }
func (s *ModulesService) start(ctx context.Context)        {}
func (s *ModulesService) close() error                     { return nil }
