// Package check is the release check's logic, run by the module inside the
// sandbox and natively by its tests.
package check

import (
	"context"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"atelier/modules/internal/studio"
)

// Rules are what a release must meet.
type Rules struct {
	TargetLUFS float64 `json:"targetLufs"`
	Tolerance  float64 `json:"toleranceLu"`
	MaxPeak    float64 `json:"maxPeakDbfs"` // sample peak above this counts as clipping
	MinCover   int     `json:"minCoverPx"`
}

// Defaults are the streaming services' usual targets.
var Defaults = Rules{TargetLUFS: -14, Tolerance: 1, MaxPeak: -0.1, MinCover: 3000}

// Finding is one check on one file.
type Finding struct {
	Check  string `json:"check"` // loudness, clipping, sample-rate, cover, audio
	File   string `json:"file,omitempty"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is the release check's result.
type Report struct {
	Rules    Rules            `json:"rules"`
	Masters  []studio.Measure `json:"masters"`
	Cover    string           `json:"cover,omitempty"`
	Findings []Finding        `json:"findings"`
	Problems int              `json:"problems"`
}

// coverNames are the names a release's cover art goes by, best first.
var coverNames = []string{"cover", "folder", "front", "artwork", "album"}

// Run checks the project (or the selection).
func Run(ctx context.Context, env studio.Env, rules Rules) (*Report, error) {
	files, err := env.Files()
	if err != nil {
		return nil, err
	}
	rep := &Report{Rules: rules, Masters: []studio.Measure{}, Findings: []Finding{}}
	var images []string
	for _, f := range files {
		switch {
		case studio.IsAudio(f):
			rep.Masters = append(rep.Masters, env.Measure(ctx, f))
		case studio.IsImage(f):
			images = append(images, f)
		}
	}
	add := func(f Finding) {
		rep.Findings = append(rep.Findings, f)
		if !f.OK {
			rep.Problems++
		}
	}
	if len(rep.Masters) == 0 {
		add(Finding{Check: "audio", Detail: "no masters found (WAV, FLAC or MP3)"})
	}
	rates := map[int][]string{}
	for _, m := range rep.Masters {
		if m.Error != "" {
			add(Finding{Check: "audio", File: m.Path, Detail: "cannot be read: " + m.Error})
			continue
		}
		l := m.Loudness
		rates[m.Info.SampleRate] = append(rates[m.Info.SampleRate], m.Path)
		switch {
		case l.NotMeasurable != "":
			add(Finding{Check: "loudness", File: m.Path, Detail: "not measurable: " + l.NotMeasurable})
		case math.Abs(l.Integrated-rules.TargetLUFS) > rules.Tolerance:
			add(Finding{Check: "loudness", File: m.Path, Detail: fmt.Sprintf("%.1f LUFS, target %.1f ±%.1f LU", l.Integrated, rules.TargetLUFS, rules.Tolerance)})
		default:
			add(Finding{Check: "loudness", File: m.Path, OK: true, Detail: fmt.Sprintf("%.1f LUFS", l.Integrated)})
		}
		if l.Clipped > 0 || l.SamplePeak > rules.MaxPeak {
			add(Finding{Check: "clipping", File: m.Path, Detail: fmt.Sprintf("%d samples at full scale, peak %.2f dBFS (limit %.1f)", l.Clipped, l.SamplePeak, rules.MaxPeak)})
		} else {
			add(Finding{Check: "clipping", File: m.Path, OK: true, Detail: fmt.Sprintf("peak %.2f dBFS", l.SamplePeak)})
		}
	}
	if len(rates) > 1 {
		var parts []string
		for r, fs := range rates {
			parts = append(parts, fmt.Sprintf("%d Hz: %s", r, strings.Join(fs, ", ")))
		}
		sort.Strings(parts)
		add(Finding{Check: "sample-rate", Detail: "masters differ: " + strings.Join(parts, "; ")})
	} else if len(rates) == 1 {
		for r := range rates {
			add(Finding{Check: "sample-rate", OK: true, Detail: fmt.Sprintf("all masters at %d Hz", r)})
		}
	}
	rep.Cover = pickCover(images)
	if rep.Cover == "" {
		add(Finding{Check: "cover", Detail: "no cover art: add cover.jpg or cover.png (at least 3000 × 3000)"})
	} else if w, h, err := env.ImageSize(rep.Cover); err != nil {
		add(Finding{Check: "cover", File: rep.Cover, Detail: err.Error()})
	} else if w < rules.MinCover || h < rules.MinCover {
		add(Finding{Check: "cover", File: rep.Cover, Detail: fmt.Sprintf("%d × %d, below %d × %d", w, h, rules.MinCover, rules.MinCover)})
	} else {
		add(Finding{Check: "cover", File: rep.Cover, OK: true, Detail: fmt.Sprintf("%d × %d", w, h)})
	}
	return rep, nil
}

// pickCover prefers an image named like cover art; else the only image.
func pickCover(images []string) string {
	for _, name := range coverNames {
		for _, im := range images {
			base := strings.ToLower(strings.TrimSuffix(path.Base(im), path.Ext(im)))
			if base == name {
				return im
			}
		}
	}
	if len(images) == 1 {
		return images[0]
	}
	return ""
}

// Text is the report as the creator reads it.
func (r *Report) Text() string {
	var b strings.Builder
	if r.Problems == 0 {
		fmt.Fprintf(&b, "Release check: ready (%d masters)\n", len(r.Masters))
	} else {
		fmt.Fprintf(&b, "Release check: %d problem(s) in %d masters\n", r.Problems, len(r.Masters))
	}
	for _, f := range r.Findings {
		mark := "OK  "
		if !f.OK {
			mark = "FAIL"
		}
		file := f.File
		if file != "" {
			file += ": "
		}
		fmt.Fprintf(&b, "%s %-11s %s%s\n", mark, f.Check, file, f.Detail)
	}
	return b.String()
}
