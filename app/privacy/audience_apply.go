package privacy

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"atelier/localdb"
)

// applier carries the rollup values an import touched across its chunks
// (the import is the only writer while it applies).
type applier struct {
	s     *Store
	res   *ImportResult
	tag   []byte
	rolls map[string]rollVal
}

// applySplit applies vals[off:end] of block, in halves while a transaction
// would be too big for Badger (long item names, many months).
func (a *applier) applySplit(vals []stagedVal, off, end, block int) error {
	err := a.apply(vals[off:end], block, end)
	if errors.Is(err, badger.ErrTxnTooBig) && end-off > 1 {
		mid := off + (end-off)/2
		if err := a.applySplit(vals, off, mid, block); err != nil {
			return err
		}
		return a.applySplit(vals, mid, end, block)
	}
	return err
}

func (a *applier) apply(vals []stagedVal, block, next int) error {
	res := *a.res
	deltas := map[string]rollVal{}
	written := map[string]rollVal{}
	// the same key repeated within the chunk (per-country or per-store rows)
	// is added up before touching the database
	agg := make([]stagedVal, 0, len(vals))
	at := make(map[string]int, len(vals))
	for _, v := range vals {
		if i, ok := at[v.key]; ok {
			agg[i].value += v.value
			continue
		}
		at[v.key] = len(agg)
		agg = append(agg, v)
	}
	err := a.s.db.Update(func(tx *localdb.Tx) error {
		clear(written)
		for _, v := range agg {
			r, err := parseRowKey(v.key)
			if err != nil {
				return err
			}
			key := []byte(audRows + v.key)
			var old rollVal
			had, mine := false, false
			it, err := tx.Raw().Get(key)
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
			case err != nil:
				return err
			default:
				if err := it.Value(func(b []byte) error {
					var err error
					old, err = decodeRoll(b)
					mine = len(b) == 16+importTagLen && bytes.Equal(b[16:], a.tag)
					return err
				}); err != nil {
					return err
				}
				had = true
			}
			nv := v.value
			var d rollVal
			switch {
			case mine: // the same key again in this file: add up
				nv = old.Sum + v.value
				d = rollVal{Sum: v.value}
			case !had:
				res.New++
				d = rollVal{Count: 1, Sum: v.value}
			case old.Sum == v.value:
				res.Unchanged++
			default:
				res.Updated++
				d = rollVal{Sum: v.value - old.Sum}
			}
			if err := tx.Raw().Set(key, append(encodeRoll(rollVal{Count: 1, Sum: nv}), a.tag...)); err != nil {
				return err
			}
			if d == (rollVal{}) {
				continue
			}
			day, month := r.day.Format(dayLayout), r.day.Format("2006-01")
			// daily: total and per platform; monthly: also per item (the values
			// themselves are the daily per-item numbers)
			keys := []string{
				rollupKey(AudienceImport, Day, r.metric, "", day),
				rollupKey(AudienceImport, Day, r.metric, "platform="+r.platform, day),
				rollupKey(AudienceImport, Month, r.metric, "", month),
				rollupKey(AudienceImport, Month, r.metric, "platform="+r.platform, month),
			}
			if r.item != "" {
				keys = append(keys, rollupKey(AudienceImport, Month, r.metric, "item="+r.item, month))
			}
			for _, k := range keys {
				x := deltas[k]
				x.Count += d.Count
				x.Sum += d.Sum
				deltas[k] = x
			}
		}
		for k, d := range deltas {
			cur, ok := a.rolls[k]
			if !ok {
				var err error
				if cur, err = getRoll(tx, k); err != nil {
					return err
				}
			}
			cur.Count += d.Count
			cur.Sum += d.Sum
			if err := tx.Raw().Set([]byte(k), encodeRoll(cur)); err != nil {
				return err
			}
			written[k] = cur
		}
		res.CursorBlock, res.CursorValue = block, next
		return audImports.Put(tx, res.ID, res)
	})
	if err != nil {
		return fmt.Errorf("apply imported values: %w", err)
	}
	// committed: keep the counters and the rollup values it wrote
	*a.res = res
	if len(a.rolls) > 1<<18 {
		clear(a.rolls)
	}
	for k, v := range written {
		a.rolls[k] = v
	}
	return nil
}

func getRoll(tx *localdb.Tx, k string) (rollVal, error) {
	it, err := tx.Raw().Get([]byte(k))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return rollVal{}, nil
	}
	if err != nil {
		return rollVal{}, err
	}
	var v rollVal
	err = it.Value(func(b []byte) error {
		v, err = decodeRoll(b)
		return err
	})
	return v, err
}
