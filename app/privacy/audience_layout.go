package privacy

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"atelier/app/apierr"
)

// column layout resolved from a header row.
type layout struct {
	platformName string
	date         int
	item         int
	platformCol  int
	metrics      []int    // column index per metric
	metricNames  []string // metric per entry of metrics
	headers      []string
	dateFormat   string
}

func normHeader(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

func findCol(idx map[string]int, names []string) int {
	for _, n := range names {
		if i, ok := idx[n]; ok {
			return i
		}
	}
	return -1
}

func validMetric(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for _, r := range m {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// resolveLayout matches the header row against the mapping.
func resolveLayout(header []string, m AudienceMapping) (layout, error) {
	idx := map[string]int{}
	for i, h := range header {
		if _, dup := idx[normHeader(h)]; !dup {
			idx[normHeader(h)] = i
		}
	}
	l := layout{date: -1, item: -1, platformCol: -1, headers: header, dateFormat: m.DateFormat}
	plat := strings.ToLower(m.Platform)
	var pr *preset
	switch plat {
	case "", "auto":
		best := 0
		for i := range presets {
			p := &presets[i]
			if findCol(idx, p.date) < 0 {
				continue
			}
			score := 0
			seen := map[string]bool{}
			for _, mm := range p.metrics {
				if _, ok := idx[mm[0]]; ok && !seen[mm[1]] {
					score += 2
					seen[mm[1]] = true
				}
			}
			if score == 0 {
				continue
			}
			if findCol(idx, p.item) >= 0 {
				score++
			}
			if findCol(idx, p.platform) >= 0 {
				score++
			}
			if score > best {
				best, pr = score, p
			}
		}
		if pr == nil && m.Date == "" {
			return l, fmt.Errorf("the columns (%s) match no known platform export: choose a platform or map the columns yourself (generic: a date column and metric columns)", strings.Join(header, ", "))
		}
	case "generic":
	default:
		for i := range presets {
			if presets[i].name == plat {
				pr = &presets[i]
			}
		}
		if pr == nil {
			return l, apierr.Errorf(apierr.InvalidInput, "unknown platform %q: use one of %s", m.Platform, strings.Join(AudiencePlatforms(), ", "))
		}
	}
	metricCol := map[string]int{}
	var order []string
	addMetric := func(col int, metric string) {
		if _, ok := metricCol[metric]; !ok {
			order = append(order, metric)
		}
		metricCol[metric] = col
	}
	if pr != nil {
		l.platformName = pr.name
		l.date = findCol(idx, pr.date)
		l.item = findCol(idx, pr.item)
		l.platformCol = findCol(idx, pr.platform)
		for _, mm := range pr.metrics {
			if c, ok := idx[mm[0]]; ok {
				if _, have := metricCol[mm[1]]; !have {
					addMetric(c, mm[1])
				}
			}
		}
	} else {
		l.platformName = "generic"
	}
	col := func(what, name string) (int, error) {
		c, ok := idx[normHeader(name)]
		if !ok {
			return -1, fmt.Errorf("the %s column %q is not in the header (%s)", what, name, strings.Join(header, ", "))
		}
		return c, nil
	}
	var err error
	if m.Date != "" {
		if l.date, err = col("date", m.Date); err != nil {
			return l, err
		}
	}
	if m.Item != "" {
		if l.item, err = col("item", m.Item); err != nil {
			return l, err
		}
	}
	if m.PlatformColumn != "" {
		if l.platformCol, err = col("platform", m.PlatformColumn); err != nil {
			return l, err
		}
	}
	keys := make([]string, 0, len(m.Metrics))
	for k := range m.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, h := range keys {
		name := strings.ToLower(strings.TrimSpace(m.Metrics[h]))
		if name == "" {
			name = strings.ReplaceAll(normHeader(h), " ", "_")
		}
		if !validMetric(name) {
			return l, fmt.Errorf("metric name %q for column %q: use lowercase letters, digits and _ (at most 32)", name, h)
		}
		c, err := col("metric", h)
		if err != nil {
			return l, err
		}
		addMetric(c, name)
	}
	if l.date < 0 {
		return l, fmt.Errorf("no date column found in (%s): name it in the mapping", strings.Join(header, ", "))
	}
	if len(order) == 0 {
		return l, fmt.Errorf("no metric columns found in (%s): map at least one column to a metric (for example Plays=plays)", strings.Join(header, ", "))
	}
	for _, name := range order {
		l.metrics = append(l.metrics, metricCol[name])
		l.metricNames = append(l.metricNames, name)
	}
	return l, nil
}

var dateLayouts = []string{"2006-01-02", time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "Jan 2, 2006", "January 2, 2006", "2 Jan 2006", "2 January 2006", "20060102"}

func parseAudienceDate(s, format string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("the date is empty")
	}
	day := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	check := func(t time.Time) (time.Time, error) {
		if t.Year() < 1990 || t.Year() > 2200 {
			return time.Time{}, fmt.Errorf("date %q is out of range", s)
		}
		return day(t), nil
	}
	switch strings.ToUpper(format) {
	case "":
	case "DD/MM/YYYY":
		format = "02/01/2006"
	case "MM/DD/YYYY":
		format = "01/02/2006"
	case "YYYY-MM-DD":
		format = "2006-01-02"
	}
	if format != "" {
		t, err := time.Parse(format, s)
		if err != nil {
			if t2, err2 := time.Parse(strings.ReplaceAll(strings.ReplaceAll(format, "02", "2"), "01", "1"), s); err2 == nil {
				return check(t2)
			}
			return time.Time{}, fmt.Errorf("date %q does not match the date format %s", s, format)
		}
		return check(t)
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return check(t)
		}
	}
	if t, err := time.Parse("2006-01", s); err == nil {
		return check(t)
	}
	if strings.Count(s, "/") == 2 {
		return time.Time{}, fmt.Errorf("date %q is ambiguous (day/month or month/day): set the date format DD/MM/YYYY or MM/DD/YYYY", s)
	}
	return time.Time{}, fmt.Errorf("date %q is not a date Atelier reads: use YYYY-MM-DD or set a date format", s)
}

// parseAudienceNumber reads a count or an amount: currency signs and
// thousands separators are allowed; a lone comma is a decimal comma.
func parseAudienceNumber(s string) (float64, bool, error) {
	if plainNumber(s) {
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil, err
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return 0, false, nil
	}
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '$', '€', '£', '¥', ' ', '\u00a0', '\u202f', '\'':
			return -1
		}
		return r
	}, s)
	for _, c := range []string{"USD", "EUR", "GBP"} {
		s = strings.TrimSuffix(strings.TrimPrefix(s, c), c)
	}
	if strings.Contains(s, ",") {
		if strings.Contains(s, ".") {
			if strings.LastIndex(s, ",") > strings.LastIndex(s, ".") { // 1.234,56
				s = strings.ReplaceAll(s, ".", "")
				s = strings.Replace(s, ",", ".", 1)
			} else { // 1,234.56
				s = strings.ReplaceAll(s, ",", "")
			}
		} else if thousands(s) {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.Replace(s, ",", ".", 1)
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v || v > 1e15 || v < -1e15 {
		return 0, false, errors.New("not a number")
	}
	if neg {
		v = -v
	}
	return v, true, nil
}

// plainNumber is the common case: digits with at most one decimal point.
func plainNumber(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s[len(s)-1] != '.'
}

func thousands(s string) bool {
	s = strings.TrimPrefix(s, "-")
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts[0]) == 0 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return true
}

func cleanCell(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > max {
		return "", fmt.Errorf("%s is longer than %d characters", what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%s has control characters", what)
		}
	}
	return s, nil
}
