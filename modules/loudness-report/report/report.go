// Package report is the loudness report's logic, run by the module inside
// the sandbox and natively by its tests and benchmarks.
package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"strconv"
	"strings"

	"atelier/modules/internal/studio"
)

// Report is one row per audio file.
type Report struct {
	Rows []studio.Measure
}

// Run measures every audio file of the project (or the selection).
func Run(ctx context.Context, env studio.Env) (*Report, error) {
	files, err := env.Files()
	if err != nil {
		return nil, err
	}
	rep := &Report{Rows: []studio.Measure{}}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if studio.IsAudio(f) {
			rep.Rows = append(rep.Rows, env.Measure(ctx, f))
		}
	}
	return rep, nil
}

// Header is the CSV's first line.
var Header = []string{"file", "format", "sample_rate", "channels", "duration_s", "integrated_lufs", "range_lu", "short_term_max_lufs", "sample_peak_dbfs", "clipped_samples", "error"}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func (r *Report) records() [][]string {
	out := [][]string{Header}
	for _, m := range r.Rows {
		if m.Error != "" {
			out = append(out, []string{m.Path, "", "", "", "", "", "", "", "", "", m.Error})
			continue
		}
		l := m.Loudness
		out = append(out, []string{m.Path, m.Info.Format, strconv.Itoa(m.Info.SampleRate), strconv.Itoa(m.Info.Channels), f2(m.Info.Duration), f1(l.Integrated), f1(l.Range), f1(l.ShortTermMax), f2(l.SamplePeak), strconv.FormatInt(l.Clipped, 10), l.NotMeasurable})
	}
	return out
}

// CSV is the report as comma-separated values.
func (r *Report) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(r.records())
	return b.Bytes()
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loudness report</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.bad{color:#b00020;font-weight:600}
</style></head><body>
<h1>Loudness report</h1>
`

// HTML is the report as a page a browser shows; clipped or unreadable files
// are marked. (Written by hand rather than with html/template, which would
// double the module's size and its start time; and with plain appends rather
// than fmt, which costs more than the measuring inside WebAssembly.)
func (r *Report) HTML() []byte {
	recs := r.records()
	b := make([]byte, 0, len(pageHead)+len(recs)*200)
	b = append(b, pageHead...)
	b = append(b, "<p>"...)
	b = strconv.AppendInt(b, int64(len(r.Rows)), 10)
	b = append(b, " audio files. EBU R128 / ITU-R BS.1770-4.</p>\n<table><thead><tr>"...)
	for _, h := range recs[0] {
		b = append(b, "<th>"...)
		b = appendEscaped(b, h)
		b = append(b, "</th>"...)
	}
	b = append(b, "</tr></thead><tbody>\n"...)
	for i, rec := range recs[1:] {
		m := r.Rows[i]
		if m.Error != "" || m.Loudness.Clipped > 0 {
			b = append(b, `<tr class="bad">`...)
		} else {
			b = append(b, "<tr>"...)
		}
		for _, c := range rec {
			b = append(b, "<td>"...)
			b = appendEscaped(b, c)
			b = append(b, "</td>"...)
		}
		b = append(b, "</tr>\n"...)
	}
	return append(b, "</tbody></table></body></html>\n"...)
}

// appendEscaped appends s escaped as html.EscapeString does.
func appendEscaped(b []byte, s string) []byte {
	if !strings.ContainsAny(s, `<>&'"`) {
		return append(b, s...)
	}
	return append(b, html.EscapeString(s)...)
}

// Summary is what the run prints.
func (r *Report) Summary() string {
	clipped, failed := 0, 0
	for _, m := range r.Rows {
		if m.Error != "" {
			failed++
		} else if m.Loudness.Clipped > 0 {
			clipped++
		}
	}
	return fmt.Sprintf("Loudness report: %d audio files measured (%d clipped, %d unreadable)\nWrote loudness.csv and loudness.html\n", len(r.Rows), clipped, failed)
}
