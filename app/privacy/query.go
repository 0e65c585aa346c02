package privacy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"atelier/app/apierr"

	"github.com/dgraph-io/badger/v4"
)

// Sources of dashboard data.
const (
	SourceAnalytics = "analytics" // usage events (analytics.local)
	SourceAudience  = "audience"  // imported audience statistics (audience.import)
)

// DashboardQuery selects what the dashboard shows. Dates are days
// ("2006-01-02", UTC), both inclusive; empty To is today and empty From 29 days
// before To.
type DashboardQuery struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Source string `json:"source"` // "analytics" (default) or "audience"
	Metric string `json:"metric"` // event name or audience metric; "" picks the largest
}

// Point is one bucket of a time series.
type Point struct {
	Bucket string  `json:"bucket"`
	Value  float64 `json:"value"`
}

// Item is a named total.
type Item struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Breakdown splits a metric's total by one field.
type Breakdown struct {
	Field string `json:"field"`
	Items []Item `json:"items"`
}

// Dashboard is what the privacy dashboard draws; all of it comes from rollups.
type Dashboard struct {
	From        string      `json:"from"`
	To          string      `json:"to"`
	Source      string      `json:"source"`
	Purpose     string      `json:"purpose"`
	Granted     bool        `json:"granted"`
	Granularity string      `json:"granularity"` // h, d or m
	Metric      string      `json:"metric"`
	Total       float64     `json:"total"`
	Metrics     []Item      `json:"metrics"` // every metric's total in the range, largest first
	Series      []Point     `json:"series"`
	Top         []Item      `json:"top"` // top items (audience) or top values of the busiest field
	Breakdowns  []Breakdown `json:"breakdowns"`
	QueryMicros int64       `json:"queryMicros"`
}

const dayLayout = "2006-01-02"

func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(dayLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, fmt.Errorf("date %q: use YYYY-MM-DD", s)
}

// resolveRange turns the query's From and To into days.
func (s *Store) resolveRange(from, to string) (time.Time, time.Time, error) {
	now := s.now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	t := today
	var err error
	if to != "" {
		if t, err = parseDay(to); err != nil {
			return t, t, fmt.Errorf("end of the range: %w", err)
		}
	}
	f := t.AddDate(0, 0, -29)
	if from != "" {
		if f, err = parseDay(from); err != nil {
			return f, t, fmt.Errorf("start of the range: %w", err)
		}
	}
	if f.After(t) {
		return f, t, fmt.Errorf("range %s to %s ends before it starts: swap the dates", f.Format(dayLayout), t.Format(dayLayout))
	}
	if t.Sub(f) > 20*366*24*time.Hour {
		return f, t, fmt.Errorf("range %s to %s is longer than 20 years: pick a shorter range", f.Format(dayLayout), t.Format(dayLayout))
	}
	return f, t, nil
}

func purposeOfSource(src string) (string, error) {
	switch src {
	case "", SourceAnalytics:
		return AnalyticsLocal, nil
	case SourceAudience:
		return AudienceImport, nil
	}
	return "", apierr.Errorf(apierr.InvalidInput, "unknown dashboard source %q: use analytics or audience", src)
}

