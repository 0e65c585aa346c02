package privacy

import (
	"fmt"
	"sort"
	"strings"

	"atelier/localdb"
)

func (s *Store) countDrop(purpose, reason string) {
	s.mu.Lock()
	s.dropped[purpose+"\x00"+reason]++
	s.mu.Unlock()
	s.nudge()
}

var droppedT = localdb.NewTable[int64](droppedTable)

func (s *Store) saveDropped(d map[string]int64) error {
	if len(d) == 0 {
		return nil
	}
	return s.db.Update(func(tx *localdb.Tx) error {
		for k, n := range d {
			cur, _, err := droppedT.Get(tx, k)
			if err != nil {
				return err
			}
			if err := droppedT.Put(tx, k, cur+n); err != nil {
				return err
			}
		}
		return nil
	})
}

// DroppedCount is how many events of a purpose were dropped, and why.
type DroppedCount struct {
	Purpose string `json:"purpose"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

// DroppedDetail lists dropped-event counters (written at each flush, plus those
// not flushed yet).
func (s *Store) DroppedDetail() ([]DroppedCount, error) {
	m := map[string]int64{}
	s.mu.Lock()
	for k, n := range s.dropped {
		m[k] += n
	}
	s.mu.Unlock()
	err := s.db.View(func(tx *localdb.Tx) error {
		return droppedT.Scan(tx, "", func(k string, n int64) error {
			m[k] += n
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read dropped-event counters: %w", err)
	}
	out := make([]DroppedCount, 0, len(m))
	for k, n := range m {
		p, r, _ := strings.Cut(k, "\x00")
		out = append(out, DroppedCount{Purpose: p, Reason: r, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Purpose != out[j].Purpose {
			return out[i].Purpose < out[j].Purpose
		}
		return out[i].Reason < out[j].Reason
	})
	return out, nil
}

// Dropped sums dropped events per purpose.
func (s *Store) Dropped() (map[string]int64, error) {
	d, err := s.DroppedDetail()
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, x := range d {
		m[x.Purpose] += x.Count
	}
	return m, nil
}
