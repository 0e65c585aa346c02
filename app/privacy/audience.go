package privacy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	xunicode "golang.org/x/text/encoding/unicode"

	"atelier/app/apierr"
	"atelier/humanize"
	"atelier/localdb"
	"atelier/progress"
)

// AudienceMapping says how a CSV file's columns map to audience statistics.
//
// Platform "auto" (or "") recognises the exports below by their header row;
// "generic" uses the columns named in Date, Item, PlatformColumn and Metrics.
// A named platform can be combined with overrides (Metrics adds or replaces
// columns). Headers match case-insensitively, ignoring surrounding spaces.
//
//	platform    date column              item column                      metrics (column -> metric)
//	spotify     date                     song | track | track name        streams, listeners, saves, followers
//	apple       date                     song | song name | name | title  plays, listeners, shazams, purchases -> sales
//	youtube     date | day               content | video title | video    views, watch time (hours) -> watch_hours,
//	                                                                       subscribers, estimated revenue (usd) -> revenue
//	bandcamp    date                     item name | item | title          quantity -> sales, net amount | item total -> revenue
//	soundcloud  date | day               track title | track | title      plays, likes, reposts, comments, downloads
//	distrokid   reporting date | sale month  title | song                 quantity -> streams, earnings (usd) -> revenue;
//	                                                                       store column -> platform
//
// Files are UTF-8 (a byte-order mark is fine) or UTF-16 with a byte-order
// mark; the delimiter (comma, semicolon or tab) is detected from the header.
// Dates are YYYY-MM-DD, YYYY-MM (a whole month, counted on its first day),
// RFC 3339, "Jan 2, 2006", "2 Jan 2006", or with DateFormat "DD/MM/YYYY",
// "MM/DD/YYYY" (slashed dates are refused without it: they are ambiguous).
// Numbers may carry a currency sign and thousands separators; only revenue
// may be negative (refunds).
type AudienceMapping struct {
	Platform       string            `json:"platform"`
	Date           string            `json:"date,omitempty"`
	Item           string            `json:"item,omitempty"`
	PlatformColumn string            `json:"platformColumn,omitempty"`
	Metrics        map[string]string `json:"metrics,omitempty"`
	DateFormat     string            `json:"dateFormat,omitempty"`
}

type preset struct {
	name     string
	date     []string
	item     []string
	platform []string
	metrics  [][2]string // header, metric; the first header found per metric wins
}

var presets = []preset{
	{name: "distrokid", date: []string{"reporting date", "sale month"}, item: []string{"title", "song"}, platform: []string{"store"},
		metrics: [][2]string{{"quantity", "streams"}, {"earnings (usd)", "revenue"}}},
	{name: "bandcamp", date: []string{"date"}, item: []string{"item name", "item", "title"},
		metrics: [][2]string{{"quantity", "sales"}, {"net amount", "revenue"}, {"item total", "revenue"}}},
	{name: "youtube", date: []string{"date", "day"}, item: []string{"content", "video title", "video"},
		metrics: [][2]string{{"views", "views"}, {"watch time (hours)", "watch_hours"}, {"subscribers", "subscribers"}, {"estimated revenue (usd)", "revenue"}}},
	{name: "apple", date: []string{"date"}, item: []string{"song", "song name", "name", "title"},
		metrics: [][2]string{{"plays", "plays"}, {"listeners", "listeners"}, {"shazams", "shazams"}, {"purchases", "sales"}}},
	{name: "soundcloud", date: []string{"date", "day"}, item: []string{"track title", "track", "title"},
		metrics: [][2]string{{"plays", "plays"}, {"likes", "likes"}, {"reposts", "reposts"}, {"comments", "comments"}, {"downloads", "downloads"}}},
	{name: "spotify", date: []string{"date"}, item: []string{"song", "track", "track name"},
		metrics: [][2]string{{"streams", "streams"}, {"listeners", "listeners"}, {"saves", "saves"}, {"followers", "followers"}}},
}

// AudiencePlatforms lists the platforms with a built-in mapping.
func AudiencePlatforms() []string {
	out := []string{"auto", "generic"}
	for _, p := range presets {
		out = append(out, p.name)
	}
	sort.Strings(out[2:])
	return out
}

// RowError is one rejected row.
type RowError struct {
	Row    int    `json:"row"` // 1 is the header
	Column string `json:"column,omitempty"`
	Error  string `json:"error"`
}

