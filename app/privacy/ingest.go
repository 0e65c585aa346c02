package privacy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
		s.nudge()
		return ErrNotGranted
	}
	s.buf = append(s.buf, p)
	n := len(s.buf)
	s.mu.Unlock()
	switch {
	case n >= s.cfg.FlushSize && !(s.running.Load() && n < 8*s.cfg.FlushSize):
		if err := s.Flush(); err != nil {
			s.log.Warn("write usage events", "err", err)
		}
	case n == 1 || n >= s.cfg.FlushSize:
		s.nudge() // Run writes it after FlushEvery (at once when full)
	}
	return nil
}

// nudge tells Run something waits to be written.
func (s *Store) nudge() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// full reports whether the buffer holds FlushSize events.
func (s *Store) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf) >= s.cfg.FlushSize
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
		s.nudge()
	}
}

// Run writes buffered events FlushEvery after the first of them arrived
// (at once when the buffer fills) until ctx ends, then flushes once more.
// With nothing arriving it sleeps: an idle engine does not wake for it.
func (s *Store) Run(ctx context.Context) {
	s.running.Store(true)
	defer s.running.Store(false)
	t := time.NewTimer(s.cfg.FlushEvery)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(); err != nil {
				s.log.Warn("write usage events", "err", err)
			}
			return
		case <-s.kick:
		}
		t.Reset(s.cfg.FlushEvery)
	wait:
		for !s.full() {
			select {
			case <-ctx.Done():
				break wait // flushed on the way out
			case <-t.C:
				break wait
			case <-s.kick:
			}
		}
		t.Stop()
		if err := s.Flush(); err != nil {
			s.log.Warn("write usage events", "err", err)
		}
	}
}

// Granularities of rollups.
const (
	Hour  = "h"
	Day   = "d"
	Month = "m"
)

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
	if s.db.InMemory() {
		return 1000 // in memory, a value must fit the value threshold (localdb: 1 KiB)
	}
	return 1 << 20
}