// Dashboard answers q from the rollups only (never raw events), so its cost
// depends on the number of metrics and dimensions, not of events.
func (s *Store) Dashboard(q DashboardQuery) (Dashboard, error) {
	start := time.Now()
	purpose, err := purposeOfSource(q.Source)
	if err != nil {
		return Dashboard{}, err
	}
	f, t, err := s.resolveRange(q.From, q.To)
	if err != nil {
		return Dashboard{}, err
	}
	if q.Source == "" {
		q.Source = SourceAnalytics
	}
	d := Dashboard{From: f.Format(dayLayout), To: t.Format(dayLayout), Source: q.Source, Purpose: purpose, Granted: s.Granted(purpose)}
	segs := cover(f, t)
	err = s.db.ViewRaw(func(txn *badger.Txn) error {
		r := newRollReader(txn, purpose)
		defer r.close()
		for _, m := range r.children("", '/') {
			v, err := r.sum(segs, m, "")
			if err != nil {
				return err
			}
			if v != 0 {
				d.Metrics = append(d.Metrics, Item{Name: m, Value: v})
			}
		}
		sortItems(d.Metrics)
		d.Metric = q.Metric
		if d.Metric == "" && len(d.Metrics) > 0 {
			d.Metric = d.Metrics[0].Name
		}
		if d.Metric == "" {
			d.Granularity = Day
			d.Series = fillSeries(Day, f, t, nil)
			return nil
		}
		if strings.ContainsAny(d.Metric, "/\x00") {
			return fmt.Errorf("metric %q: not a metric name", d.Metric)
		}
		for _, m := range d.Metrics {
			if m.Name == d.Metric {
				d.Total = m.Value
			}
		}
		// the time series, in hours for short recent ranges, months for long ones
		gran, lf, lt := Day, f.Format(dayLayout), t.Format(dayLayout)
		switch days := int(t.Sub(f).Hours()/24) + 1; {
		case days <= 3 && s.now().Sub(f) < HourlyRetention:
			gran, lf, lt = Hour, f.Format("2006-01-02T15"), t.Add(23*time.Hour).Format("2006-01-02T15")
		case days > 400:
			gran, lf, lt = Month, f.Format("2006-01"), t.Format("2006-01")
		}
		d.Granularity = gran
		vals := map[string]float64{}
		if err := r.scan(gran, d.Metric, "", lf, lt, func(l string, v rollVal) { vals[l] += v.Sum }); err != nil {
			return err
		}
		d.Series = fillSeries(gran, f, t, vals)
		// breakdowns by every dimension of the metric
		byField := map[string][]Item{}
		var fields []string
		// audience values per item are rolled up by month only (the stored
		// values are the daily numbers): full months come from the rollups,
		// the days around them from the values
		var monthSegs, daySegs []segment
		for _, sg := range segs {
			if sg.gran == Month {
				monthSegs = append(monthSegs, sg)
			} else {
				daySegs = append(daySegs, sg)
			}
		}
		var edge map[string]float64
		if purpose == AudienceImport {
			var err error
			if edge, err = audienceEdgeItems(txn, d.Metric, daySegs); err != nil {
				return err
			}
		}
		for _, dim := range r.children(d.Metric+"/", 0) {
			if dim == "" {
				continue
			}
			field, value, _ := strings.Cut(dim, "=")
			sgs := segs
			if purpose == AudienceImport && field == "item" {
				sgs = monthSegs
			}
			v, err := r.sum(sgs, d.Metric, dim)
			if field == "item" {
				v += edge[value]
				delete(edge, value)
			}
			if err != nil {
				return err
			}
			if v == 0 {
				continue
			}
			if _, ok := byField[field]; !ok {
				fields = append(fields, field)
			}
			byField[field] = append(byField[field], Item{Name: value, Value: v})
		}
		for item, v := range edge {
			if v != 0 && item != "" {
				if _, ok := byField["item"]; !ok {
					fields = append(fields, "item")
				}
				byField["item"] = append(byField["item"], Item{Name: item, Value: v})
			}
		}
		sort.Strings(fields)
		for _, fld := range fields {
			items := byField[fld]
			sortItems(items)
			if fld == "item" {
				d.Top = topN(items, 10)
				continue
			}
			d.Breakdowns = append(d.Breakdowns, Breakdown{Field: fld, Items: items})
		}
		if d.Top == nil && purpose == AnalyticsLocal {
			d.Top = topN(d.Metrics, 10)
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("dashboard %s %s to %s: %w", d.Source, d.From, d.To, err)
	}
	d.QueryMicros = time.Since(start).Microseconds()
	return d, nil
}
