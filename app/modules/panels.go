package modules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"atelier/app/host"
	"atelier/app/modules/sandbox"
	"atelier/signing/manifest"
)

// Chart is the chart spec a panel module prints on stdout (JSON), which the
// Privacy dashboard draws with its own charts: a bar chart (labelled values)
// or a line (values in order).
type Chart struct {
	Type   string    `json:"type"` // "bar" or "line"
	Title  string    `json:"title"`
	Unit   string    `json:"unit,omitempty"`
	Labels []string  `json:"labels"`
	Values []float64 `json:"values"`
}

// Chart limits.
const (
	MaxChartPoints = 500
	maxChartBytes  = 256 << 10
	maxChartLabel  = 120
)

// ParseChart reads and checks a panel's chart spec: a known type, as many
// labels as values, finite values, at most MaxChartPoints.
func ParseChart(report string) (Chart, error) {
	var c Chart
	s := strings.TrimSpace(report)
	if s == "" {
		return c, errors.New("the panel printed no chart (it should print a JSON chart spec)")
	}
	if len(s) > maxChartBytes {
		return c, fmt.Errorf("the panel's chart is %d bytes, over the %d KiB limit", len(s), maxChartBytes>>10)
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return Chart{}, fmt.Errorf("the panel's chart is not a JSON chart spec: %v", err)
	}
	if c.Type != "bar" && c.Type != "line" {
		return Chart{}, fmt.Errorf("the panel's chart type %q is not bar or line", c.Type)
	}
	if len(c.Labels) != len(c.Values) {
		return Chart{}, fmt.Errorf("the panel's chart has %d labels for %d values", len(c.Labels), len(c.Values))
	}
	if len(c.Values) > MaxChartPoints {
		return Chart{}, fmt.Errorf("the panel's chart has %d points, over the limit of %d", len(c.Values), MaxChartPoints)
	}
	for i, v := range c.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Chart{}, fmt.Errorf("the panel's chart value %d is not a number", i)
		}
		if len(c.Labels[i]) > maxChartLabel {
			c.Labels[i] = c.Labels[i][:maxChartLabel]
		}
	}
	if len(c.Title) > maxChartLabel {
		c.Title = c.Title[:maxChartLabel]
	}
	if c.Labels == nil {
		c.Labels, c.Values = []string{}, []float64{}
	}
	return c, nil
}

// Panel is a panel module's chart for the Privacy dashboard, or why there is none.
type Panel struct {
	Module  string `json:"module"`
	Version string `json:"version"`
	Chart   *Chart `json:"chart,omitempty"`
	Outcome string `json:"outcome"`
	Message string `json:"message,omitempty"`
}

// Panels runs every installed, verified panel module on the analytics
// rollups (the only thing it may read: analytics:rollups, mounted
// read-only) and returns the charts they drew, in install order. A panel
// that fails says why in its entry; each run is in the audit log.
func (s *Service) Panels(ctx context.Context) ([]Panel, error) {
	ctx, cancel := host.CallContext(s.host.Context(), ctx)
	defer cancel()
	all, err := s.Installed()
	if err != nil {
		return nil, err
	}
	out := []Panel{}
	var dir string
	for _, im := range all {
		if im.Kind != manifest.KindPanel {
			continue
		}
		p := Panel{Module: im.Name, Version: im.Version}
		m, _, err := s.installedModule(im.Name, manifest.KindPanel)
		if err != nil {
			p.Outcome, p.Message = sandbox.OutcomeRefused, err.Error()
			out = append(out, p)
			continue
		}
		if dir == "" {
			os.MkdirAll(s.cacheDir, 0o755)
			if dir, err = os.MkdirTemp(s.cacheDir, "rollups-"); err != nil {
				return nil, fmt.Errorf("a folder for the rollups panels read, in %s: %w", s.cacheDir, err)
			}
			defer os.RemoveAll(dir)
			if s.rollups != nil {
				if err := s.rollups(ctx, dir); err != nil {
					return nil, fmt.Errorf("the rollups for panels: %w", err)
				}
			}
		}
		r, err := s.sandbox(ctx)
		if err != nil {
			return nil, err
		}
		rec, runErr := r.Run(ctx, m, sandbox.Request{Rollups: dir, Limits: sandbox.Limits{Time: 20 * time.Second, ReportBytes: maxChartBytes}})
		p.Outcome, p.Message = rec.Outcome, rec.Message
		if runErr == nil {
			c, err := ParseChart(rec.Report)
			if err != nil {
				p.Outcome, p.Message = sandbox.OutcomeFailed, err.Error()
			} else {
				p.Chart = &c
			}
		}
		s.audit(AuditEntry{Action: "run", Subject: im.Name, Version: im.Version, KeyID: im.KeyID, Outcome: p.Outcome, Detail: "panel: " + rec.Summary()})
		out = append(out, p)
	}
	return out, nil
}
