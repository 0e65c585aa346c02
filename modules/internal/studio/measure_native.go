//go:build !wasip1

package studio

import (
	"context"
	"path/filepath"

	"atelier/app/modules/sandbox"
)

// Measure decodes an audio file once and measures its loudness (EBU R128):
// natively, the same code the sandbox's measure host function runs.
func (e Env) Measure(ctx context.Context, rel string) Measure {
	m := sandbox.MeasureAudio(ctx, filepath.Join(e.Project, filepath.FromSlash(rel)))
	return Measure{Path: rel, Info: m.Info, Loudness: m.Loudness, Error: m.Error}
}