// ImportResult reports an audience import. Either every row was imported, or
// none (OK false, with the errors per row).
type ImportResult struct {
	ID          string     `json:"id"`
	File        string     `json:"file"`
	SHA256      string     `json:"sha256"`
	Platform    string     `json:"platform"`
	Metrics     []string   `json:"metrics"`
	Rows        int64      `json:"rows"`      // data rows read
	Values      int64      `json:"values"`    // values imported (a row has one per metric)
	New         int64      `json:"new"`       // values not seen before
	Updated     int64      `json:"updated"`   // values replacing a different earlier value
	Unchanged   int64      `json:"unchanged"` // values already imported with the same value
	From        string     `json:"from,omitempty"`
	To          string     `json:"to,omitempty"`
	OK          bool       `json:"ok"`
	Duplicate   bool       `json:"duplicate"` // the same file was imported before: nothing changed
	Errors      []RowError `json:"errors,omitempty"`
	ErrorRows   int64      `json:"errorRows"` // rows with errors (Errors holds the first MaxRowErrors)
	Time        time.Time  `json:"time"`
	State       string     `json:"state"`
	Blocks      int        `json:"blocks,omitempty"`      // staged blocks
	CursorBlock int        `json:"cursorBlock,omitempty"` // where an interrupted apply resumes
	CursorValue int        `json:"cursorValue,omitempty"`
}

// MaxRowErrors caps the row errors an import reports.
const MaxRowErrors = 100

const (
	audPrefix   = "priv/aud/"
	audRows     = audPrefix + "row/"
	audStage    = audPrefix + "stage/"
	stateStage  = "staging"
	stateApply  = "applying"
	stateDone   = "imported"
	maxItemLen  = 200
	maxFileSize = 4 << 30
)

var audImports = localdb.NewTable[ImportResult](audPrefix + "imp/")

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

// openText detects the encoding and returns a UTF-8 reader.
func openText(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4096)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		return br, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
		return bufio.NewReaderSize(dec.Reader(br), 64<<10), nil
	case bytes.IndexByte(head, 0) >= 0:
		return nil, errors.New("the file has NUL bytes: it looks like UTF-16 without a byte-order mark, or not a text file. Save it as CSV UTF-8 and import again")
	}
	return br, nil
}

// MaxLineLen caps a line of an imported CSV file (in bytes, after decoding to
// UTF-8). Platform exports have lines of a few hundred bytes; a file with a
// longer line is not a statistics export, and reading it whole would cost
// memory in proportion to the line.
const MaxLineLen = 1 << 20

// LineTooLongError says that line Line of File is longer than Max bytes.
type LineTooLongError struct {
	File string
	Line int64
	Max  int
}

func (e *LineTooLongError) Error() string {
	f := e.File
	if f == "" {
		f = "the file"
	}
	return fmt.Sprintf("line %d of %s is longer than %s: is it a CSV? Export the statistics again as CSV", e.Line, f, humanize.Bytes(int64(e.Max)))
}

// lineLimitReader passes r through and fails with a *LineTooLongError as
// soon as a line grows past max bytes, before the reader above it has to
// hold the line.
type lineLimitReader struct {
	r    io.Reader
	max  int
	cur  int   // bytes since the last line break
	line int64 // line number (from 1) of the current line
	err  error
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			l.cur += n - i
			if l.cur > l.max {
				l.err = &LineTooLongError{Line: l.line + 1, Max: l.max}
				return n, l.err
			}
			break
		}
		if l.cur+j > l.max {
			l.err = &LineTooLongError{Line: l.line + 1, Max: l.max}
			return i + j, l.err
		}
		l.cur = 0
		l.line++
		i += j + 1
	}
	return n, err
}

