package privacy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"atelier/app/apierr"
	"atelier/localdb"
)

// Experiment statuses.
const (
	StatusRunning    = "running"
	StatusStopped    = "stopped"     // a variant was kept: everyone gets it
	StatusRolledBack = "rolled-back" // back to the original (control): everyone gets it
)

// Variant is one arm of an experiment. The first variant is the control: the
// original, which everyone gets when the experiment is stopped or rolled back.
type Variant struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"` // what the variant shows, e.g. "30s" or "4.99"
	Weight int    `json:"weight"`          // share of assignments (default 1)
}

// Experiment is an A/B test on one metric.
type Experiment struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Metric      string    `json:"metric"` // the conversion counted, e.g. "download" or "purchase"
	Variants    []Variant `json:"variants"`
	Status      string    `json:"status"`
	Kept        string    `json:"kept,omitempty"` // variant everyone gets once stopped
	Salt        string    `json:"salt"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// ExperimentChange is one entry of an experiment's history.
type ExperimentChange struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // created, stopped, rolled-back
	Detail string    `json:"detail"`
	Status string    `json:"status"` // status after the change
}

// VariantResult is a variant's counts and, for non-control variants, the
// comparison with the control.
type VariantResult struct {
	Variant     string  `json:"variant"`
	Value       string  `json:"value,omitempty"`
	Exposures   int64   `json:"exposures"`
	Conversions int64   `json:"conversions"`
	Rate        float64 `json:"rate"`
	// Against the control: difference of rates with its 95% confidence
	// interval (unpooled standard error) and the two-proportion z-test.
	Diff        float64 `json:"diff"`
	CILow       float64 `json:"ciLow"`
	CIHigh      float64 `json:"ciHigh"`
	Z           float64 `json:"z"`
	PValue      float64 `json:"pValue"`
	Significant bool    `json:"significant"`
	Enough      bool    `json:"enough"`
}

// ExperimentResult is an experiment with its results and history.
type ExperimentResult struct {
	Experiment
	Results []VariantResult    `json:"results"`
	Verdict string             `json:"verdict"`
	Enough  bool               `json:"enough"`
	History []ExperimentChange `json:"history"`
}

// Minimums before a comparison is reported: below them the result says
// "not enough data yet".
const (
	MinExposures   = 100
	MinConversions = 5
)

var (
	xpDefs  = localdb.NewTable[Experiment]("priv/xp/def/")
	xpHist  = localdb.NewTable[ExperimentChange]("priv/xp/hist/")
	xpCount = localdb.NewTable[int64]("priv/xp/count/")
)

// NewExperiment is what CreateExperiment needs.
type NewExperiment struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Metric      string    `json:"metric"`
	Variants    []Variant `json:"variants"`
}

func experimentID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func checkText(what, s string, max int) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s is empty: give it a short name", what)
	}
	if len(s) > max {
		return fmt.Errorf("%s is longer than %d characters: shorten it", what, max)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%s %q has control characters: remove them", what, s)
		}
	}
	return nil
}

// CreateExperiment defines and starts an experiment. It needs the experiments
// purpose to be granted.
func (s *Store) CreateExperiment(n NewExperiment) (Experiment, error) {
	if !s.Granted(Experiments) {
		return Experiment{}, apierr.WithUI(apierr.Errorf(apierr.NeedsConsent, "experiment %q: the experiments purpose is not granted; grant it first (`atelier consent grant experiments`)", n.Name),
			fmt.Sprintf("Experiment %q was not created: experiments are not granted. Grant “Experiments” first.", n.Name))
	}
	if err := checkText("experiment name", n.Name, 80); err != nil {
		return Experiment{}, err
	}
	if n.Metric == "" {
		n.Metric = "conversion"
	}
	if err := checkText("experiment metric", n.Metric, 40); err != nil {
		return Experiment{}, err
	}
	if len(n.Description) > 500 {
		return Experiment{}, fmt.Errorf("experiment %q: the description is longer than 500 characters: shorten it", n.Name)
	}
	if len(n.Variants) < 2 || len(n.Variants) > 8 {
		return Experiment{}, fmt.Errorf("experiment %q has %d variants: give 2 to 8 (the first is the original)", n.Name, len(n.Variants))
	}
	seen := map[string]bool{}
	for i := range n.Variants {
		v := &n.Variants[i]
		if err := checkText("variant name", v.Name, 40); err != nil {
			return Experiment{}, fmt.Errorf("experiment %q: %w", n.Name, err)
		}
		if seen[v.Name] {
			return Experiment{}, fmt.Errorf("experiment %q: variant %q appears twice: name each variant once", n.Name, v.Name)
		}
		seen[v.Name] = true
		if v.Weight == 0 {
			v.Weight = 1
		}
		if v.Weight < 0 || v.Weight > 1000 {
			return Experiment{}, fmt.Errorf("experiment %q: variant %q weight %d: use 1 to 1000", n.Name, v.Name, v.Weight)
		}
		if len(v.Value) > 200 {
			return Experiment{}, fmt.Errorf("experiment %q: variant %q value is longer than 200 characters", n.Name, v.Name)
		}
	}
	id := experimentID(n.Name)
	if id == "" {
		return Experiment{}, fmt.Errorf("experiment %q: the name needs some letters or digits", n.Name)
	}
	salt := make([]byte, 8)
	rand.Read(salt)
	now := s.now()
	x := Experiment{ID: id, Name: n.Name, Description: n.Description, Metric: n.Metric, Variants: n.Variants,
		Status: StatusRunning, Salt: hex.EncodeToString(salt), Created: now, Updated: now}
	s.xpMu.Lock()
	defer s.xpMu.Unlock()
	err := s.db.Update(func(tx *localdb.Tx) error {
		if _, ok, err := xpDefs.Get(tx, id); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("an experiment with id %q exists: pick another name", id)
		}
		if err := xpDefs.Put(tx, id, x); err != nil {
			return err
		}
		names := make([]string, len(x.Variants))
		for i, v := range x.Variants {
			names[i] = fmt.Sprintf("%s (weight %d)", v.Name, v.Weight)
		}
		return s.addChange(tx, id, "created", fmt.Sprintf("metric %s; variants %s; control %s", x.Metric, strings.Join(names, ", "), x.Variants[0].Name), x.Status)
	})
	if err != nil {
		return Experiment{}, fmt.Errorf("create experiment %q: %w", n.Name, err)
	}
	return x, nil
}

func (s *Store) addChange(tx *localdb.Tx, id, action, detail, status string) error {
	var last uint64
	err := xpHist.Keys(tx, id+"/", func(k string) error {
		fmt.Sscanf(k[len(id)+1:], "%x", &last)
		return nil
	})
	if err != nil {
		return err
	}
	c := ExperimentChange{Seq: last + 1, Time: s.now(), Action: action, Detail: detail, Status: status}
	return xpHist.Put(tx, fmt.Sprintf("%s/%016x", id, c.Seq), c)
}

func (s *Store) getExperiment(tx *localdb.Tx, id string) (Experiment, error) {
	x, ok, err := xpDefs.Get(tx, id)
	if err != nil {
		return x, err
	}
	if !ok {
		return x, apierr.Errorf(apierr.NotFound, "no experiment %q: see `atelier experiment list`", id)
	}
	return x, nil
}

// assign picks the variant of unit deterministically: SHA-256 of the
// experiment's salt, id and the unit, over the variants' weights.
func assign(x Experiment, unit string) Variant {
	h := sha256.Sum256([]byte(x.Salt + "\x00" + x.ID + "\x00" + unit))
	total := 0
	for _, v := range x.Variants {
		total += v.Weight
	}
	r := int(binary.BigEndian.Uint64(h[:8]) % uint64(total))
	for _, v := range x.Variants {
		if r < v.Weight {
			return v
		}
		r -= v.Weight
	}
	return x.Variants[0]
}

// Assignment is the variant a unit sees.
type Assignment struct {
	Experiment string `json:"experiment"`
	Variant    string `json:"variant"`
	Value      string `json:"value,omitempty"`
	Recorded   bool   `json:"recorded"` // counted (running and granted)
}

// served is what unit gets now: its assigned variant while running, the kept
// variant once stopped, the control when experiments are not granted.
func served(x Experiment, unit string, granted bool) (Variant, bool) {
	if x.Status != StatusRunning {
		for _, v := range x.Variants {
			if v.Name == x.Kept {
				return v, false
			}
		}
		return x.Variants[0], false
	}
	if !granted {
		return x.Variants[0], false
	}
	return assign(x, unit), true
}

func (s *Store) count(id, what, unit string) (Assignment, error) {
	if unit == "" || len(unit) > 200 {
		return Assignment{}, fmt.Errorf("experiment %q: give a visitor or session identifier of 1 to 200 characters (it is hashed, never stored)", id)
	}
	s.xpMu.Lock()
	defer s.xpMu.Unlock()
	var a Assignment
	err := s.db.Update(func(tx *localdb.Tx) error {
		x, err := s.getExperiment(tx, id)
		if err != nil {
			return err
		}
		v, rec := served(x, unit, s.Granted(Experiments))
		a = Assignment{Experiment: id, Variant: v.Name, Value: v.Value, Recorded: rec}
		if !rec {
			return nil
		}
		k := id + "/" + v.Name + "/" + what
		n, _, err := xpCount.Get(tx, k)
		if err != nil {
			return err
		}
		return xpCount.Put(tx, k, n+1)
	})
	if err != nil {
		return a, fmt.Errorf("experiment %q: %w", id, err)
	}
	if !a.Recorded && !s.Granted(Experiments) {
		s.countDrop(Experiments, "not granted")
	}
	return a, nil
}

// Expose returns the variant unit sees and counts an exposure.
func (s *Store) Expose(id, unit string) (Assignment, error) { return s.count(id, "exposures", unit) }

// Convert counts a conversion for unit's variant.
func (s *Store) Convert(id, unit string) (Assignment, error) { return s.count(id, "conversions", unit) }

// StopExperiment ends an experiment: keep names the variant everyone gets from
// now on; "" or the control rolls back to the original. It is one action, and
// it is written to the experiment's history.
func (s *Store) StopExperiment(id, keep, reason string) (Experiment, error) {
	if len(reason) > 200 {
		return Experiment{}, fmt.Errorf("experiment %q: the reason is longer than 200 characters", id)
	}
	s.xpMu.Lock()
	defer s.xpMu.Unlock()
	var x Experiment
	err := s.db.Update(func(tx *localdb.Tx) error {
		var err error
		if x, err = s.getExperiment(tx, id); err != nil {
			return err
		}
		if x.Status != StatusRunning {
			return fmt.Errorf("it is already %s (everyone gets %s)", x.Status, x.Kept)
		}
		if keep == "" {
			keep = x.Variants[0].Name
		}
		found := false
		for _, v := range x.Variants {
			found = found || v.Name == keep
		}
		if !found {
			return fmt.Errorf("it has no variant %q", keep)
		}
		x.Kept = keep
		x.Status = StatusStopped
		action := "stopped"
		detail := "kept variant " + keep + " for everyone"
		if keep == x.Variants[0].Name {
			x.Status = StatusRolledBack
			action = "rolled-back"
			detail = "everyone gets the original (" + keep + ") again"
		}
		if reason != "" {
			detail += ": " + reason
		}
		x.Updated = s.now()
		if err := xpDefs.Put(tx, id, x); err != nil {
			return err
		}
		return s.addChange(tx, id, action, detail, x.Status)
	})
	if err != nil {
		return x, fmt.Errorf("stop experiment %q: %w", id, err)
	}
	return x, nil
}
