package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"atelier/localdb"
	"atelier/progress"
)

// importReader reads the file once: every row is checked and, while no row
// has failed, its values are staged in blocks under a staging import record.
// A file with any error, or one imported before, leaves nothing behind.
func (s *Store) importReader(ctx context.Context, r io.Reader, total int64, res ImportResult, m AudienceMapping, report progress.Func) (ImportResult, error) {
	s.impMu.Lock()
	defer s.impMu.Unlock()
	idb := make([]byte, 6)
	binary.BigEndian.PutUint32(idb, uint32(res.Time.Unix()))
	binary.BigEndian.PutUint16(idb[4:], uint16(s.seq.Add(1))^uint16(time.Now().UnixNano()>>10))
	res.ID = hex.EncodeToString(idb)
	res.State = stateStage
	if err := s.db.Update(func(tx *localdb.Tx) error {
		if _, exists, err := audImports.Get(tx, res.ID); err != nil || exists {
			return errors.Join(err, errors.New("another import started in the same instant: import again"))
		}
		return audImports.Put(tx, res.ID, res)
	}); err != nil {
		return res, fmt.Errorf("import %s: %w", res.File, err)
	}
	discard := func() {
		if derr := s.db.DropPrefix(audStage + res.ID + "/"); derr != nil {
			s.log.Warn("discard staged audience rows", "import", res.ID, "err", derr)
		}
		if derr := s.db.DropPrefix(audImports.Prefix() + res.ID); derr != nil {
			s.log.Warn("discard audience import record", "import", res.ID, "err", derr)
		}
	}
	h := sha256.New()
	cr := &countingReader{r: r, h: h, ctx: ctx}
	metrics := map[string]bool{}
	var from, to time.Time
	var last time.Time
	wb := s.db.Batch()
	var blk []stagedVal
	var nblk int
	putBlock := func() error {
		if len(blk) == 0 {
			return nil
		}
		// rows repeating a key close together (per-country or per-store rows
		// of the same day and title) are added up before they are staged
		at := make(map[string]int, len(blk))
		agg := blk[:0]
		for _, v := range blk {
			if i, ok := at[v.key]; ok {
				agg[i].value += v.value
				continue
			}
			at[v.key] = len(agg)
			agg = append(agg, v)
		}
		blk = agg
		// one value per block at most the database's value size
		max := s.maxValue()
		for i := 0; i < len(blk); {
			j, size := i, 2+binary.MaxVarintLen64
			for j < len(blk) && (j == i || size+len(blk[j].key)+9+binary.MaxVarintLen64 <= max) {
				size += len(blk[j].key) + 9 + binary.MaxVarintLen64
				j++
			}
			if err := wb.SetRaw([]byte(stageKey(res.ID, nblk)), encodeStageBlock(blk[i:j])); err != nil {
				return err
			}
			nblk++
			i = j
		}
		blk = blk[:0]
		return nil
	}
	l, rows, errs, nerr, err := parseAudience(cr, m, func(row int, v audRow) error {
		res.Values++
		metrics[v.metric] = true
		if from.IsZero() || v.day.Before(from) {
			from = v.day
		}
		if v.day.After(to) {
			to = v.day
		}
		if report != nil && res.Values%65536 == 0 && time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			report(progress.Progress{Done: cr.n, Total: total, Unit: "bytes", Note: "importing " + res.File})
		}
		blk = append(blk, stagedVal{key: rowKey(v), value: v.value})
		if len(blk) == stageBlockLen {
			return putBlock()
		}
		return nil
	})
	if err == nil {
		err = putBlock()
	}
	if ferr := wb.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	res.Rows, res.Errors, res.ErrorRows = rows, errs, nerr
	res.Platform = l.platformName
	for k := range metrics {
		res.Metrics = append(res.Metrics, k)
	}
	sort.Strings(res.Metrics)
	if err == nil && nerr == 0 && res.Values == 0 {
		err = errors.New("the file has no data rows")
	}
	if err != nil || nerr > 0 {
		discard()
		res.Values = 0
		if ll, ok := errors.AsType[*LineTooLongError](err); ok {
			ll.File = res.File
			return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, ll)
		}
		if err != nil {
			return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, err)
		}
		return res, nil
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	res.From, res.To = from.Format(dayLayout), to.Format(dayLayout)
	var dup *ImportResult
	s.db.View(func(tx *localdb.Tx) error {
		return audImports.Scan(tx, "", func(_ string, x ImportResult) error {
			if x.State == stateDone && x.SHA256 == res.SHA256 {
				dup = &x
				return localdb.ErrStop
			}
			return nil
		})
	})
	if dup != nil {
		discard()
		res.OK, res.Duplicate, res.Unchanged = true, true, res.Values
		res.ID = dup.ID
		return res, nil
	}
	res.Blocks = nblk
	res.State = stateApply
	if err := s.db.Update(func(tx *localdb.Tx) error { return audImports.Put(tx, res.ID, res) }); err != nil {
		discard()
		return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, err)
	}
	if err := s.db.Sync(); err != nil {
		discard()
		return res, fmt.Errorf("import %s: %w; nothing was imported", res.File, err)
	}
	if err := s.applyImport(&res); err != nil {
		return res, fmt.Errorf("import %s: %w (it will be finished at the next start)", res.File, err)
	}
	return res, nil
}