// detectDelimiter picks comma, semicolon or tab from the header line.
func detectDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, bestN := ',', 0
	for _, d := range []rune{',', ';', '\t'} {
		n, quoted := 0, false
		for _, c := range string(head) {
			if c == '"' {
				quoted = !quoted
			} else if c == d && !quoted {
				n++
			}
		}
		if n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// audRow is one value parsed from a row.
type audRow struct {
	metric, platform, item string
	day                    time.Time
	dayLabel               string // day as YYYY-MM-DD (formatted once per date)
	value                  float64
}

func rowKey(r audRow) string {
	d := r.dayLabel
	if d == "" {
		d = r.day.Format(dayLayout)
	}
	return r.metric + "/" + d + "/" + r.platform + "\x00" + r.item
}

func parseRowKey(k string) (audRow, error) {
	var r audRow
	m, rest, ok := strings.Cut(k, "/")
	if !ok {
		return r, fmt.Errorf("bad audience key %q", k)
	}
	d, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return r, fmt.Errorf("bad audience key %q", k)
	}
	p, item, ok := strings.Cut(rest, "\x00")
	if !ok {
		return r, fmt.Errorf("bad audience key %q", k)
	}
	day, err := time.Parse(dayLayout, d)
	if err != nil {
		return r, fmt.Errorf("bad audience key %q", k)
	}
	return audRow{metric: m, day: day, platform: p, item: item}, nil
}

// parseAudience streams r and calls emit for every value of every valid row.
// Row errors are collected (the first MaxRowErrors) and counted; parsing goes
// on so the creator sees every problem at once.
func parseAudience(r io.Reader, m AudienceMapping, emit func(row int, v audRow) error) (layout, int64, []RowError, int64, error) {
	var errs []RowError
	var nerr int64
	addErr := func(row int, col, msg string) {
		nerr++
		if len(errs) < MaxRowErrors {
			errs = append(errs, RowError{Row: row, Column: col, Error: msg})
		}
	}
	text, err := openText(r)
	if err != nil {
		return layout{}, 0, nil, 0, err
	}
	// the line cap sits under the CSV reader, so a file without line breaks
	// is refused after MaxLineLen bytes instead of being gathered whole
	br := bufio.NewReaderSize(&lineLimitReader{r: text, max: MaxLineLen}, 64<<10)
	cr := csv.NewReader(br)
	cr.Comma = detectDelimiter(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	header, err := cr.Read()
	if err == io.EOF {
		return layout{}, 0, nil, 0, errors.New("the file is empty: export the statistics again")
	}
	if err != nil {
		if ll, ok := errors.AsType[*LineTooLongError](err); ok {
			return layout{}, 0, nil, 0, ll
		}
		return layout{}, 0, nil, 0, fmt.Errorf("the header row cannot be read: %v", err)
	}
	header = append([]string(nil), header...)
	for i, h := range header {
		if !utf8.ValidString(h) {
			return layout{}, 0, nil, 0, errors.New("the header is not UTF-8 text: save the file as CSV UTF-8 and import again")
		}
		header[i] = strings.TrimPrefix(h, "\ufeff")
	}
	l, err := resolveLayout(header, m)
	if err != nil {
		return l, 0, nil, 0, err
	}
	var rows int64
	var lastDate time.Time
	var lastDateStr, lastLabel string
	vals := make([]audRow, 0, len(l.metrics))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ll, ok := errors.AsType[*LineTooLongError](err); ok {
				return l, rows, errs, nerr, ll
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rows++
				addErr(pe.StartLine, "", pe.Err.Error()+" (check the quotes on this row)")
				continue
			}
			return l, rows, errs, nerr, fmt.Errorf("read row %d: %w", rows+2, err)
		}
		rows++
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			rows--
			continue // blank line
		}
		if len(rec) != len(header) {
			addErr(line, "", fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header)))
			continue
		}
		bad := false
		for _, c := range rec {
			if !utf8.ValidString(c) {
				addErr(line, "", "is not UTF-8 text: save the file as CSV UTF-8 and import again")
				bad = true
				break
			}
		}
		if bad {
			continue
		}
		var day time.Time
		if ds := rec[l.date]; ds == lastDateStr && lastDateStr != "" {
			day = lastDate // exports list many rows per day: parse each date once
		} else {
			d, err := parseAudienceDate(ds, l.dateFormat)
			if err != nil {
				addErr(line, header[l.date], err.Error())
				continue
			}
			day, lastDate, lastDateStr, lastLabel = d, d, strings.Clone(ds), d.Format(dayLayout)
		}
		item := ""
		if l.item >= 0 {
			if item, err = cleanCell("the item", rec[l.item], maxItemLen); err != nil {
				addErr(line, header[l.item], err.Error())
				continue
			}
		}
		plat := l.platformName
		if l.platformCol >= 0 {
			p, err := cleanCell("the platform", rec[l.platformCol], 40)
			if err != nil {
				addErr(line, header[l.platformCol], err.Error())
				continue
			}
			if p = strings.ToLower(p); p != "" {
				plat = p
			}
		}
		vals = vals[:0]
		for i, c := range l.metrics {
			v, ok, err := parseAudienceNumber(rec[c])
			if err != nil {
				addErr(line, header[c], fmt.Sprintf("%q is not a number", rec[c]))
				bad = true
				break
			}
			if !ok {
				continue
			}
			if v < 0 && l.metricNames[i] != "revenue" {
				addErr(line, header[c], fmt.Sprintf("%q is negative", rec[c]))
				bad = true
				break
			}
			vals = append(vals, audRow{metric: l.metricNames[i], platform: plat, item: item, day: day, dayLabel: lastLabel, value: v})
		}
		if bad {
			continue
		}
		if nerr > 0 {
			continue // the file will not be imported: only keep finding errors
		}
		for _, v := range vals {
			if err := emit(line, v); err != nil {
				return l, rows, errs, nerr, err
			}
		}
	}
	return l, rows, errs, nerr, nil
}

