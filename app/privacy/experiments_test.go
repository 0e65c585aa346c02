package privacy

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestExperimentLifecycle(t *testing.T) {
	st, _ := openClock(t, &fakeClock{t: time.Now()})
	ctx := context.Background()
	n := NewExperiment{Name: "Price shown", Metric: "purchase", Variants: []Variant{{Name: "control", Value: "4.99"}, {Name: "higher", Value: "6.99", Weight: 1}}}
	if _, err := st.CreateExperiment(n); err == nil || !strings.Contains(err.Error(), "grant") {
		t.Fatalf("created without consent: %v", err)
	}
	st.Decide(ctx, Decision{Purpose: Experiments, Kind: DecisionGrant})
	x, err := st.CreateExperiment(n)
	if err != nil {
		t.Fatal(err)
	}
	if x.ID != "price-shown" || x.Status != StatusRunning {
		t.Fatalf("%+v", x)
	}
	if _, err := st.CreateExperiment(n); err == nil {
		t.Fatal("duplicate experiment accepted")
	}
	if _, err := st.CreateExperiment(NewExperiment{Name: "one", Variants: []Variant{{Name: "a"}}}); err == nil {
		t.Fatal("one variant accepted")
	}
	// deterministic assignment, split by weight
	seen := map[string]int{}
	for i := 0; i < 2000; i++ {
		u := fmt.Sprintf("visitor-%d", i)
		a, err := st.Expose(x.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		b := a
		if i%5 == 0 {
			b, _ = st.Convert(x.ID, u)
		}
		if a.Variant != b.Variant {
			t.Fatalf("unit %s got %s then %s", u, a.Variant, b.Variant)
		}
		seen[a.Variant]++
	}
	if seen["control"] < 850 || seen["higher"] < 850 {
		t.Fatalf("split %v", seen)
	}
	r, err := st.ShowExperiment(x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Enough || math.Abs(r.Results[0].Rate-0.2) > 0.05 {
		t.Fatalf("%+v", r)
	}
	// stop keeps a variant for everyone, recorded in the history
	if _, err := st.StopExperiment(x.ID, "nope", ""); err == nil {
		t.Fatal("unknown variant kept")
	}
	if x, err = st.StopExperiment(x.ID, "higher", "clear winner"); err != nil || x.Status != StatusStopped {
		t.Fatalf("%+v %v", x, err)
	}
	a, _ := st.Expose(x.ID, "visitor-1")
	if a.Variant != "higher" || a.Recorded {
		t.Fatalf("after stop: %+v", a)
	}
	if _, err := st.StopExperiment(x.ID, "", ""); err == nil {
		t.Fatal("stopped twice")
	}
	r, _ = st.ShowExperiment(x.ID)
	if len(r.History) != 2 || r.History[0].Action != "created" || r.History[1].Action != "stopped" || !strings.Contains(r.History[1].Detail, "clear winner") {
		t.Fatalf("history %+v", r.History)
	}
	// rollback: the original for everyone
	y, _ := st.CreateExperiment(NewExperiment{Name: "Preview length", Variants: []Variant{{Name: "30s"}, {Name: "60s"}}})
	if y, err = st.StopExperiment(y.ID, "", "back to normal"); err != nil || y.Status != StatusRolledBack || y.Kept != "30s" {
		t.Fatalf("%+v %v", y, err)
	}
	list, _ := st.ListExperiments()
	if len(list) != 2 {
		t.Fatalf("list %d", len(list))
	}
	// withdrawn: the control, nothing counted
	z, _ := st.CreateExperiment(NewExperiment{Name: "Cover art", Variants: []Variant{{Name: "old"}, {Name: "new"}}})
	st.Decide(ctx, Decision{Purpose: Experiments, Kind: DecisionWithdraw})
	for i := 0; i < 50; i++ {
		a, err := st.Expose(z.ID, fmt.Sprint(i))
		if err != nil || a.Variant != "old" || a.Recorded {
			t.Fatalf("%+v %v", a, err)
		}
	}
	r, _ = st.ShowExperiment(z.ID)
	if r.Results[0].Exposures+r.Results[1].Exposures != 0 {
		t.Fatal("counted without consent")
	}
}

func TestTwoProportion(t *testing.T) {
	rs := []VariantResult{{Variant: "a", Exposures: 1000, Conversions: 100}, {Variant: "b", Exposures: 1000, Conversions: 150}}
	enough, verdict := analyse(rs)
	b := rs[1]
	if !enough || !b.Significant || math.Abs(b.Diff-0.05) > 1e-12 {
		t.Fatalf("%+v %s", b, verdict)
	}
	// textbook values: pooled p = 0.125, z = 0.05 / sqrt(0.125*0.875*0.002) = 3.3806
	if math.Abs(b.Z-3.3806) > 1e-3 || math.Abs(b.PValue-0.000723) > 2e-5 {
		t.Fatalf("z %v p %v", b.Z, b.PValue)
	}
	se := math.Sqrt(0.1*0.9/1000 + 0.15*0.85/1000)
	if math.Abs(b.CILow-(0.05-1.959964*se)) > 1e-9 || math.Abs(b.CIHigh-(0.05+1.959964*se)) > 1e-9 {
		t.Fatalf("ci %v %v", b.CILow, b.CIHigh)
	}
	if !strings.Contains(verdict, "b converts better") {
		t.Fatal(verdict)
	}
	rs = []VariantResult{{Exposures: 50, Conversions: 5}, {Exposures: 50, Conversions: 9}}
	if enough, verdict := analyse(rs); enough || !strings.HasPrefix(verdict, "Not enough data yet") {
		t.Fatal(verdict)
	}
	rs = []VariantResult{{Exposures: 1000, Conversions: 100}, {Exposures: 1000, Conversions: 104}}
	if enough, verdict := analyse(rs); !enough || !strings.HasPrefix(verdict, "No clear difference") {
		t.Fatal(verdict)
	}
}
