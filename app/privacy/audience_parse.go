package privacy

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	xunicode "golang.org/x/text/encoding/unicode"

	"atelier/humanize"
)

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
