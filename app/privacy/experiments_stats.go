package privacy

import (
	"fmt"
	"math"

	"atelier/localdb"
)

// ListExperiments returns every experiment, newest first, with results.
func (s *Store) ListExperiments() ([]ExperimentResult, error) {
	var ids []string
	err := s.db.View(func(tx *localdb.Tx) error {
		return xpDefs.Keys(tx, "", func(k string) error { ids = append(ids, k); return nil })
	})
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	out := make([]ExperimentResult, 0, len(ids))
	for _, id := range ids {
		r, err := s.ShowExperiment(id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// ShowExperiment returns one experiment with results and full history.
func (s *Store) ShowExperiment(id string) (ExperimentResult, error) {
	var r ExperimentResult
	err := s.db.View(func(tx *localdb.Tx) error {
		x, err := s.getExperiment(tx, id)
		if err != nil {
			return err
		}
		r.Experiment = x
		for _, v := range x.Variants {
			e, _, err := xpCount.Get(tx, id+"/"+v.Name+"/exposures")
			if err != nil {
				return err
			}
			c, _, err := xpCount.Get(tx, id+"/"+v.Name+"/conversions")
			if err != nil {
				return err
			}
			r.Results = append(r.Results, VariantResult{Variant: v.Name, Value: v.Value, Exposures: e, Conversions: c})
		}
		return xpHist.Scan(tx, id+"/", func(_ string, c ExperimentChange) error {
			r.History = append(r.History, c)
			return nil
		})
	})
	if err != nil {
		return r, fmt.Errorf("experiment %q: %w", id, err)
	}
	r.Enough, r.Verdict = analyse(r.Results)
	return r, nil
}

func enough(v VariantResult) bool {
	return v.Exposures >= MinExposures && v.Conversions >= MinConversions && v.Exposures-v.Conversions >= MinConversions
}

// analyse fills rates and the comparison of each variant with the control
// (results[0]) and says what can be concluded.
func analyse(rs []VariantResult) (bool, string) {
	for i := range rs {
		if rs[i].Exposures > 0 {
			rs[i].Rate = float64(rs[i].Conversions) / float64(rs[i].Exposures)
		}
		rs[i].Enough = enough(rs[i])
	}
	if len(rs) == 0 {
		return false, "no variants"
	}
	all := true
	for _, r := range rs {
		all = all && r.Enough
	}
	if !all {
		return false, fmt.Sprintf("Not enough data yet: each variant needs at least %d exposures and %d conversions (and %d non-conversions) before results mean anything.", MinExposures, MinConversions, MinConversions)
	}
	c := rs[0]
	var best *VariantResult
	for i := 1; i < len(rs); i++ {
		v := &rs[i]
		twoProportion(c, v)
		if v.Significant && (best == nil || v.Diff > best.Diff) {
			best = v
		}
	}
	if best == nil {
		return true, "No clear difference yet at 95% confidence: keep the experiment running or stop it and keep the original."
	}
	dir := "better"
	if best.Diff < 0 {
		dir = "worse"
	}
	return true, fmt.Sprintf("%s converts %s than %s: %+.2f points (95%% CI %+.2f to %+.2f, p = %.3g).",
		best.Variant, dir, c.Variant, 100*best.Diff, 100*best.CILow, 100*best.CIHigh, best.PValue)
}

// twoProportion compares v with the control c: the difference of rates with a
// 95% confidence interval (unpooled standard error), and the z-test with the
// pooled proportion.
func twoProportion(c VariantResult, v *VariantResult) {
	n1, n2 := float64(c.Exposures), float64(v.Exposures)
	p1, p2 := c.Rate, v.Rate
	v.Diff = p2 - p1
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	v.CILow, v.CIHigh = v.Diff-1.959964*se, v.Diff+1.959964*se
	p := (float64(c.Conversions) + float64(v.Conversions)) / (n1 + n2)
	sp := math.Sqrt(p * (1 - p) * (1/n1 + 1/n2))
	if sp > 0 {
		v.Z = v.Diff / sp
		v.PValue = math.Erfc(math.Abs(v.Z) / math.Sqrt2)
	} else {
		v.PValue = 1
	}
	v.Significant = v.PValue < 0.05
}
