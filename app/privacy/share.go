package privacy

import (
	"fmt"
	"strings"
	"time"

	"atelier/app/apierr"

	"github.com/dgraph-io/badger/v4"
)

// ShareRow is one daily rollup that may leave the machine.
type ShareRow struct {
	Source    string  `json:"source"` // analytics or audience
	Metric    string  `json:"metric"`
	Dimension string  `json:"dimension,omitempty"` // "" for the total, else field=value
	Day       string  `json:"day"`
	Count     uint64  `json:"count"`
	Value     float64 `json:"value"`
}

// ShareSet is what sharing may send: daily rollups only, never raw events, with
// every count below the k-anonymity threshold suppressed.
type ShareSet struct {
	From        string     `json:"from"`
	To          string     `json:"to"`
	K           int        `json:"k"`
	Rows        []ShareRow `json:"rows"`
	Suppressed  int        `json:"suppressed"` // rollups withheld for being below K
	GeneratedAt time.Time  `json:"generatedAt"`
}

// ErrShareNotGranted means analytics.share is not granted: nothing may leave.
var ErrShareNotGranted = apierr.Errorf(apierr.NeedsConsent, "sharing aggregated statistics (%s) is not granted: nothing may leave this machine", AnalyticsShare)

// Shareable returns the daily rollups of [from, to] that may leave the machine,
// only while analytics.share is granted. Usage counts below K and audience
// values below K are suppressed, so no small group can be singled out.
func (s *Store) Shareable(from, to string) (ShareSet, error) {
	if !s.Granted(AnalyticsShare) {
		return ShareSet{}, ErrShareNotGranted
	}
	f, t, err := s.resolveRange(from, to)
	if err != nil {
		return ShareSet{}, err
	}
	set := ShareSet{From: f.Format(dayLayout), To: t.Format(dayLayout), K: s.cfg.KAnonymity, GeneratedAt: s.now()}
	k := float64(s.cfg.KAnonymity)
	err = s.db.ViewRaw(func(txn *badger.Txn) error {
		for _, src := range []string{SourceAnalytics, SourceAudience} {
			purpose, _ := purposeOfSource(src)
			r := newRollReader(txn, purpose)
			metrics := r.children("", '/')
			for _, m := range metrics {
				for _, dim := range r.children(m+"/", 0) {
					err := r.scan(Day, m, dim, set.From, set.To, func(day string, v rollVal) {
						small := float64(v.Count) < k
						if src == SourceAudience {
							small = v.Sum < k
						}
						if small {
							set.Suppressed++
							return
						}
						set.Rows = append(set.Rows, ShareRow{Source: src, Metric: m, Dimension: dim, Day: day, Count: v.Count, Value: v.Sum})
					})
					if err != nil {
						r.close()
						return err
					}
				}
			}
			r.close()
		}
		return nil
	})
	if err != nil {
		return set, fmt.Errorf("collect shareable statistics: %w", err)
	}
	return set, nil
}

// splitRollupKey parses priv/roll/<purpose>/<gran>/<metric>/<dim>\x00<bucket>.
func splitRollupKey(k string) (purpose, gran, metric, dim, bucket string, ok bool) {
	if !strings.HasPrefix(k, rollPrefix) {
		return
	}
	rest := k[len(rollPrefix):]
	var found bool
	if purpose, rest, found = strings.Cut(rest, "/"); !found {
		return
	}
	if gran, rest, found = strings.Cut(rest, "/"); !found {
		return
	}
	if metric, rest, found = strings.Cut(rest, "/"); !found {
		return
	}
	if dim, bucket, found = strings.Cut(rest, "\x00"); !found {
		return
	}
	return purpose, gran, metric, dim, bucket, true
}
