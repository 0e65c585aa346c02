package privacy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDashboardFromRollups(t *testing.T) {
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	clock := &fakeClock{t: now}
	st, _ := openClock(t, clock)
	ctx := context.Background()
	st.Decide(ctx, Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "test"})
	// 3 audio + 2 image previews today, 4 sync runs 10 days ago, 1 preview 40 days ago
	for i := 0; i < 3; i++ {
		st.RecordAt(now, "preview.rendered", map[string]any{"kind": "audio", "size": 2 << 20})
	}
	for i := 0; i < 2; i++ {
		st.RecordAt(now.Add(-time.Hour), "preview.rendered", map[string]any{"kind": "image"})
	}
	for i := 0; i < 4; i++ {
		st.RecordAt(now.AddDate(0, 0, -10), "sync.run", map[string]any{"remote": "s3", "result": "ok"})
	}
	st.RecordAt(now.AddDate(0, 0, -40), "preview.rendered", map[string]any{"kind": "video"})
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	// the event older than the 30-day retention is counted, but not kept raw
	if evs := storedEvents(t, st); len(evs) != 9 {
		t.Fatalf("%d raw events kept, want 9", len(evs))
	}
	d, err := st.Dashboard(DashboardQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Metric != "preview.rendered" || d.Total != 5 || d.Granularity != Day || len(d.Series) != 30 {
		t.Fatalf("dashboard %+v", d)
	}
	if last := d.Series[len(d.Series)-1]; last.Value != 5 || last.Bucket != now.Format(dayLayout) {
		t.Fatalf("last point %+v", last)
	}
	if len(d.Metrics) != 2 || d.Metrics[1].Name != "sync.run" || d.Metrics[1].Value != 4 {
		t.Fatalf("metrics %+v", d.Metrics)
	}
	var kinds *Breakdown
	for i := range d.Breakdowns {
		if d.Breakdowns[i].Field == "kind" {
			kinds = &d.Breakdowns[i]
		}
	}
	if kinds == nil || len(kinds.Items) != 2 || kinds.Items[0] != (Item{"audio", 3}) || kinds.Items[1] != (Item{"image", 2}) {
		t.Fatalf("breakdown %+v", d.Breakdowns)
	}
	// 90 days covers the old preview through monthly and daily rollups
	d, err = st.Dashboard(DashboardQuery{From: now.AddDate(0, 0, -89).Format(dayLayout), To: now.Format(dayLayout), Metric: "preview.rendered"})
	if err != nil || d.Total != 6 || len(d.Series) != 90 {
		t.Fatalf("90 days: %+v %v", d, err)
	}
	// hours for a short range
	d, err = st.Dashboard(DashboardQuery{From: now.Format(dayLayout), To: now.Format(dayLayout)})
	if err != nil || d.Granularity != Hour || len(d.Series) != 24 || d.Series[12].Value != 3 || d.Series[11].Value != 2 {
		t.Fatalf("hourly: %+v %v", d.Series, err)
	}
	if _, err := st.Dashboard(DashboardQuery{From: "2026-02-01", To: "2026-01-01"}); err == nil || !strings.Contains(err.Error(), "swap") {
		t.Fatalf("reversed range: %v", err)
	}
	if _, err := st.Dashboard(DashboardQuery{From: "yesterday"}); err == nil {
		t.Fatal("bad date accepted")
	}
}

func TestCover(t *testing.T) {
	day := func(s string) time.Time { x, _ := time.Parse(dayLayout, s); return x }
	got := cover(day("2026-01-15"), day("2026-04-10"))
	want := []segment{{Day, "2026-01-15", "2026-01-31"}, {Month, "2026-02", "2026-03"}, {Day, "2026-04-01", "2026-04-10"}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v", got)
		}
	}
	if g := cover(day("2026-03-01"), day("2026-03-31")); len(g) != 1 || g[0] != (segment{Month, "2026-03", "2026-03"}) {
		t.Fatalf("%v", g)
	}
	if g := cover(day("2026-03-05"), day("2026-03-06")); len(g) != 1 || g[0].gran != Day {
		t.Fatalf("%v", g)
	}
}