// ImportAudience imports a platform CSV export from path under audience.import.
// The file is streamed; every row is checked; rows are staged and applied only
// when the whole file is valid, so a file is imported entirely or not at all
// (also across a crash: an interrupted import is finished or discarded at the
// next start). Importing the same values again changes nothing: values are
// keyed by metric, day, platform and item, and a newer export replaces them.
func (s *Store) ImportAudience(ctx context.Context, path string, m AudienceMapping, report progress.Func) (ImportResult, error) {
	res := ImportResult{File: filepath.Base(path), Time: s.now()}
	if !s.Granted(AudienceImport) {
		return res, apierr.WithUI(apierr.Errorf(apierr.NeedsConsent, "import %s: audience statistics are not granted; grant them first (`atelier consent grant audience.import`)", res.File),
			fmt.Sprintf("%s was not imported: audience statistics are not granted. Grant “Audience statistics” first.", res.File))
	}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("import %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("import %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxFileSize {
		return res, fmt.Errorf("import %s: not a regular file of at most 4 GiB", path)
	}
	return s.importReader(ctx, f, fi.Size(), res, m, report)
}

// countingReader counts bytes for progress and hashes them.
type countingReader struct {
	r   io.Reader
	n   int64
	h   io.Writer
	ctx context.Context
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	return n, err
}

// importReader reads the file once: every row is checked and, while no row
// has failed, its values are staged in blocks under a staging import record.
// A file with any error, or one imported before, leaves nothing behind.
func (s *Store) importReader(ctx context.Context, r io.Reader, total int64, res ImportResult, m AudienceMapping, report progress.Func) (ImportResult, error) {
	s.impMu.Lock()
	defer s.impMu.Unlock()
	idb := make([]byte, 6)
	binary.BigEndian.PutUint32(idb, uint32(res.Time.Unix()))
	binary.BigEndian.PutUint16(idb[4:], uint16(s.seq.Add(1))^uint16(time.Now().UnixNano()>>10))
	res.ID = hex.EncodeToString(idb)
	res.State = stateStage
	if err := s.db.Update(func(tx *localdb.Tx) error {
		if _, exists, err := audImports.Get(tx, res.ID); err != nil || exists {
			return errors.Join(err, errors.New("another import started in the same instant: import again"))
		}
		return audImports.Put(tx, res.ID, res)
	}); err != nil {
		return res, fmt.Errorf("import %s: %w", res.File, err)
	}
	discard := func() {
		if derr := s.db.DropPrefix(audStage + res.ID + "/"); derr != nil {
			s.log.Warn("discard staged audience rows", "import", res.ID, "err", derr)
		}
		if derr := s.db.DropPrefix(audImports.Prefix() + res.ID); derr != nil {
			s.log.Warn("discard audience import record", "import", res.ID, "err", derr)
		}
	}
	h := sha256.New()
	cr := &countingReader{r: r, h: h, ctx: ctx}
	metrics := map[string]bool{}
	var from, to time.Time
	var last time.Time
	wb := s.db.Batch()
	var blk []stagedVal
	var nblk int
	putBlock := func() error {
		if len(blk) == 0 {
			return nil
		}
		// rows repeating a key close together (per-country or per-store rows
		// of the same day and title) are added up before they are staged
		at := make(map[string]int, len(blk))
		agg := blk[:0]
		for _, v := range blk {
			if i, ok := at[v.key]; ok {
				agg[i].value += v.value
				continue
			}
			at[v.key] = len(agg)
			agg = append(agg, v)
		}
		blk = agg
		// one value per block at most the database's value size
		max := s.maxValue()
		for i := 0; i < len(blk); {
			j, size := i, 2+binary.MaxVarintLen64
			for j < len(blk) && (j == i || size+len(blk[j].key)+9+binary.MaxVarintLen64 <= max) {
				size += len(blk[j].key) + 9 + binary.MaxVarintLen64
				j++
			}
			if err := wb.SetRaw([]byte(stageKey(res.ID, nblk)), encodeStageBlock(blk[i:j])); err != nil {
				return err
			}
			nblk++
			i = j
		}
		blk = blk[:0]
		return nil
	}
	l, rows, errs, nerr, err := parseAudience(cr, m, func(row int, v audRow) error {
		res.Values++
		metrics[v.metric] = true
		if from.IsZero() || v.day.Before(from) {
			from = v.day
		}
		if v.day.After(to) {
			to = v.day
		}
		if report != nil && res.Values%65536 == 0 && time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			report(progress.Progress{Done: cr.n, Total: total, Unit: "bytes", Note: "importing " + res.File})
		}
		blk = append(blk, stagedVal{key: rowKey(v), value: v.value})
		if len(blk) == stageBlockLen {
			return putBlock()
		}
		return nil
	})
	if err == nil {
		err = putBlock()
	}
	if ferr := wb.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	res.Rows, res.Errors, res.ErrorRows = rows, errs, nerr
	res.Platform = l.platformName
	for k := range metrics {
		res.Metrics = append(res.Metrics, k)
	}
	sort.Strings(res.Metrics)
	if err == nil && nerr == 0 && res.Values == 0 {
		err = errors.New("the file has no data rows")
	}
	if err != nil || nerr > 0 {
		discard()
		res.Values = 0
		if ll, ok := errors.AsType[*LineTooLongError](err); ok {
			ll.File = res.File
			return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, ll)
		}
		if err != nil {
			return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, err)
		}
		return res, nil
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.From, res.To = from.Format(dayLayout), to.Format(dayLayout)
	var dup *ImportResult
	s.db.View(func(tx *localdb.Tx) error {
		return audImports.Scan(tx, "", func(_ string, x ImportResult) error {
			if x.State == stateDone && x.SHA256 == res.SHA256 {
				dup = &x
				return localdb.ErrStop
			}
			return nil
		})
	})
	if dup != nil {
		discard()
		res.OK, res.Duplicate, res.Unchanged = true, true, res.Values
		res.ID = dup.ID
		return res, nil
	}
	res.Blocks = nblk
	res.State = stateApply
	if err := s.db.Update(func(tx *localdb.Tx) error { return audImports.Put(tx, res.ID, res) }); err != nil {
		discard()
		return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, err)
	}
	if err := s.db.Sync(); err != nil {
		discard()
		return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, err)
	}
	if err := s.applyImport(&res); err != nil {
		return res, fmt.Errorf("import %s: %w (it will be finished at the next start)", res.File, err)
	}
	return res, nil
}

