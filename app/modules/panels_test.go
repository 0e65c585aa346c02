package modules

import (
	"strings"
	"testing"
)

func TestParseChart(t *testing.T) {
	c, err := ParseChart(`{"type":"bar","title":"Plays","labels":["a","b"],"values":[1,2.5]}` + "\n")
	if err != nil || c.Type != "bar" || len(c.Values) != 2 || c.Values[1] != 2.5 {
		t.Fatalf("%+v %v", c, err)
	}
	for in, want := range map[string]string{
		"":                                       "no chart",
		"not json":                               "not a JSON",
		`{"type":"pie","labels":[],"values":[]}`: "not bar or line",
		`{"type":"bar","labels":["a"],"values":[]}`:       "1 labels for 0 values",
		`{"type":"line","labels":["a"],"values":[1e999]}`: "not a JSON",
	} {
		if _, err := ParseChart(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseChart(%q) = %v, want %q", in, err, want)
		}
	}
	big := `{"type":"bar","labels":[` + strings.Repeat(`"x",`, MaxChartPoints) + `"x"],"values":[` + strings.Repeat(`1,`, MaxChartPoints) + `1]}`
	if _, err := ParseChart(big); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("a chart of %d points: %v", MaxChartPoints+1, err)
	}
}

func FuzzParseChart(f *testing.F) {
	f.Add(`{"type":"bar","title":"Plays","labels":["a","b"],"values":[1,2.5]}`)
	f.Add(`{"type":"line","labels":[],"values":[]}`)
	f.Add(`{"type":"bar","labels":["a"],"values":[null]}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChart(s)
		if err != nil {
			return
		}
		if len(c.Labels) != len(c.Values) || len(c.Values) > MaxChartPoints || (c.Type != "bar" && c.Type != "line") {
			t.Fatalf("accepted a bad chart: %+v", c)
		}
	})
}
