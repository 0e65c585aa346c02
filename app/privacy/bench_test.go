package privacy

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"atelier/localdb"
)

// benchEvents records n synthetic events spread evenly over span ending at end,
// in time order, the way a long-running engine produces them.
func benchEvents(tb testing.TB, st *Store, n int, end time.Time, span time.Duration) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"audio", "image", "video"}
	formats := []string{"mp3", "wav", "flac", "png", "jpeg"}
	remotes := []string{"s3", "gs", "file"}
	step := span / time.Duration(n)
	t0 := end.Add(-span)
	f1 := map[string]any{}
	f2 := map[string]any{}
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * step)
		var err error
		switch i % 4 {
		case 0, 1:
			clear(f1)
			f1["kind"] = kinds[rng.IntN(3)]
			f1["format"] = formats[rng.IntN(5)]
			f1["size"] = rng.IntN(50 << 20)
			f1["ms"] = rng.IntN(5000)
			err = st.RecordAt(at, "preview.rendered", f1)
		case 2:
			clear(f2)
			f2["remote"] = remotes[rng.IntN(3)]
			f2["direction"] = "push"
			f2["files"] = rng.IntN(500)
			f2["result"] = "ok"
			err = st.RecordAt(at, "sync.run", f2)
		default:
			err = st.RecordAt(at, "view.opened", map[string]any{"view": "library"})
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.Flush(); err != nil {
		tb.Fatal(err)
	}
}

func benchStore(tb testing.TB, dir string, now time.Time) (*Store, *localdb.DB) {
	db, err := localdb.Open(dir, localdb.Options{Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := Open(db, Config{AppVersion: "bench", Logger: quiet, Now: func() time.Time { return now }, FlushSize: 50000})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Decide(context.Background(), Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "bench"}); err != nil {
		tb.Fatal(err)
	}
	return st, db
}

// BenchmarkIngest1M: 1,000,000 events with their hourly, daily and monthly
// rollups, written to a real data dir. Reports events/s and bytes per million.
func BenchmarkIngest1M(b *testing.B) {
	const n = 1_000_000
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		st, db := benchStore(b, dir, now)
		b.StartTimer()
		start := time.Now()
		benchEvents(b, st, n, now, 7*24*time.Hour)
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(n)/el.Seconds(), "events/s")
		db.Close()
		b.ReportMetric(float64(localdb.DirSize(dir)), "bytes/1M-events")
	}
}

// BenchmarkDashboard90d: a 90-day dashboard query over 10,000,000 events
// (spread over 100 days). The events go through the same ingest path (set
// PRIVACY_BENCH_EVENTS to change the count).
func BenchmarkDashboard90d(b *testing.B) {
	n := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("PRIVACY_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	dir := b.TempDir()
	st, db := benchStore(b, dir, now)
	benchEvents(b, st, n, now, 100*24*time.Hour)
	q := DashboardQuery{From: now.AddDate(0, 0, -89).Format(dayLayout), To: now.Format(dayLayout), Metric: "preview.rendered"}
	d, err := st.Dashboard(q)
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, m := range d.Metrics {
		total += m.Value
	}
	if total < float64(n)*0.85 {
		b.Fatalf("dashboard counts %v events of %d", total, n)
	}
	// the size on disk once the engine has closed (open files are preallocated)
	db.Close()
	size := localdb.DirSize(dir)
	db, err = localdb.Open(dir, localdb.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if st, err = Open(db, Config{AppVersion: "bench", Logger: quiet, Now: func() time.Time { return now }}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Dashboard(q); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.Dashboard(q); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/query")
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(size)/(float64(n)/1e6), "bytes/1M-events")
}

// BenchmarkAudienceImport1M: a 1,000,000-row export of distinct values (1000
// tracks x 1000 days) imported into a real data dir: checked, staged, applied.
func BenchmarkAudienceImport1M(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PRIVACY_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	dir := b.TempDir()
	path := dir + "/export.csv"
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("date,track,streams\n")
	day0 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "%s,Track %03d,%d\n", day0.AddDate(0, 0, i/1000).Format(dayLayout), i%1000, 1+i%7)
	}
	w.Flush()
	f.Close()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now := time.Now()
		st, db := benchStore(b, dir+fmt.Sprintf("/db%d", i), now)
		if _, err := st.Decide(context.Background(), Decision{Purpose: AudienceImport, Kind: DecisionGrant}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		r, err := st.ImportAudience(context.Background(), path, AudienceMapping{}, nil)
		if err != nil || !r.OK || r.New != int64(rows) {
			b.Fatalf("%+v %v", r, err)
		}
		b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		b.StopTimer()
		db.Close()
	}
}