// Staged values: the file's values in blocks of stageBlockLen, in file order,
// under priv/aud/stage/<import>/<block number>.
const (
	stageBlockLen = 4096
	applyChunkLen = 4096 // values per transaction when applying (halved while too big)
	importTagLen  = 6    // import id stored after each value
)

type stagedVal struct {
	key   string
	value float64
}

func stageKey(id string, n int) string { return fmt.Sprintf("%s%s/%08x", audStage, id, n) }

func encodeStageBlock(vs []stagedVal) []byte {
	n := 2 + binary.MaxVarintLen64
	for _, v := range vs {
		n += len(v.key) + 9 + binary.MaxVarintLen64
	}
	raw := make([]byte, 2, n)
	raw[0], raw[1] = blockVersion, codecRaw // transient: not worth compressing
	raw = binary.AppendUvarint(raw, uint64(len(vs)))
	for _, v := range vs {
		raw = binary.AppendUvarint(raw, uint64(len(v.key)))
		raw = append(raw, v.key...)
		raw = binary.BigEndian.AppendUint64(raw, math.Float64bits(v.value))
	}
	return raw
}

func decodeStageBlock(b []byte) ([]stagedVal, error) {
	if len(b) < 2 || b[0] != blockVersion || b[1] != codecRaw {
		return nil, fmt.Errorf("%w: staged values", errBlock)
	}
	raw := b[2:]
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > stageBlockLen {
		return nil, fmt.Errorf("%w: staged values", errBlock)
	}
	raw = raw[k:]
	out := make([]stagedVal, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < l+8 {
			return nil, fmt.Errorf("%w: staged values", errBlock)
		}
		raw = raw[k:]
		out = append(out, stagedVal{key: string(raw[:l]), value: math.Float64frombits(binary.BigEndian.Uint64(raw[l:]))})
		raw = raw[l+8:]
	}
	return out, nil
}

