package privacy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"atelier/localdb"
)

// rollKey identifies one rollup counter before it is turned into a key.
type rollKey struct {
	pidx   uint8
	gran   uint8 // 0 hour, 1 day, 2 month
	ev     uint8
	field  uint8 // unset: the total
	value  uint8
	bucket int32
}

type rollVal struct {
	Count uint64
	Sum   float64
}

func encodeRoll(v rollVal) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, v.Count)
	binary.BigEndian.PutUint64(b[8:], math.Float64bits(v.Sum))
	return b
}

func decodeRoll(b []byte) (rollVal, error) {
	if len(b) != 16 && len(b) != 16+importTagLen {
		return rollVal{}, fmt.Errorf("rollup value of %d bytes, want 16", len(b))
	}
	return rollVal{Count: binary.BigEndian.Uint64(b), Sum: math.Float64frombits(binary.BigEndian.Uint64(b[8:]))}, nil
}

var grans = []string{Hour, Day, Month}

func bucketOf(gran uint8, t int64) int32 {
	switch gran {
	case 0:
		return int32(floorDiv(t, int64(time.Hour)))
	case 1:
		return int32(floorDiv(t, int64(24*time.Hour)))
	default:
		tt := time.Unix(0, t).UTC()
		return int32(tt.Year()*12 + int(tt.Month()) - 1)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// bucketLabel formats a bucket so labels sort in time order.
func bucketLabel(gran string, b int32) string {
	switch gran {
	case Hour:
		return time.Unix(int64(b)*3600, 0).UTC().Format("2006-01-02T15")
	case Day:
		return time.Unix(int64(b)*86400, 0).UTC().Format("2006-01-02")
	default:
		return fmt.Sprintf("%04d-%02d", b/12, b%12+1)
	}
}

// bucketEnd is when a bucket ends (for rollup retention).
func bucketEnd(gran string, label string) time.Time {
	switch gran {
	case Hour:
		t, _ := time.Parse("2006-01-02T15", label)
		return t.Add(time.Hour)
	case Day:
		t, _ := time.Parse("2006-01-02", label)
		return t.AddDate(0, 0, 1)
	default:
		t, _ := time.Parse("2006-01", label)
		return t.AddDate(0, 1, 0)
	}
}

// HourlyRetention is how long hourly rollups are kept; daily and monthly ones
// are kept until erased.
const HourlyRetention = 35 * 24 * time.Hour

func rollupKey(purpose, gran, metric, dim, bucket string) string {
	return rollPrefix + purpose + "/" + gran + "/" + metric + "/" + dim + "\x00" + bucket
}

func (k rollKey) String() string {
	d := eventDefs[k.ev]
	dim := ""
	if k.field != unset {
		f := d.Fields[k.field]
		dim = f.Name + "=" + f.Values[k.value]
	}
	g := grans[k.gran]
	return rollupKey(purposeDefs[k.pidx].Name, g, d.Name, dim, bucketLabel(g, k.bucket))
}

func rawEventKey(purpose string, t int64, seq uint32) []byte {
	k := make([]byte, 0, len(evPrefix)+len(purpose)+1+12)
	k = append(k, evPrefix...)
	k = append(k, purpose...)
	k = append(k, '/')
	k = binary.BigEndian.AppendUint64(k, uint64(t)^(1<<63)) // sortable for times before 1970 too
	k = binary.BigEndian.AppendUint32(k, seq)
	return k
}

// rollGran is the granularity of a rollup key.
func rollGran(k string) string {
	rest := k[len(rollPrefix):]
	i := strings.IndexByte(rest, '/')
	if i < 0 || i+2 > len(rest) {
		return ""
	}
	return rest[i+1 : i+2]
}

// addRollups adds deltas to the rollup counters (s.wmu held: single writer).
func (s *Store) addRollups(deltas map[string]rollVal, now time.Time) error {
	keys := make([]string, 0, len(deltas))
	for k := range deltas {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cur := make([]rollVal, len(keys))
	err := s.db.View(func(tx *localdb.Tx) error {
		for i, k := range keys {
			it, err := tx.Raw().Get([]byte(k))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := it.Value(func(b []byte) error {
				v, err := decodeRoll(b)
				cur[i] = v
				return err
			}); err != nil {
				return fmt.Errorf("rollup %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read rollups: %w", err)
	}
	wb := s.db.Batch()
	for i, k := range keys {
		d := deltas[k]
		v := rollVal{Count: cur[i].Count + d.Count, Sum: cur[i].Sum + d.Sum}
		e := badger.NewEntry([]byte(k), encodeRoll(v))
		if rollGran(k) == Hour {
			label := k[strings.LastIndexByte(k, 0)+1:]
			exp := bucketEnd(Hour, label).Add(HourlyRetention)
			if !exp.After(now) {
				continue
			}
			e.ExpiresAt = uint64(exp.Unix())
		}
		if err := wb.SetEntry(e); err != nil {
			wb.Cancel()
			return fmt.Errorf("write rollups: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write rollups: %w", err)
	}
	return nil
}
