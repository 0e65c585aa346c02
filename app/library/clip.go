package library

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/apierr"
	"atelier/app/preview/mp3"
)

// ClipResult is a teaser cut by Clip.
type ClipResult struct {
	Path    string  `json:"path"`   // relative to the project root
	Source  string  `json:"source"` // absolute path
	Start   float64 `json:"start"`  // seconds, at a frame boundary
	Length  float64 `json:"length"` // seconds
	Bytes   int     `json:"bytes"`
	Preroll int     `json:"preroll"` // frames kept before the start for the bit reservoir
}

// Clip cuts a teaser out of an MP3 of the project, at frame boundaries and
// without re-encoding, and saves it beside the original as
// "NAME (teaser M-SS).mp3". start and length are in seconds.
func (s *Service) Clip(project, p string, start, length float64) (ClipResult, error) {
	pr, err := s.files.Project(project)
	if err != nil {
		return ClipResult{}, err
	}
	root := pr.Root
	if strings.ToLower(path.Ext(p)) != ".mp3" {
		return ClipResult{}, apierr.Errorf(apierr.InvalidInput, "%s is not an MP3: teasers are cut from MP3 files without re-encoding", p)
	}
	if length <= 0 || length > 600 || start < 0 {
		return ClipResult{}, apierr.Errorf(apierr.InvalidInput, "a teaser starts at 0 s or later and lasts up to 10 minutes (got start %.1f s, length %.1f s)", start, length)
	}
	src := filepath.Join(root, filepath.FromSlash(p))
	data, err := os.ReadFile(src)
	if err != nil {
		return ClipResult{}, fmt.Errorf("read %s: %w", p, err)
	}
	clip, info, err := mp3.Clip(data, time.Duration(start*float64(time.Second)), time.Duration(length*float64(time.Second)))
	if err != nil {
		return ClipResult{}, fmt.Errorf("%s: %w", p, err)
	}
	base := strings.TrimSuffix(path.Base(p), path.Ext(p))
	at := int(info.Start.Seconds())
	name := fmt.Sprintf("%s (teaser %d-%02d).mp3", base, at/60, at%60)
	rel := path.Join(path.Dir(p), name)
	dst := filepath.Join(root, filepath.FromSlash(rel))
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".teaser-*.tmp")
	if err != nil {
		return ClipResult{}, fmt.Errorf("write the teaser beside %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(clip); err != nil {
		tmp.Close()
		return ClipResult{}, fmt.Errorf("write %s: %w", rel, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return ClipResult{}, err
	}
	if err := tmp.Close(); err != nil {
		return ClipResult{}, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return ClipResult{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return ClipResult{}, fmt.Errorf("save %s: %w", rel, err)
	}
	return ClipResult{Path: rel, Source: dst, Start: info.Start.Seconds(), Length: info.Length.Seconds(), Bytes: info.Bytes, Preroll: info.Preroll}, nil
}