// applyImport moves the staged values of an import into place with their
// rollups, applyChunkLen values per transaction; each transaction also moves
// the import's cursor, so an interrupted apply resumes exactly where it
// stopped. Every value written is tagged with the import, so a key repeated in
// one file adds up (per-country rows, say) while a key from an earlier import
// is replaced (a newer export of the same days).
func (s *Store) applyImport(res *ImportResult) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.Granted(AudienceImport) {
		s.db.DropPrefix(audStage + res.ID + "/")
		s.db.DropPrefix(audImports.Prefix() + res.ID)
		return errors.New("audience statistics were withdrawn during the import; nothing was imported")
	}
	tag, err := hex.DecodeString(res.ID)
	if err != nil || len(tag) != importTagLen {
		return fmt.Errorf("import id %q is damaged", res.ID)
	}
	a := &applier{s: s, res: res, tag: tag, rolls: map[string]rollVal{}}
	for b := res.CursorBlock; b < res.Blocks; b++ {
		var vals []stagedVal
		err := s.db.View(func(tx *localdb.Tx) error {
			it, err := tx.Raw().Get([]byte(stageKey(res.ID, b)))
			if err != nil {
				return err
			}
			return it.Value(func(v []byte) error {
				vals, err = decodeStageBlock(v)
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("read staged block %d: %w", b, err)
		}
		start := 0
		if b == res.CursorBlock {
			start = res.CursorValue // resuming: the values before were applied
		}
		for off := start; off < len(vals); off += applyChunkLen {
			end := min(off+applyChunkLen, len(vals))
			if err := a.applySplit(vals, off, end, b); err != nil {
				return err
			}
		}
	}
	res.State = stateDone
	res.OK = true
	if err := s.db.Update(func(tx *localdb.Tx) error { return audImports.Put(tx, res.ID, *res) }); err != nil {
		return err
	}
	if err := s.db.DropPrefix(audStage + res.ID + "/"); err != nil {
		s.log.Warn("drop staged audience rows", "import", res.ID, "err", err)
	}
	return nil
}

// applier carries the rollup values an import touched across its chunks
// (the import is the only writer while it applies).
type applier struct {
	s     *Store
	res   *ImportResult
	tag   []byte
	rolls map[string]rollVal
}

// applySplit applies vals[off:end] of block, in halves while a transaction
// would be too big for Badger (long item names, many months).
func (a *applier) applySplit(vals []stagedVal, off, end, block int) error {
	err := a.apply(vals[off:end], block, end)
	if errors.Is(err, badger.ErrTxnTooBig) && end-off > 1 {
		mid := off + (end-off)/2
		if err := a.applySplit(vals, off, mid, block); err != nil {
			return err
		}
		return a.applySplit(vals, mid, end, block)
	}
	return err
}

func (a *applier) apply(vals []stagedVal, block, next int) error {
	res := *a.res
	deltas := map[string]rollVal{}
	written := map[string]rollVal{}
	// the same key repeated within the chunk (per-country or per-store rows)
	// is added up before touching the database
	agg := make([]stagedVal, 0, len(vals))
	at := make(map[string]int, len(vals))
	for _, v := range vals {
		if i, ok := at[v.key]; ok {
			agg[i].value += v.value
			continue
		}
		at[v.key] = len(agg)
		agg = append(agg, v)
	}
	err := a.s.db.Update(func(tx *localdb.Tx) error {
		clear(written)
		for _, v := range agg {
			r, err := parseRowKey(v.key)
			if err != nil {
				return err
			}
			key := []byte(audRows + v.key)
			var old rollVal
			had, mine := false, false
			it, err := tx.Raw().Get(key)
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
			case err != nil:
				return err
			default:
				if err := it.Value(func(b []byte) error {
					var err error
					old, err = decodeRoll(b)
					mine = len(b) == 16+importTagLen && bytes.Equal(b[16:], a.tag)
					return err
				}); err != nil {
					return err
				}
				had = true
			}
			nv := v.value
			var d rollVal
			switch {
			case mine: // the same key again in this file: add up
				nv = old.Sum + v.value
				d = rollVal{Sum: v.value}
			case !had:
				res.New++
				d = rollVal{Count: 1, Sum: v.value}
			case old.Sum == v.value:
				res.Unchanged++
			default:
				res.Updated++
				d = rollVal{Sum: v.value - old.Sum}
			}
			if err := tx.Raw().Set(key, append(encodeRoll(rollVal{Count: 1, Sum: nv}), a.tag...)); err != nil {
				return err
			}
			if d == (rollVal{}) {
				continue
			}
			day, month := r.day.Format(dayLayout), r.day.Format("2006-01")
			// daily: total and per platform; monthly: also per item (the values
			// themselves are the daily per-item numbers)
			keys := []string{
				rollupKey(AudienceImport, Day, r.metric, "", day),
				rollupKey(AudienceImport, Day, r.metric, "platform="+r.platform, day),
				rollupKey(AudienceImport, Month, r.metric, "", month),
				rollupKey(AudienceImport, Month, r.metric, "platform="+r.platform, month),
			}
			if r.item != "" {
				keys = append(keys, rollupKey(AudienceImport, Month, r.metric, "item="+r.item, month))
			}
			for _, k := range keys {
				x := deltas[k]
				x.Count += d.Count
				x.Sum += d.Sum
				deltas[k] = x
			}
		}
		for k, d := range deltas {
			cur, ok := a.rolls[k]
			if !ok {
				var err error
				if cur, err = getRoll(tx, k); err != nil {
					return err
				}
			}
			cur.Count += d.Count
			cur.Sum += d.Sum
			if err := tx.Raw().Set([]byte(k), encodeRoll(cur)); err != nil {
				return err
			}
			written[k] = cur
		}
		res.CursorBlock, res.CursorValue = block, next
		return audImports.Put(tx, res.ID, res)
	})
	if err != nil {
		return fmt.Errorf("apply imported values: %w", err)
	}
	// committed: keep the counters and the rollup values it wrote
	*a.res = res
	if len(a.rolls) > 1<<18 {
		clear(a.rolls)
	}
	for k, v := range written {
		a.rolls[k] = v
	}
	return nil
}

func getRoll(tx *localdb.Tx, k string) (rollVal, error) {
	it, err := tx.Raw().Get([]byte(k))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return rollVal{}, nil
	}
	if err != nil {
		return rollVal{}, err
	}
	var v rollVal
	err = it.Value(func(b []byte) error {
		v, err = decodeRoll(b)
		return err
	})
	return v, err
}

