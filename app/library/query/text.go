package query

import (
	"bytes"
	"sort"
)

// textIndex keeps the searchable text of every row (lower-cased path,
// metadata, tags, note) in one contiguous buffer, so that a free word is found
// with one vectorised bytes.Index sweep instead of 100,000 scattered string
// compares. A row whose text changes gets a new segment at the end; the old
// one becomes garbage, reclaimed when it outweighs the live text.
type textIndex struct {
	blob    []byte
	starts  []uint32 // segment starts, increasing
	rows    []uint32 // the row of each segment
	rowAt   []uint32 // by row: start of its live segment, or noSeg
	garbage int
	freq    [256]uint32 // how often each byte occurs in the live text: the rarest of a word anchors its search
}

func (t *textIndex) count(b []byte, add bool) {
	for _, c := range b {
		if add {
			t.freq[c]++
		} else {
			t.freq[c]--
		}
	}
}

const noSeg = ^uint32(0)

// compactAbove is the garbage (bytes) worth a compaction (a variable for tests).
var compactAbove = 1 << 20

func (t *textIndex) grow(r uint32) {
	for uint32(len(t.rowAt)) <= r {
		t.rowAt = append(t.rowAt, noSeg)
	}
}

// segEnd is where the segment at index k ends.
func (t *textIndex) segEnd(k int) int {
	if k+1 < len(t.starts) {
		return int(t.starts[k+1])
	}
	return len(t.blob)
}

func (t *textIndex) segLen(r uint32) int {
	at := t.rowAt[r]
	k := sort.Search(len(t.starts), func(i int) bool { return t.starts[i] >= at })
	return t.segEnd(k) - int(at)
}

// set makes text the searchable text of row r.
func (t *textIndex) set(r uint32, text string, all func(r uint32) string) {
	t.grow(r)
	if at := t.rowAt[r]; at != noSeg {
		n := t.segLen(r)
		t.count(t.blob[at:int(at)+n], false)
		t.garbage += n
	}
	t.count([]byte(text), true)
	t.freq['\n']++
	if len(t.blob)+len(text)+1 >= int(noSeg) {
		t.compact(all)
	}
	t.rowAt[r] = uint32(len(t.blob))
	t.starts = append(t.starts, uint32(len(t.blob)))
	t.rows = append(t.rows, r)
	t.blob = append(t.blob, text...)
	t.blob = append(t.blob, '\n') // words never hold a newline: no match spans two rows
	if t.garbage > compactAbove && t.garbage > len(t.blob)/2 {
		t.compact(all)
	}
}

// drop forgets row r's text.
func (t *textIndex) drop(r uint32) {
	if int(r) < len(t.rowAt) && t.rowAt[r] != noSeg {
		at, n := t.rowAt[r], t.segLen(r)
		t.count(t.blob[at:int(at)+n], false)
		t.garbage += n
		t.rowAt[r] = noSeg
	}
}

// compact rewrites the buffer with the live segments only.
func (t *textIndex) compact(all func(r uint32) string) {
	blob := make([]byte, 0, len(t.blob)-t.garbage+len(t.blob)/8)
	starts := make([]uint32, 0, len(t.rowAt))
	rows := make([]uint32, 0, len(t.rowAt))
	for r, at := range t.rowAt {
		if at == noSeg {
			continue
		}
		t.rowAt[r] = uint32(len(blob))
		starts = append(starts, uint32(len(blob)))
		rows = append(rows, uint32(r))
		blob = append(blob, all(uint32(r))...)
		blob = append(blob, '\n')
	}
	t.blob, t.starts, t.rows, t.garbage = blob, starts, rows, 0
}

// search calls mark for every row whose text contains w (lower case).
func (t *textIndex) search(w string, mark func(r uint32)) {
	if w == "" {
		for r, at := range t.rowAt {
			if at != noSeg {
				mark(uint32(r))
			}
		}
		return
	}
	pat := []byte(w)
	// the rarest byte of the word anchors a vectorised IndexByte scan
	ai := 0
	for i := range pat {
		if t.freq[pat[i]] < t.freq[pat[ai]] {
			ai = i
		}
	}
	anchor, blob := pat[ai], t.blob
	k := 0 // the segment where the sweep is
	for i := ai; i < len(blob); {
		j := bytes.IndexByte(blob[i:], anchor)
		if j < 0 {
			return
		}
		p := i + j - ai // where the word would start
		if p+len(pat) > len(blob) {
			return
		}
		if !bytes.Equal(blob[p:p+len(pat)], pat) {
			i += j + 1
			continue
		}
		k = t.segAt(k, uint32(p))
		if r := t.rows[k]; t.rowAt[r] == t.starts[k] {
			mark(r)
		}
		i = t.segEnd(k) + ai // one match per segment is enough
		k++
		if k >= len(t.starts) {
			return
		}
	}
}

// segAt is the segment holding pos, searching forward from segment k
// (starts[k] <= pos), galloping then bisecting.
func (t *textIndex) segAt(k int, pos uint32) int {
	step := 1
	for k+step < len(t.starts) && t.starts[k+step] <= pos {
		k += step
		step *= 2
	}
	hi := min(k+step, len(t.starts))
	return k + sort.Search(hi-k, func(n int) bool { return t.starts[k+n] > pos }) - 1
}
