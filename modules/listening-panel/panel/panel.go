// Package panel is the listening panel's logic: from the rollups Atelier
// mounts for a panel (dashboard.json, audience.json: the Privacy
// dashboard's totals, never raw events) it makes a bar chart of the
// audience metrics, or of the app's own usage when no audience was
// imported. Run by the module in the sandbox and natively by its tests.
package panel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Chart is the chart spec the Privacy dashboard draws.
type Chart struct {
	Type   string    `json:"type"`
	Title  string    `json:"title"`
	Labels []string  `json:"labels"`
	Values []float64 `json:"values"`
}

type item struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

type rollup struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Metrics []item `json:"metrics"`
}

func read(dir, name string) (rollup, error) {
	var r rollup
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// Make builds the chart from the rollups in dir: the audience's metrics,
// else the app's usage, at most 10 bars, largest first.
func Make(dir string) (Chart, error) {
	if dir == "" {
		return Chart{}, fmt.Errorf("this panel needs permission analytics:rollups")
	}
	title := "Audience"
	r, err := read(dir, "audience.json")
	if err != nil || len(r.Metrics) == 0 {
		title = "Usage"
		if r, err = read(dir, "dashboard.json"); err != nil {
			return Chart{}, err
		}
	}
	sort.SliceStable(r.Metrics, func(i, j int) bool { return r.Metrics[i].Value > r.Metrics[j].Value })
	if len(r.Metrics) > 10 {
		r.Metrics = r.Metrics[:10]
	}
	c := Chart{Type: "bar", Title: fmt.Sprintf("%s, %s to %s", title, r.From, r.To), Labels: []string{}, Values: []float64{}}
	for _, m := range r.Metrics {
		c.Labels = append(c.Labels, m.Name)
		c.Values = append(c.Values, m.Value)
	}
	return c, nil
}