// recoverImports finishes imports interrupted while applying and discards
// those interrupted while staging.
func (s *Store) recoverImports() error {
	var pending []ImportResult
	err := s.db.View(func(tx *localdb.Tx) error {
		return audImports.Scan(tx, "", func(_ string, x ImportResult) error {
			if x.State != stateDone {
				pending = append(pending, x)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read audience imports: %w", err)
	}
	for _, x := range pending {
		if x.State == stateApply && s.Granted(AudienceImport) {
			s.log.Info("finishing an interrupted audience import", "import", x.ID, "file", x.File)
			if err := s.applyImport(&x); err != nil {
				return fmt.Errorf("finish the interrupted import of %s: %w", x.File, err)
			}
			continue
		}
		s.log.Info("discarding an unfinished audience import", "import", x.ID, "file", x.File)
		if err := s.db.DropPrefix(audStage + x.ID + "/"); err != nil {
			return err
		}
		if err := s.db.Update(func(tx *localdb.Tx) error { return audImports.Delete(tx, x.ID) }); err != nil {
			return err
		}
	}
	return nil
}

// Imports lists completed audience imports, newest first.
func (s *Store) Imports() ([]ImportResult, error) {
	var out []ImportResult
	err := s.db.View(func(tx *localdb.Tx) error {
		return audImports.Scan(tx, "", func(_ string, x ImportResult) error {
			if x.State == stateDone {
				out = append(out, x)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, err
}
