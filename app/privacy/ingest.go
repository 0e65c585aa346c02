package privacy

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"atelier/localdb"
)

// pending is one accepted event waiting to be written.
type pending struct {
	t    int64 // unix nanoseconds
	ev   uint8
	vals [maxFields]uint8
}

const (
	evPrefix     = "priv/ev/"
	rollPrefix   = "priv/roll/"
	statPrefix   = "priv/stat/"
	droppedTable = statPrefix + "dropped/"
)

// Record stores an event of Atelier's own features, stamped now.
func (s *Store) Record(name string, fields map[string]any) error {
	return s.RecordAt(s.cfg.Now(), name, fields)
}

// RecordAt stores an event that happened at t. It returns ErrNotGranted when the
// event's purpose is not granted (the event is dropped and counted) and an
// ErrSchema error when the event or a field is not allow-listed (also counted).
func (s *Store) RecordAt(t time.Time, name string, fields map[string]any) error {
	d := eventByName[name]
	if d == nil {
		s.countDrop(AnalyticsLocal, "not in schema")
		return fmt.Errorf("%w: unknown event %q (see privacy.Events for the allow-list)", ErrSchema, name)
	}
	var p pending
	if err := d.encodeFields(fields, &p.vals); err != nil {
		s.countDrop(d.Purpose, "not in schema")
		return err
	}
	p.ev = d.id
	p.t = t.UnixNano()
	s.mu.Lock()
	if !s.granted[d.pidx].Load() {
		s.dropped[d.Purpose+"\x00not granted"]++
		s.mu.Unlock()
		return ErrNotGranted
	}
	s.buf = append(s.buf, p)
	n := len(s.buf)
	s.mu.Unlock()
	if n >= s.cfg.FlushSize {
		if s.running.Load() && n < 8*s.cfg.FlushSize {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		} else if err := s.Flush(); err != nil {
			s.log.Warn("write usage events", "err", err)
		}
	}
	return nil
}

func (s *Store) countDrop(purpose, reason string) {
	s.mu.Lock()
	s.dropped[purpose+"\x00"+reason]++
	s.mu.Unlock()
}

// dropBufferedLocked discards buffered events of purpose (s.mu held).
func (s *Store) dropBufferedLocked(purpose string) {
	keep := s.buf[:0]
	var n int64
	for _, p := range s.buf {
		if eventDefs[p.ev].Purpose == purpose {
			n++
			continue
		}
		keep = append(keep, p)
	}
	s.buf = keep
	if n > 0 {
		s.dropped[purpose+"\x00withdrawn before written"] += n
	}
}

// Run flushes buffered events every FlushEvery (and when the buffer fills)
// until ctx ends, then flushes once more.
func (s *Store) Run(ctx context.Context) {
	s.running.Store(true)
	defer s.running.Store(false)
	t := time.NewTicker(s.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(); err != nil {
				s.log.Warn("write usage events", "err", err)
			}
			return
		case <-t.C:
		case <-s.kick:
		}
		if err := s.Flush(); err != nil {
			s.log.Warn("write usage events", "err", err)
		}
	}
}

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

// Granularities of rollups.
const (
	Hour  = "h"
	Day   = "d"
	Month = "m"
)

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

// Flush writes the buffered events and their rollups now.
func (s *Store) Flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	batch := s.buf
	s.buf = s.spare[:0]
	var dropped map[string]int64 // taken only when non-empty: the map stays in use otherwise
	if len(s.dropped) > 0 {
		dropped, s.dropped = s.dropped, map[string]int64{}
	}
	s.mu.Unlock()
	err := s.writeLocked(batch)
	if derr := s.saveDropped(dropped); derr != nil && err == nil {
		err = derr
	}
	s.spare = batch[:0]
	return err
}

// tuple is an event's identity for rollups: events with the same purpose,
// name, field values and hour are counted together before they are expanded
// into hourly, daily and monthly rollups per dimension.
type tuple struct {
	ev   uint8
	vals [maxFields]uint8
	hour int32
}

// writeLocked writes events and rollups (s.wmu held: consent cannot change).
func (s *Store) writeLocked(batch []pending) error {
	if len(batch) == 0 {
		return nil
	}
	now := s.now()
	keep := batch[:0]
	for _, p := range batch {
		if s.granted[eventDefs[p.ev].pidx].Load() {
			keep = append(keep, p) // else withdrawn since it was buffered
		}
	}
	batch = keep
	if len(batch) == 0 {
		return nil
	}
	slices.SortStableFunc(batch, func(a, b pending) int {
		if pa, pb := eventDefs[a.ev].pidx, eventDefs[b.ev].pidx; pa != pb {
			return int(pa) - int(pb)
		}
		return cmp.Compare(a.t, b.t)
	})
	wb := s.db.Batch()
	tuples := make(map[tuple]uint64, 256)
	for i := 0; i < len(batch); {
		p0 := batch[i]
		pidx := eventDefs[p0.ev].pidx
		def := &purposeDefs[pidx]
		hour := floorDiv(p0.t, int64(time.Hour))
		j := i
		for j < len(batch) && j-i < blockEvents && eventDefs[batch[j].ev].pidx == pidx && floorDiv(batch[j].t, int64(time.Hour)) == hour {
			p := &batch[j]
			tuples[tuple{ev: p.ev, vals: p.vals, hour: int32(hour)}]++
			j++
		}
		block := batch[i:j]
		i = j
		last := time.Unix(0, block[len(block)-1].t)
		if def.Retention > 0 && !last.Add(def.Retention).After(now) {
			continue // already past retention: counted in rollups only
		}
		if err := s.putBlocks(wb, def, block, last); err != nil {
			wb.Cancel()
			return fmt.Errorf("write usage events: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write usage events: %w", err)
	}
	agg := make(map[rollKey]uint64, 4*len(tuples))
	for tp, n := range tuples {
		d := eventDefs[tp.ev]
		t := int64(tp.hour) * int64(time.Hour)
		for g := uint8(0); g < 3; g++ {
			b := bucketOf(g, t)
			agg[rollKey{pidx: d.pidx, gran: g, ev: tp.ev, field: unset, bucket: b}] += n
			for j := range d.Fields {
				if v := tp.vals[j]; v != unset {
					agg[rollKey{pidx: d.pidx, gran: g, ev: tp.ev, field: uint8(j), value: v, bucket: b}] += n
				}
			}
		}
	}
	deltas := make(map[string]rollVal, len(agg))
	for k, n := range agg {
		deltas[k.String()] = rollVal{Count: n, Sum: float64(n)}
	}
	return s.addRollups(deltas, now)
}

// putBlocks writes events as one block, or as several when the encoded block
// is larger than the database takes in one value (in-memory databases).
func (s *Store) putBlocks(wb *localdb.Batch, def *PurposeDef, block []pending, last time.Time) error {
	val := encodeBlock(block[0].t, block)
	if len(val) > s.maxValue() && len(block) > 1 {
		h := len(block) / 2
		if err := s.putBlocks(wb, def, block[:h], last); err != nil {
			return err
		}
		return s.putBlocks(wb, def, block[h:], last)
	}
	e := badger.NewEntry(rawEventKey(def.Name, block[0].t, s.seq.Add(1)), val)
	if def.Retention > 0 {
		e.ExpiresAt = uint64(last.Add(def.Retention).Unix()) + 1
	}
	return wb.SetEntry(e)
}

// maxValue is the largest value worth writing in one key.
func (s *Store) maxValue() int {
	if s.db.Badger().Opts().InMemory {
		return 1000 // in memory, a value must fit the value threshold (localdb: 1 KiB)
	}
	return 1 << 20
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
