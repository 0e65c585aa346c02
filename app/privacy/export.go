package privacy

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"atelier/progress"
)

// ExportResult says where an export went.
type ExportResult struct {
	Dir    string           `json:"dir"`
	Files  []string         `json:"files"`
	Counts map[string]int64 `json:"counts"`
}

// ExportFormat names the JSON layout of an export.
const ExportFormat = "atelier-privacy-export/1"

type exportFile struct {
	f  *os.File
	bw *bufio.Writer
	cw *safeCSV
}

// Export writes everything the privacy store holds into a new folder under
// dir: atelier-data.json (one machine-readable file with every table) and one
// CSV per table. The folder appears complete or not at all (written under a
// temporary name, fsynced, renamed).
func (s *Store) Export(ctx context.Context, dir string, report progress.Func) (ExportResult, error) {
	if err := s.Flush(); err != nil {
		return ExportResult{}, err
	}
	if dir == "" {
		return ExportResult{}, fmt.Errorf("export: give a folder to write to")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ExportResult{}, fmt.Errorf("export: create %s: %w", dir, err)
	}
	name := "atelier-data-" + s.now().Format("20060102-150405")
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return ExportResult{}, fmt.Errorf("export: %s exists already: wait a second or move it", final)
	}
	tmp, err := os.MkdirTemp(dir, "."+name+"-")
	if err != nil {
		return ExportResult{}, fmt.Errorf("export: write in %s: %w", dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	res := ExportResult{Dir: final, Counts: map[string]int64{}}
	files := map[string]*exportFile{}
	open := func(n string, header ...string) (*exportFile, error) {
		f, err := os.OpenFile(filepath.Join(tmp, n), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		ef := &exportFile{f: f, bw: bufio.NewWriterSize(f, 256<<10)}
		if strings.HasSuffix(n, ".csv") {
			ef.cw = &safeCSV{w: csv.NewWriter(ef.bw)}
			ef.cw.Write(header)
		}
		files[n] = ef
		res.Files = append(res.Files, n)
		return ef, nil
	}
	js, err := open("atelier-data.json")
	if err != nil {
		return res, fmt.Errorf("export: %w", err)
	}
	tables := []struct {
		name   string
		header []string
	}{
		{"purposes.csv", []string{"purpose", "title", "granted", "last_decision", "since", "policy_version", "policy_sha256", "retention_days", "dropped_events"}},
		{"consent_ledger.csv", []string{"seq", "time", "purpose", "decision", "policy_version", "policy_sha256", "where", "how", "app_version", "erased", "prev", "hash"}},
		{"dropped_events.csv", []string{"purpose", "reason", "count"}},
		{"events.csv", []string{"time", "purpose", "event", "fields"}},
		{"rollups.csv", []string{"purpose", "granularity", "metric", "dimension", "bucket", "count", "sum"}},
		{"audience.csv", []string{"metric", "date", "platform", "item", "value"}},
		{"audience_imports.csv", []string{"id", "time", "file", "sha256", "platform", "metrics", "rows", "values", "from", "to"}},
		{"experiments.csv", []string{"id", "name", "metric", "status", "kept", "created", "updated", "variants"}},
		{"experiment_results.csv", []string{"experiment", "variant", "value", "exposures", "conversions", "rate", "diff", "ci_low", "ci_high", "p_value"}},
		{"experiment_history.csv", []string{"experiment", "seq", "time", "action", "detail", "status"}},
	}
	for _, t := range tables {
		if _, err := open(t.name, t.header...); err != nil {
			return res, fmt.Errorf("export: %w", err)
		}
	}
	jw := &jsonStream{w: js.bw}
	jw.raw("{\n")
	jw.field("format", ExportFormat)
	jw.field("exportedAt", s.now())
	jw.field("appVersion", s.cfg.AppVersion)
	jw.field("note", "Everything Atelier's privacy store holds on this machine: consent, usage events and counts, audience statistics, experiments. Each CSV file holds one of the tables below.")

	// purposes
	states, err := s.States()
	if err != nil {
		return res, err
	}
	jw.field("purposes", states)
	for _, p := range states {
		since := ""
		if p.Since != nil {
			since = p.Since.Format(time.RFC3339)
		}
		files["purposes.csv"].cw.Write([]string{p.Name, p.Title, strconv.FormatBool(p.Granted), p.Decision, since, p.Version, p.SHA256, strconv.Itoa(p.RetentionDays), strconv.FormatInt(p.Dropped, 10)})
	}
	res.Counts["purposes"] = int64(len(states))
	// ledger
	hist, err := s.History("")
	if err != nil {
		return res, err
	}
	v, _ := s.Verify()
	jw.field("consentLedger", hist)
	jw.field("consentLedgerCheck", v)
	for _, r := range hist {
		files["consent_ledger.csv"].cw.Write([]string{strconv.FormatUint(r.Seq, 10), r.Time.Format(time.RFC3339Nano), r.Purpose, r.Decision, r.PolicyVersion, r.PolicySHA256, r.Where, r.How, r.AppVersion, strconv.FormatBool(r.Erased), r.Prev, r.Hash})
	}
	res.Counts["consentLedger"] = int64(len(hist))
	dropped, err := s.DroppedDetail()
	if err != nil {
		return res, err
	}
	jw.field("droppedEvents", dropped)
	for _, d := range dropped {
		files["dropped_events.csv"].cw.Write([]string{d.Purpose, d.Reason, strconv.FormatInt(d.Count, 10)})
	}

	err = s.db.ViewRaw(func(txn *badger.Txn) error {
		// raw events
		jw.open("events")
		ew := files["events.csv"].cw
		var n int64
		var last time.Time
		if err := iteratePrefix(txn, evPrefix, func(k, val []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			purpose, base, err := blockKeyTime(k)
			if err != nil {
				return err
			}
			_, err = decodeBlock(purpose, base, val, func(e RawEvent) {
				n++
				jw.elem(e)
				ew.Write([]string{e.Time.Format(time.RFC3339Nano), e.Purpose, e.Event, fieldsString(e.Fields)})
			})
			if report != nil && time.Since(last) > 250*time.Millisecond {
				last = time.Now()
				report(progress.Progress{Done: n, Unit: "events", Note: "exporting events"})
			}
			return err
		}); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		jw.close()
		res.Counts["events"] = n
		// rollups
		jw.open("rollups")
		rw := files["rollups.csv"].cw
		n = 0
		if err := iteratePrefix(txn, rollPrefix, func(k, val []byte) error {
			p, g, m, d, b, ok := splitRollupKey(string(k))
			if !ok {
				return fmt.Errorf("unreadable rollup key %q", k)
			}
			rv, err := decodeRoll(val)
			if err != nil {
				return err
			}
			n++
			jw.elem(map[string]any{"purpose": p, "granularity": g, "metric": m, "dimension": d, "bucket": b, "count": rv.Count, "sum": rv.Sum})
			rw.Write([]string{p, g, m, d, b, strconv.FormatUint(rv.Count, 10), strconv.FormatFloat(rv.Sum, 'f', -1, 64)})
			return nil
		}); err != nil {
			return fmt.Errorf("rollups: %w", err)
		}
		jw.close()
		res.Counts["rollups"] = n
		// audience values
		jw.open("audience")
		aw := files["audience.csv"].cw
		n = 0
		if err := iteratePrefix(txn, audRows, func(k, val []byte) error {
			r, err := parseRowKey(string(k[len(audRows):]))
			if err != nil {
				return err
			}
			rv, err := decodeRoll(val)
			if err != nil {
				return err
			}
			n++
			jw.elem(map[string]any{"metric": r.metric, "date": r.day.Format(dayLayout), "platform": r.platform, "item": r.item, "value": rv.Sum})
			aw.Write([]string{r.metric, r.day.Format(dayLayout), r.platform, r.item, strconv.FormatFloat(rv.Sum, 'f', -1, 64)})
			return nil
		}); err != nil {
			return fmt.Errorf("audience: %w", err)
		}
		jw.close()
		res.Counts["audience"] = n
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("export: %w", err)
	}
	imports, err := s.Imports()
	if err != nil {
		return res, err
	}
	jw.field("audienceImports", imports)
	for _, x := range imports {
		files["audience_imports.csv"].cw.Write([]string{x.ID, x.Time.Format(time.RFC3339), x.File, x.SHA256, x.Platform, strings.Join(x.Metrics, ";"), strconv.FormatInt(x.Rows, 10), strconv.FormatInt(x.Values, 10), x.From, x.To})
	}
	res.Counts["audienceImports"] = int64(len(imports))
	xs, err := s.ListExperiments()
	if err != nil {
		return res, err
	}
	jw.field("experiments", xs)
	for _, x := range xs {
		vs := make([]string, len(x.Variants))
		for i, v := range x.Variants {
			vs[i] = fmt.Sprintf("%s=%s (weight %d)", v.Name, v.Value, v.Weight)
		}
		files["experiments.csv"].cw.Write([]string{x.ID, x.Name, x.Metric, x.Status, x.Kept, x.Created.Format(time.RFC3339), x.Updated.Format(time.RFC3339), strings.Join(vs, "; ")})
		for _, r := range x.Results {
			files["experiment_results.csv"].cw.Write([]string{x.ID, r.Variant, r.Value, strconv.FormatInt(r.Exposures, 10), strconv.FormatInt(r.Conversions, 10), ftoa(r.Rate), ftoa(r.Diff), ftoa(r.CILow), ftoa(r.CIHigh), ftoa(r.PValue)})
		}
		for _, c := range x.History {
			files["experiment_history.csv"].cw.Write([]string{x.ID, strconv.FormatUint(c.Seq, 10), c.Time.Format(time.RFC3339), c.Action, c.Detail, c.Status})
		}
	}
	res.Counts["experiments"] = int64(len(xs))
	jw.raw("\n}\n")
	if jw.err != nil {
		return res, fmt.Errorf("export: %w", jw.err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ef := files[n]
		if ef.cw != nil {
			ef.cw.Flush()
			if err := ef.cw.Error(); err != nil {
				return res, fmt.Errorf("export %s: %w", n, err)
			}
		}
		if err := ef.bw.Flush(); err != nil {
			return res, fmt.Errorf("export %s: %w", n, err)
		}
		if err := ef.f.Sync(); err != nil {
			return res, fmt.Errorf("export %s: %w", n, err)
		}
		if err := ef.f.Close(); err != nil {
			return res, fmt.Errorf("export %s: %w", n, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return res, fmt.Errorf("export: move into place %s: %w", final, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	ok = true
	sort.Strings(res.Files)
	return res, nil
}