type stagedVal struct {
	key   string
	value float64
}

func stageKey(id string, n int) string { return fmt.Sprintf("%s%s/%08x", audStage, id, n) }

func encodeStageBlock(vs []stagedVal) []byte {
	n := 2 + binary.MaxVarintLen64
	for _, v := range vs {
		n += len(v.key) + 9 + binary.MaxVarintLen64
	}
	raw := make([]byte, 2, n)
	raw[0], raw[1] = blockVersion, codecRaw // transient: not worth compressing
	raw = binary.AppendUvarint(raw, uint64(len(vs)))
	for _, v := range vs {
		raw = binary.AppendUvarint(raw, uint64(len(v.key)))
		raw = append(raw, v.key...)
		raw = binary.BigEndian.AppendUint64(raw, math.Float64bits(v.value))
	}
	return raw
}

func decodeStageBlock(b []byte) ([]stagedVal, error) {
	if len(b) < 2 || b[0] != blockVersion || b[1] != codecRaw {
		return nil, fmt.Errorf("%w: staged values", errBlock)
	}
	raw := b[2:]
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > stageBlockLen {
		return nil, fmt.Errorf("%w: staged values", errBlock)
	}
	raw = raw[k:]
	out := make([]stagedVal, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < l+8 {
			return nil, fmt.Errorf("%w: staged values", errBlock)
		}
		raw = raw[k:]
		out = append(out, stagedVal{key: string(raw[:l]), value: math.Float64frombits(binary.BigEndian.Uint64(raw[l:]))})
		raw = raw[l+8:]
	}
	return out, nil
}

// applyImport moves the staged values of an import into place with their
// rollups, applyChunkLen values per transaction; each transaction also moves
// the import's cursor, so an interrupted apply resumes exactly where it
// stopped. Every value written is tagged with the import, so a key repeated in
// one file adds up (per-country rows, say) while a key from an earlier import
// is replaced (a newer export of the same days).
func (s *Store) applyImport(res *ImportResult) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.Granted(AudienceImport) {
		s.db.DropPrefix(audStage + res.ID + "/")
		s.db.DropPrefix(audImports.Prefix() + res.ID)
		return errors.New("audience statistics were withdrawn during the import; nothing was imported")
	}
	tag, err := hex.DecodeString(res.ID)
	if err != nil || len(tag) != importTagLen {
		return fmt.Errorf("import id %q is damaged", res.ID)
	}
	a := &applier{s: s, res: res, tag: tag, rolls: map[string]rollVal{}}
	for b := res.CursorBlock; b < res.Blocks; b++ {
		var vals []stagedVal
		err := s.db.View(func(tx *localdb.Tx) error {
			it, err := tx.Raw().Get([]byte(stageKey(res.ID, b)))
			if err != nil {
				return err
			}
			return it.Value(func(v []byte) error {
				vals, err = decodeStageBlock(v)
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("read staged block %d: %w", b, err)
		}
		start := 0
		if b == res.CursorBlock {
			start = res.CursorValue // resuming: the values before were applied
		}
		for off := start; off < len(vals); off += applyChunkLen {
			end := min(off+applyChunkLen, len(vals))
			if err := a.applySplit(vals, off, end, b); err != nil {
				return err
			}
		}
	}
	res.State = stateDone
	res.OK = true
	if err := s.db.Update(func(tx *localdb.Tx) error { return audImports.Put(tx, res.ID, *res) }); err != nil {
		return err
	}
	if err := s.db.DropPrefix(audStage + res.ID + "/"); err != nil {
		s.log.Warn("drop staged audience rows", "import", res.ID, "err", err)
	}
	return nil
}