func TestShareableSuppressesSmallCounts(t *testing.T) {
	now := time.Now().UTC()
	clock := &fakeClock{t: now}
	st, _ := openClock(t, clock)
	ctx := context.Background()
	st.Decide(ctx, Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant})
	for i := 0; i < 12; i++ {
		st.Record("view.opened", map[string]any{"view": "library"})
	}
	for i := 0; i < 3; i++ {
		st.Record("module.signed", nil)
	}
	st.Flush()
	if _, err := st.Shareable("", ""); err != ErrShareNotGranted {
		t.Fatalf("shared without consent: %v", err)
	}
	st.Decide(ctx, Decision{Purpose: AnalyticsShare, Kind: DecisionGrant})
	set, err := st.Shareable("", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rows) != 2 || set.Suppressed != 1 {
		t.Fatalf("share set %+v", set)
	}
	for _, r := range set.Rows {
		if r.Count < uint64(set.K) || r.Metric != "view.opened" {
			t.Fatalf("row %+v", r)
		}
	}
}

func TestExportAndEraseAll(t *testing.T) {
	now := time.Now().UTC()
	clock := &fakeClock{t: now}
	st, _ := openClock(t, clock)
	ctx := context.Background()
	for _, p := range []string{AnalyticsLocal, AudienceImport, Experiments} {
		st.Decide(ctx, Decision{Purpose: p, Kind: DecisionGrant, Where: "test"})
	}
	st.Record("preview.rendered", map[string]any{"kind": "audio", "format": "mp3"})
	st.Record("view.opened", map[string]any{"view": "privacy"})
	csvPath := filepath.Join(t.TempDir(), "spotify.csv")
	os.WriteFile(csvPath, []byte("date,song,streams\n2026-11-01,Song A,10\n2026-11-02,Song A,12\n"), 0o600)
	if r, err := st.ImportAudience(ctx, csvPath, AudienceMapping{}, nil); err != nil || !r.OK {
		t.Fatalf("%+v %v", r, err)
	}
	st.CreateExperiment(NewExperiment{Name: "Preview length", Variants: []Variant{{Name: "30s"}, {Name: "60s"}}})
	st.Expose("preview-length", "visitor-1")
	out := t.TempDir()
	res, err := st.Export(ctx, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["events"] != 2 || res.Counts["audience"] != 2 || res.Counts["experiments"] != 1 || res.Counts["consentLedger"] != 3 {
		t.Fatalf("counts %+v", res.Counts)
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, "atelier-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	for _, k := range []string{"purposes", "consentLedger", "events", "rollups", "audience", "audienceImports", "experiments", "droppedEvents"} {
		if _, ok := doc[k]; !ok {
			t.Fatalf("export lacks %s", k)
		}
	}
	for _, f := range []string{"events.csv", "rollups.csv", "audience.csv", "consent_ledger.csv", "experiments.csv", "experiment_history.csv"} {
		b, err := os.ReadFile(filepath.Join(res.Dir, f))
		if err != nil || len(strings.Split(strings.TrimSpace(string(b)), "\n")) < 2 {
			t.Fatalf("%s: %v %q", f, err, b)
		}
	}
	if _, err := st.Erase(ctx, EraseAll); err != nil {
		t.Fatal(err)
	}
	checkErased(t, st, EraseAll)
	for _, p := range []string{evPrefix, rollPrefix, audPrefix, "priv/xp/", statPrefix} {
		if n, _ := st.RawKeyCount(p); n != 0 {
			t.Fatalf("%d keys left under %s", n, p)
		}
	}
	if v, _ := st.Verify(); !v.OK || v.Records != 4 {
		t.Fatalf("ledger after erase: %+v", v)
	}
	if !st.Granted(AnalyticsLocal) {
		t.Fatal("erase changed consent")
	}
}
