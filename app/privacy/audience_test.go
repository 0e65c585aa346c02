package privacy

import (
	"bufio"
	"errors"
	"io"
	"runtime"
	"strconv"

	"atelier/progress"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/localdb"
)

func audienceStore(t *testing.T) *Store {
	t.Helper()
	st, _ := openClock(t, &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)})
	if _, err := st.Decide(context.Background(), Decision{Purpose: AudienceImport, Kind: DecisionGrant, Where: "test"}); err != nil {
		t.Fatal(err)
	}
	return st
}

func writeFile(t *testing.T, name string, body []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func audienceTotal(t *testing.T, st *Store, metric string) float64 {
	t.Helper()
	d, err := st.Dashboard(DashboardQuery{Source: SourceAudience, From: "2026-01-01", To: "2026-12-31", Metric: metric})
	if err != nil {
		t.Fatal(err)
	}
	return d.Total
}

func noKeys(t *testing.T, st *Store, prefixes ...string) {
	t.Helper()
	for _, p := range prefixes {
		if n, _ := st.RawKeyCount(p); n != 0 {
			t.Fatalf("%d keys under %s", n, p)
		}
	}
}

func TestAudienceImportAndDedup(t *testing.T) {
	st := audienceStore(t)
	ctx := context.Background()
	f := writeFile(t, "spotify.csv", []byte("Date,Song,Streams,Listeners\n2026-11-01,Night Drive,100,40\n2026-11-01,Morning,50,20\n2026-11-02,Night Drive,\"1,200\",300\n"))
	r, err := st.ImportAudience(ctx, f, AudienceMapping{}, nil)
	if err != nil || !r.OK || r.Platform != "spotify" || r.Rows != 3 || r.Values != 6 || r.New != 6 {
		t.Fatalf("%+v %v", r, err)
	}
	if got := audienceTotal(t, st, "streams"); got != 1350 {
		t.Fatalf("streams %v", got)
	}
	d, _ := st.Dashboard(DashboardQuery{Source: SourceAudience, From: "2026-11-01", To: "2026-11-30", Metric: "streams"})
	if len(d.Top) != 2 || d.Top[0] != (Item{"Night Drive", 1300}) || len(d.Breakdowns) != 1 || d.Breakdowns[0].Field != "platform" {
		t.Fatalf("dashboard %+v", d)
	}
	// the same file again: nothing changes
	r, err = st.ImportAudience(ctx, f, AudienceMapping{}, nil)
	if err != nil || !r.OK || !r.Duplicate {
		t.Fatalf("%+v %v", r, err)
	}
	// a newer export overlapping the old one replaces values, never adds them twice
	f2 := writeFile(t, "spotify2.csv", []byte("date,song,streams\n2026-11-02,Night Drive,1250\n2026-11-03,Night Drive,7\n2026-11-01,Morning,50\n"))
	r, err = st.ImportAudience(ctx, f2, AudienceMapping{Platform: "spotify"}, nil)
	if err != nil || !r.OK || r.New != 1 || r.Updated != 1 || r.Unchanged != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	if got := audienceTotal(t, st, "streams"); got != 100+50+1250+7 {
		t.Fatalf("streams after overlap %v", got)
	}
	if got := audienceTotal(t, st, "listeners"); got != 360 {
		t.Fatalf("listeners %v", got)
	}
	imps, _ := st.Imports()
	if len(imps) != 2 {
		t.Fatalf("imports %+v", imps)
	}
	noKeys(t, st, audStage)
}

func TestAudienceRowErrorsImportNothing(t *testing.T) {
	st := audienceStore(t)
	ctx := context.Background()
	body := "date,song,streams\n" +
		"2026-11-01,Fine,10\n" +
		"2026-13-01,Bad date,10\n" +
		"2026-11-02,Bad number,ten\n" +
		"2026-11-03,Negative,-4\n" +
		"2026-11-04,Too,many,fields\n" +
		"2026-11-05,\xff\xfe latin,3\n" +
		"03/04/2026,Ambiguous,1\n" +
		"2026-11-06,\"unterminated,5\n"
	r, err := st.ImportAudience(ctx, writeFile(t, "bad.csv", []byte(body)), AudienceMapping{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Values != 0 {
		t.Fatalf("%+v", r)
	}
	want := map[int]string{3: "not a date", 4: "not a number", 5: "negative", 6: "fields", 7: "UTF-8", 8: "ambiguous", 9: "quote"}
	got := map[int]string{}
	for _, e := range r.Errors {
		got[e.Row] = e.Error
	}
	for row, frag := range want {
		if !strings.Contains(got[row], frag) {
			t.Errorf("row %d: want %q, got %q (all: %+v)", row, frag, got[row], r.Errors)
		}
	}
	noKeys(t, st, audRows, audStage, rollPrefix+AudienceImport+"/", audPrefix+"imp/")
	// the date format fixes the ambiguous row
	r, err = st.ImportAudience(ctx, writeFile(t, "eu.csv", []byte("date;song;streams\n03/04/2026;Ambiguous;1,5\n")), AudienceMapping{DateFormat: "DD/MM/YYYY"}, nil)
	if err != nil || !r.OK || r.From != "2026-04-03" {
		t.Fatalf("%+v %v", r, err)
	}
	if got := audienceTotal(t, st, "streams"); got != 1.5 {
		t.Fatalf("decimal comma: %v", got)
	}
}

func TestAudienceEncodingsAndMappings(t *testing.T) {
	st := audienceStore(t)
	ctx := context.Background()
	// UTF-16 LE with BOM, tab-separated (the "Unicode text" spreadsheet export)
	text := "Date\tVideo title\tViews\n2026-11-01\tTeaser\t42\n"
	u16 := []byte{0xFF, 0xFE}
	for _, r := range text {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	r, err := st.ImportAudience(ctx, writeFile(t, "yt.csv", u16), AudienceMapping{}, nil)
	if err != nil || !r.OK || r.Platform != "youtube" || r.Values != 1 {
		t.Fatalf("utf-16: %+v %v", r, err)
	}
	// UTF-16 without BOM is refused clearly
	if _, err := st.ImportAudience(ctx, writeFile(t, "nobom.csv", u16[2:]), AudienceMapping{}, nil); err == nil || !strings.Contains(err.Error(), "UTF-16") {
		t.Fatalf("no BOM: %v", err)
	}
	// UTF-8 BOM and a generic mapping
	r, err = st.ImportAudience(ctx, writeFile(t, "g.csv", []byte("\ufeffDay,Product,Units Sold,Store\n2026-11-01,Preset pack,3,itch\n")),
		AudienceMapping{Platform: "generic", Date: "Day", Item: "Product", PlatformColumn: "Store", Metrics: map[string]string{"Units Sold": "sales"}}, nil)
	if err != nil || !r.OK || r.Platform != "generic" || r.Metrics[0] != "sales" {
		t.Fatalf("generic: %+v %v", r, err)
	}
	d, _ := st.Dashboard(DashboardQuery{Source: SourceAudience, From: "2026-11-01", To: "2026-11-30", Metric: "sales"})
	if d.Total != 3 || d.Breakdowns[0].Items[0].Name != "itch" {
		t.Fatalf("%+v", d)
	}
	// DistroKid: store column as platform, per-country rows summed
	r, err = st.ImportAudience(ctx, writeFile(t, "dk.csv", []byte("Reporting Date,Sale Month,Store,Artist,Title,Quantity,Country of Sale,Earnings (USD)\n2026-11-05,2026-10,Spotify,Me,Song,100,US,0.30\n2026-11-05,2026-10,Spotify,Me,Song,50,DE,0.15\n")), AudienceMapping{}, nil)
	if err != nil || !r.OK || r.Platform != "distrokid" {
		t.Fatalf("distrokid: %+v %v", r, err)
	}
	d, _ = st.Dashboard(DashboardQuery{Source: SourceAudience, From: "2026-11-01", To: "2026-11-30", Metric: "streams"})
	if d.Total != 150 || d.Breakdowns[0].Items[0].Name != "spotify" {
		t.Fatalf("%+v", d)
	}
	// unknown columns
	if r, err := st.ImportAudience(ctx, writeFile(t, "x.csv", []byte("a,b\n1,2\n")), AudienceMapping{}, nil); err == nil || !strings.Contains(err.Error(), "map the columns") {
		t.Fatalf("%+v %v", r, err)
	}
	// not granted
	st.Decide(ctx, Decision{Purpose: AudienceImport, Kind: DecisionWithdraw, Erase: true})
	if _, err := st.ImportAudience(ctx, writeFile(t, "y.csv", []byte("date,streams\n2026-11-01,1\n")), AudienceMapping{}, nil); err == nil || !strings.Contains(err.Error(), "grant") {
		t.Fatalf("imported without consent: %v", err)
	}
	noKeys(t, st, audPrefix, rollPrefix+AudienceImport+"/")
}

// TestAudienceMillionRows streams generated 1,000,000-row exports (per
// country, the way distributors report): memory stays flat (the file is read
// twice, never held), a single bad row at the very end leaves nothing
// imported, and a good file lands exactly once, per-country rows added up.
// (Importing a million distinct values works the same way; it is slower
// only because Badger writes a million keys.)
func TestAudienceMillionRows(t *testing.T) {
	st := audienceStore(t)
	ctx := context.Background()
	rows := 1_000_000
	if testing.Short() {
		rows = 100_000
	}
	dir := t.TempDir()
	countries := []string{"US", "DE", "FR", "GB", "JP", "BR", "MX", "SE", "NL", "ES"}
	gen := func(name string, bad bool) (string, float64) {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString("Reporting Date,Sale Month,Store,Artist,Title,Quantity,Country of Sale,Earnings (USD)\n")
		day0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		var total float64
		var line []byte
		for i := 0; i < rows; i++ {
			// 1000 days x 10 titles (each in its store) x 100 countries
			day := day0.AddDate(0, 0, i/1000).Format(dayLayout)
			q := 1 + i%7
			total += float64(q)
			line = line[:0]
			line = append(line, day...)
			line = append(line, ",2024-01,Store "...)
			line = strconv.AppendInt(line, int64(i/10%10), 10)
			line = append(line, ",Me,Song "...)
			line = strconv.AppendInt(line, int64(i/10%10), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(q), 10)
			line = append(line, ',')
			line = append(line, countries[i%10]...)
			line = append(line, ",0.01\n"...)
			w.Write(line)
		}
		if bad {
			w.WriteString("2026-01-01,2026-01,Store 1,Me,Song 1,oops,US,0.01\n")
		}
		w.Flush()
		f.Close()
		return p, total
	}
	bad, _ := gen("bad.csv", true)
	r, err := st.ImportAudience(ctx, bad, AudienceMapping{}, nil)
	if err != nil || r.OK || r.ErrorRows != 1 || r.Errors[0].Row != rows+2 || r.Rows != int64(rows+1) {
		t.Fatalf("bad file: %+v %v", r, err)
	}
	noKeys(t, st, audRows, audStage, rollPrefix+AudienceImport+"/")
	good, want := gen("good.csv", false)
	var reports int
	r, err = st.ImportAudience(ctx, good, AudienceMapping{}, func(progress.Progress) { reports++ })
	if err != nil || !r.OK || r.Rows != int64(rows) || r.Values != int64(2*rows) || r.Platform != "distrokid" {
		t.Fatalf("%+v %v", r, err)
	}
	d, err := st.Dashboard(DashboardQuery{Source: SourceAudience, From: "2024-01-01", To: "2026-12-31", Metric: "streams"})
	if err != nil || d.Total != want || len(d.Top) != 10 {
		t.Fatalf("total %v want %v (%v), top %v", d.Total, want, err, d.Top)
	}
	if len(d.Breakdowns) != 1 || len(d.Breakdowns[0].Items) != 10 {
		t.Fatalf("stores %+v", d.Breakdowns)
	}
	noKeys(t, st, audStage)
	if reports == 0 {
		t.Fatal("no progress reported")
	}
}

// TestAudienceCrashRecovery: an import interrupted while applying is finished
// at the next start; one interrupted while staging is discarded.
func TestAudienceCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	db, err := localdb.Open(dir, localdb.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := Open(db, Config{Logger: quiet})
	st.Decide(context.Background(), Decision{Purpose: AudienceImport, Kind: DecisionGrant})
	stageOne := func(id, state string, v float64) {
		row := audRow{metric: "plays", platform: "apple", item: "Song", day: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		db.Update(func(tx *localdb.Tx) error {
			audImports.Put(tx, id, ImportResult{ID: id, State: state, File: id + ".csv", Blocks: 1})
			return tx.Raw().Set([]byte(stageKey(id, 0)), encodeStageBlock([]stagedVal{{rowKey(row), v}, {rowKey(row), 1}}))
		})
	}
	stageOne("0000000000a1", stateApply, 9)
	stageOne("0000000000b1", stateStage, 1000)
	db.Close()
	db, err = localdb.Open(dir, localdb.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, err = Open(db, Config{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	d, _ := st.Dashboard(DashboardQuery{Source: SourceAudience, From: "2026-11-01", To: "2026-11-30", Metric: "plays"})
	if d.Total != 10 {
		t.Fatalf("total %v", d.Total)
	}
	imps, _ := st.Imports()
	if len(imps) != 1 || imps[0].ID != "0000000000a1" {
		t.Fatalf("imports %+v", imps)
	}
	noKeys(t, st, audStage)
}

// hugeLine streams a CSV whose second line is n bytes long, without holding it.
type hugeLine struct {
	head []byte
	n    int64
}

func (h *hugeLine) Read(p []byte) (int, error) {
	if len(h.head) > 0 {
		k := copy(p, h.head)
		h.head = h.head[k:]
		return k, nil
	}
	if h.n <= 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > h.n {
		k = h.n
	}
	for i := range p[:k] {
		p[i] = 'a'
	}
	h.n -= k
	return int(k), nil
}

// TestImportRefusesHugeLine: a 500 MB line is refused while it is read, with
// the line number and the file named, and memory stays bounded (issue 11,
// item 14: it cost 2.4 GB before).
func TestImportRefusesHugeLine(t *testing.T) {
	st := audienceStore(t)
	for _, head := range []string{"date,song,streams\n2026-11-01,", ""} {
		line := "line 2 of huge.csv is longer than"
		if head == "" {
			line = "line 1 of huge.csv is longer than"
		}
		// the parser alone: allocation bounded by the cap, not by the line
		src := &hugeLine{head: []byte(head), n: 500 << 20}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, _, _, err := parseAudience(src, AudienceMapping{}, func(int, audRow) error { return nil })
		runtime.ReadMemStats(&after)
		if _, ok := errors.AsType[*LineTooLongError](err); !ok {
			t.Fatalf("a 500 MB line gave %v", err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Fatalf("refusing the line allocated %d MB", grew>>20)
		}
		if src.n < 400<<20 {
			t.Fatalf("read %d MB of the line before refusing it", (500<<20-src.n)>>20)
		}
		// the import: the error names the line and the file, nothing is kept
		src = &hugeLine{head: []byte(head), n: 500 << 20}
		_, err = st.importReader(context.Background(), src, 0, ImportResult{File: "huge.csv", Time: time.Now()}, AudienceMapping{}, nil)
		if err == nil || !strings.Contains(err.Error(), line) || !strings.Contains(err.Error(), "is it a CSV?") {
			t.Fatalf("error %v", err)
		}
		noKeys(t, st, audStage)
	}
	// a line just under the cap is read (and fails as a row, not as a line)
	long := "date,song,streams\n2026-11-01," + strings.Repeat("b", MaxLineLen-20) + ",1\n"
	_, _, errs, nerr, err := parseAudience(strings.NewReader(long), AudienceMapping{}, func(int, audRow) error { return nil })
	if err != nil || nerr != 1 || !strings.Contains(errs[0].Error, "longer than") {
		t.Fatalf("%v %d %+v", err, nerr, errs)
	}
}
