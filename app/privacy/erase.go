package privacy

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// EraseAll names every purpose at once in Erase.
const EraseAll = "all"

// EraseResult says what an erase removed.
type EraseResult struct {
	Purposes []string `json:"purposes"`
	Prefixes []string `json:"prefixes"`
	Keys     int64    `json:"keys"` // keys that were under the prefixes before
}

// allDataPrefixes is everything "erase all" removes: all collected data and the
// dropped-event counters. The consent ledger stays: it holds no usage data,
// only your decisions, and is the proof of them.
func allDataPrefixes() []string {
	set := map[string]bool{statPrefix: true, evPrefix: true, rollPrefix: true}
	for _, p := range purposeDefs {
		for _, x := range p.Prefixes {
			set[x] = true
		}
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

// ErasePrefixes are the key prefixes Erase(purpose) leaves empty.
func ErasePrefixes(purpose string) ([]string, error) {
	if purpose == EraseAll || purpose == "*" {
		return allDataPrefixes(), nil
	}
	p, err := Lookup(purpose)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), p.Prefixes...), nil
}

// Erase deletes everything collected under purpose (or EraseAll), records the
// erasure in the ledger and runs the erase hooks of other areas. Consent is
// not changed: withdraw to stop collecting.
func (s *Store) Erase(ctx context.Context, purpose string) (EraseResult, error) {
	var names []string
	all := purpose == EraseAll || purpose == "*"
	if all {
		for _, p := range purposeDefs {
			names = append(names, p.Name)
		}
	} else {
		if _, err := Lookup(purpose); err != nil {
			return EraseResult{}, err
		}
		names = []string{purpose}
	}
	s.decide.Lock()
	defer s.decide.Unlock()
	return s.erase(ctx, names, all)
}

// erase runs with s.decide held.
func (s *Store) erase(ctx context.Context, purposes []string, all bool) (EraseResult, error) {
	var prefixes []string
	if all {
		prefixes = allDataPrefixes()
	} else {
		for _, n := range purposes {
			p, _ := Lookup(n)
			prefixes = append(prefixes, p.Prefixes...)
		}
	}
	res := EraseResult{Purposes: purposes, Prefixes: prefixes}
	s.impMu.Lock()
	s.xpMu.Lock()
	s.wmu.Lock()
	s.mu.Lock()
	for _, n := range purposes {
		s.dropBufferedLocked(n)
	}
	if all {
		s.dropped = map[string]int64{}
	}
	s.mu.Unlock()
	res.Keys = s.countKeys(prefixes)
	bp := make([][]byte, len(prefixes))
	for i, p := range prefixes {
		bp[i] = []byte(p)
	}
	err := s.db.DropPrefixes(bp...)
	s.wmu.Unlock()
	s.xpMu.Unlock()
	s.impMu.Unlock()
	if err != nil {
		return res, fmt.Errorf("erase %s (%s): %w; run the erase again", strings.Join(purposes, ", "), strings.Join(prefixes, " "), err)
	}
	s.hooksMu.Lock()
	var hooks []func(context.Context) error
	for _, n := range purposes {
		hooks = append(hooks, s.hooks[n]...)
	}
	s.hooksMu.Unlock()
	for _, h := range hooks {
		if err := h(ctx); err != nil {
			return res, fmt.Errorf("erase %s: another part of Atelier could not erase its data (run the erase again): %w", strings.Join(purposes, ", "), err)
		}
	}
	label := strings.Join(purposes, ",")
	if all {
		label = "*"
	}
	if _, err := s.appendLedger(LedgerRecord{Purpose: label, Decision: DecisionErase, Where: "erase", How: "explicit action", PolicyVersion: PolicyVersion}); err != nil {
		return res, err
	}
	s.log.Info("privacy data erased", "purposes", label, "keys", res.Keys)
	return res, nil
}

// countKeys counts keys (latest versions) under prefixes.
func (s *Store) countKeys(prefixes []string) int64 {
	var n int64
	_ = s.db.ViewRaw(func(txn *badger.Txn) error {
		for _, p := range prefixes {
			o := badger.DefaultIteratorOptions
			o.PrefetchValues = false
			o.Prefix = []byte(p)
			it := txn.NewIterator(o)
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			it.Close()
		}
		return nil
	})
	return n
}

// RawKeyCount counts every key version Badger holds under prefix, including
// deleted and expired ones: the test of an erase.
func (s *Store) RawKeyCount(prefix string) (int, error) {
	n := 0
	err := s.db.ViewRaw(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.AllVersions = true
		o.Prefix = []byte(prefix)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}
