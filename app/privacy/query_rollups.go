package privacy

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// segment is a run of buckets of one granularity, labels inclusive.
type segment struct{ gran, from, to string }

// cover splits the days [f, t] into full months (monthly rollups) and the days
// before and after them (daily rollups): a 90-day query reads about 60 keys per
// series instead of 90, and a year 12 + a few.
func cover(f, t time.Time) []segment {
	first := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !first.Equal(f) {
		first = first.AddDate(0, 1, 0)
	}
	end := t.AddDate(0, 0, 1) // exclusive
	last := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !last.After(first) {
		return []segment{{Day, f.Format(dayLayout), t.Format(dayLayout)}}
	}
	var out []segment
	if f.Before(first) {
		out = append(out, segment{Day, f.Format(dayLayout), first.AddDate(0, 0, -1).Format(dayLayout)})
	}
	out = append(out, segment{Month, first.Format("2006-01"), last.AddDate(0, -1, 0).Format("2006-01")})
	if last.Before(end) {
		out = append(out, segment{Day, last.Format(dayLayout), t.Format(dayLayout)})
	}
	return out
}

// rollReader reads rollups of one purpose within one transaction.
type rollReader struct {
	it     *badger.Iterator
	prefix string // priv/roll/<purpose>/
}

func newRollReader(txn *badger.Txn, purpose string) *rollReader {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	p := rollPrefix + purpose + "/"
	o.Prefix = []byte(p)
	return &rollReader{it: txn.NewIterator(o), prefix: p}
}

func (r *rollReader) close() { r.it.Close() }

// scan calls fn for each bucket of metric/dim in gran between labels from and to.
func (r *rollReader) scan(gran, metric, dim, from, to string, fn func(label string, v rollVal)) error {
	base := r.prefix + gran + "/" + metric + "/" + dim + "\x00"
	start := []byte(base + from)
	pre := []byte(base)
	for r.it.Seek(start); r.it.ValidForPrefix(pre); r.it.Next() {
		item := r.it.Item()
		label := string(item.Key()[len(base):])
		if label > to {
			break
		}
		var v rollVal
		err := item.Value(func(b []byte) error {
			var err error
			v, err = decodeRoll(b)
			return err
		})
		if err != nil {
			return fmt.Errorf("rollup %s: %w", item.Key(), err)
		}
		fn(label, v)
	}
	return nil
}

// sum adds metric/dim over the segments.
func (r *rollReader) sum(segs []segment, metric, dim string) (float64, error) {
	var total float64
	for _, sg := range segs {
		if err := r.scan(sg.gran, metric, dim, sg.from, sg.to, func(_ string, v rollVal) { total += v.Sum }); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// children lists the distinct next path elements under sub (using monthly
// rollups, which exist for every metric and dimension), skipping over each
// element's keys with one seek.
func (r *rollReader) children(sub string, sep byte) []string {
	base := r.prefix + Month + "/" + sub
	pre := []byte(base)
	var out []string
	r.it.Seek(pre)
	for r.it.ValidForPrefix(pre) {
		k := r.it.Item().Key()[len(base):]
		i := strings.IndexByte(string(k), sep)
		if i < 0 {
			r.it.Next()
			continue
		}
		name := string(k[:i])
		out = append(out, name)
		r.it.Seek([]byte(base + name + string(sep+1)))
	}
	return out
}

// audienceEdgeItems sums audience values per item over day segments, from
// the stored values (keyed metric/day/platform\x00item).
func audienceEdgeItems(txn *badger.Txn, metric string, segs []segment) (map[string]float64, error) {
	out := map[string]float64{}
	if len(segs) == 0 {
		return out, nil
	}
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	base := audRows + metric + "/"
	o.Prefix = []byte(base)
	it := txn.NewIterator(o)
	defer it.Close()
	for _, sg := range segs {
		end := []byte(base + sg.to + "/\xff")
		for it.Seek([]byte(base + sg.from + "/")); it.Valid(); it.Next() {
			k := it.Item().Key()
			if bytes.Compare(k, end) > 0 {
				break
			}
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				continue
			}
			err := it.Item().Value(func(b []byte) error {
				v, err := decodeRoll(b)
				out[string(k[i+1:])] += v.Sum
				return err
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func sortItems(items []Item) {
	sort.Slice(items, func(i, j int) bool {
		if items[i].Value != items[j].Value {
			return items[i].Value > items[j].Value
		}
		return items[i].Name < items[j].Name
	})
}

func topN(items []Item, n int) []Item {
	if len(items) > n {
		items = items[:n]
	}
	return append([]Item(nil), items...)
}

// fillSeries lists every bucket of [f, t] (zeros where no rollup exists).
func fillSeries(gran string, f, t time.Time, vals map[string]float64) []Point {
	var out []Point
	end := t.AddDate(0, 0, 1)
	switch gran {
	case Hour:
		for x := f; x.Before(end); x = x.Add(time.Hour) {
			l := x.Format("2006-01-02T15")
			out = append(out, Point{Bucket: l, Value: vals[l]})
		}
	case Day:
		for x := f; x.Before(end); x = x.AddDate(0, 0, 1) {
			l := x.Format(dayLayout)
			out = append(out, Point{Bucket: l, Value: vals[l]})
		}
	default:
		for x := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC); x.Before(end); x = x.AddDate(0, 1, 0) {
			l := x.Format("2006-01")
			out = append(out, Point{Bucket: l, Value: vals[l]})
		}
	}
	return out
}
