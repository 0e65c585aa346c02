package jpegscale

import (
	"bytes"
	"errors"
	"image"
	"io"
	"math"
	"runtime"
	"sync/atomic"
)

// Atelier: a sequential scan's entropy decoding on two goroutines.
//
// The scan's blocks follow one another in the entropy-coded data with no
// index of where each starts. Goroutine A (the caller) decodes from the
// start as sequentialScan does. Goroutine B starts at a byte near the middle
// of the data, guessing that a block starts there with the MCU's first
// block, and records each block's bit position, its place in the MCU (the
// phase, which picks the Huffman tables and the DC predictor) and its DC
// predictors. Huffman codes resynchronise: after some blocks of garbage, B's
// blocks are the true ones. When A comes to a block boundary at a bit
// position and phase where B recorded one, the two decodes agree from there
// on (the decode is a function of the bit position and the phase): A stops,
// B's blocks take their true indices, and B's DC values are shifted by the
// difference of the two DC predictors at that point (DC is coded as
// differences). Klein and Wiseman, "Parallel Huffman decoding with
// applications to JPEG files" (2003); Weißenberger and Schmidt, "Massively
// parallel Huffman decoding on GPUs" (2018).
//
// Whatever is odd — no sync within syncWindow blocks, an error or an
// end-of-band run in B, B reading far past the end of the data — A decodes
// the rest itself: the result is the serial decode's, bit for bit, errors
// included. Scans with restart intervals, non-interleaved scans of a
// colour image and small scans are decoded serially.

// minParBlocks is the fewest blocks a scan needs to be split (tests
// lower it): below it, starting B costs more than it saves.
var minParBlocks = 1 << 14

// parAllScales splits scans at 1/2 and full size too, and with one core
// (tests: the code path stays exact there).
var parAllScales = false

// syncWindow is how many of its first blocks B records positions for: A
// must find the sync point among them.
const syncWindow = 4096

// parProgress is how many blocks B decodes between progress reports.
const parProgress = 4096

// parStats counts the parallel scans that synced and those that fell back
// to the serial decode (tests).
var parStats struct{ synced, fellBack atomic.Int64 }

var errParOdd = errors.New("jpegscale: parallel decode gave up")

// parPhase is one block of the MCU: its component, its place in the MCU
// (bx = h*mx + dx, by = v*my + dy) and its tables.
type parPhase struct {
	comp     uint8
	h, v     int
	dx, dy   int
	dcH, acH *huffman
}

// parRec is B's state before one of its first blocks.
type parRec struct {
	pos int64 // bit position in the unstuffed data; -1: not to sync at
	ph  uint8
	dc  [maxComponents]int32
}

// parB is goroutine B's decode.
type parB struct {
	d       decoder
	limit   atomic.Int64  // B stops before block limit (A lowers it)
	win     chan []parRec // B's first blocks, sent once (sentWin)
	sentWin bool
	prog    chan int // blocks decoded so far; closed when B ends
	// chunks hold B's blocks, parProgress a chunk, allocated as B goes:
	// A reads a chunk once B has reported the blocks in it.
	chunks []*parChunk
	total  int
	// restartAt are the blocks at which B started again after an error:
	// its blocks from the sync point on must have none.
	restartAt []int
	qw        []*[blockSize]float64 // 1/4 scale: the weights by phase
	// Valid once prog is closed: the blocks decoded (B stopped at the
	// limit or on err), and the first block after which B had read more
	// than maxPad-8 bytes past the end of the data.
	n       int
	err     error
	padFrom int
	// endRaw is the byte after the data of B's n blocks (before the marker
	// ending them); endN the blocks done then.
	endRaw, endN int
}

// parChunk is parProgress of B's blocks: the DC coefficient (from B's
// predictors) and what the scale needs of the rest.
type parChunk struct {
	dc []int32
	q  []float64 // 1/4: quarterSums, 3 a block
	ac []int16   // 1/2 and full size: the AC coefficients in natural order, 63 a block
}

// store keeps B's block n of phase ph.
func (B *parB) store(n, ph int, b *block) {
	c, o := B.chunks[n/parProgress], n%parProgress
	if c == nil {
		c = &parChunk{dc: make([]int32, parProgress)}
		switch B.d.shift {
		case 3:
		case 2:
			c.q = make([]float64, 3*parProgress)
		default:
			c.ac = make([]int16, (blockSize-1)*parProgress)
		}
		B.chunks[n/parProgress] = c
	}
	c.dc[o] = b[0]
	switch B.d.shift {
	case 3:
	case 2:
		c.q[3*o], c.q[3*o+1], c.q[3*o+2] = quarterSums(b, B.qw[ph])
	default:
		ac := c.ac[(blockSize-1)*o : (blockSize-1)*(o+1)]
		for i := range ac {
			ac[i] = int16(b[i+1]) // |AC| < 2^15 (at most 15 bits)
		}
	}
}

// bitPos is the decoder's position in the scan's data after unstuffing
// (counting markers as data), in bits, for a decoder over d.src.
func (d *decoder) bitPos() int64 {
	raw := int64(len(d.src)-d.srcR.Len()) - int64(d.bytes.j-d.bytes.i)
	return (raw-d.stuffed+int64(d.fb.pad))*8 - int64(d.fb.n)
}

// decodeBlock decodes one block of phase p into b, as sequentialScan does.
func (d *decoder) decodeBlock(p *parPhase, b *block, dc *[maxComponents]int32) error {
	if d.shift != 3 {
		// At 1/4, quarterBlock reads a few coefficients, and decodeAC puts
		// the others at index 2: one clear of the whole block is faster
		// than clearing those few one by one.
		*b = block{}
	}
	if d.fb.n < 32 {
		d.refill()
	}
	value, err := d.symbol(p.dcH)
	if err != nil {
		return err
	}
	if value > 16 {
		return UnsupportedError("excessive DC component")
	}
	dc[p.comp] += d.extend(value)
	b[0] = dc[p.comp]
	if d.eobRun > 0 {
		d.eobRun--
	} else if d.shift == 3 {
		if err := d.skipAC(p.acH); err != nil {
			return err
		}
	} else if err := d.decodeAC(p.acH, b, false, d.shift == 2); err != nil {
		return err
	}
	if d.fb.pad > maxPad {
		return errShortHuffmanData
	}
	return nil
}

// parallelScan decodes a sequential scan on two goroutines; ok is false
// when the scan is not one to split (sequentialScan decodes it then).
func (d *decoder) parallelScan(nComp int, scan *[maxComponents]scanComp, mxx, myy int) (ok bool, err error) {
	// At 1/2 and full size the inverse DCT of B's blocks would fall to A
	// after the sync (it needs the DC): no gain; those decode serially.
	if d.src == nil || nComp != d.nComp || (d.shift < 2 && !parAllScales) {
		return false, nil
	}
	var phases []parPhase
	for i := 0; i < nComp; i++ {
		c := scan[i].compIndex
		h, v := d.comp[c].h, d.comp[c].v
		if nComp == 1 && (h != 1 || v != 1) {
			return false, nil // blocks past the image's edge are skipped
		}
		dcH, acH := &d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta]
		if dcH.nCodes == 0 || acH.nCodes == 0 {
			return false, nil // sequentialScan reports it
		}
		for j := 0; j < h*v; j++ {
			phases = append(phases, parPhase{comp: c, h: h, v: v, dx: j % h, dy: j / h, dcH: dcH, acH: acH})
		}
	}
	P := len(phases)
	total := mxx * myy * P
	if total < minParBlocks || (runtime.GOMAXPROCS(0) < 2 && !parAllScales) {
		return false, nil // one core: B would only add work
	}

	d.fb = fastBits64{}
	d.bytes.nUnreadable = 0
	d.stuffed = 0
	start := len(d.src) - d.srcR.Len() - (d.bytes.j - d.bytes.i)
	s, stuffed, rst := splitPoint(d.src, start)
	if d.ri > 0 {
		s, stuffed, rst = splitAtRST(d.src, start)
	}
	if s < 0 {
		return false, nil
	}
	startPos := (int64(s) - stuffed) * 8

	B := &parB{d: *d, win: make(chan []parRec, 1), prog: make(chan int, total/parProgress+4)}
	B.limit.Store(int64(total))
	B.padFrom = math.MaxInt
	B.total = total
	B.chunks = make([]*parChunk, total/parProgress+1)
	if d.shift == 2 {
		for _, p := range phases {
			B.qw = append(B.qw, B.d.quarterWeights(d.comp[p.comp].tq))
		}
	}
	go B.run(phases, s, stuffed, rst)
	defer func() {
		// B stops at its next block; wait for it (no goroutine outlives
		// the decode).
		B.limit.Store(0)
		for range B.prog {
		}
	}()

	var (
		b       block
		dc      [maxComponents]int32
		win     []parRec
		haveWin bool
		wi      int
		syncing = true
		mcu     int
		expRST  = uint8(rst0Marker)
	)
	// Block k is block ph of MCU (mx, my): counted, not divided.
	for k, ph, mx, my := 0, 0, 0, 0; k < total; k++ {
		if syncing {
			if pos := d.bitPos(); pos >= startPos {
				if !haveWin {
					win, haveWin = <-B.win, true
				}
				for wi < len(win) && win[wi].pos < pos {
					wi++
				}
				switch {
				case wi == len(win):
					// Past B's window without meeting it.
					syncing = false
					B.limit.Store(0)
				case win[wi].pos == pos && int(win[wi].ph) == ph && d.eobRun == 0 && d.fb.pad == 0:
					if d.takeB(B, phases, win[wi].dc, dc, k, wi, mxx) {
						parStats.synced.Add(1)
						return true, nil
					}
					// B failed after the sync point: A decodes the rest.
					syncing = false
				}
			}
		}
		p := &phases[ph]
		if err := d.decodeBlock(p, &b, &dc); err != nil {
			return true, err
		}
		if err := d.reconstructBlock(&b, p.h*mx+p.dx, p.v*my+p.dy, int(p.comp)); err != nil {
			return true, err
		}
		if ph++; ph == P {
			if ph, mx = 0, mx+1; mx == mxx {
				mx, my = 0, my+1
			}
			// The restart interval's end, as in sequentialScan.
			if mcu++; d.ri > 0 && mcu%d.ri == 0 && mcu < mxx*myy {
				if err := d.nextRST(&expRST); err != nil {
					return true, err
				}
				d.fb = fastBits64{}
				dc = [maxComponents]int32{}
				d.eobRun = 0
			}
		}
	}
	parStats.fellBack.Add(1)
	return true, nil
}

// takeB places B's blocks from its block wi on, which is the scan's block
// k, where A's DC predictors are dcA and B's were dcB; false if B did not
// decode them all cleanly (the pixels it placed are A's to overwrite).
func (d *decoder) takeB(B *parB, phases []parPhase, dcB, dcA [maxComponents]int32, k, wi, mxx int) bool {
	total := B.total
	last := wi + total - k // B's blocks wi..last-1 are the scan's k..total-1
	B.limit.Store(int64(last))
	var delta [maxComponents]int32
	for c := range delta {
		delta[c] = dcA[c] - dcB[c]
	}
	P := len(phases)
	var b block
	i := wi
	// B's block i is block ph of MCU (mx, my).
	ph, mx, my := k%P, (k/P)%mxx, (k/P)/mxx
	place := func(upTo int) error {
		for ; i < upTo; i++ {
			p := &phases[ph]
			bx, by := p.h*mx+p.dx, p.v*my+p.dy
			var w *[blockSize]float64
			if B.qw != nil {
				w = B.qw[ph]
			}
			if ph++; ph == P {
				if ph, mx = 0, mx+1; mx == mxx {
					mx, my = 0, my+1
				}
			}
			c, o := B.chunks[i/parProgress], i%parProgress
			dc := c.dc[o] + delta[p.comp]
			switch d.shift {
			case 2:
				dst, stride, err := d.blockDst(bx, by, int(p.comp))
				if err != nil {
					return err
				}
				q := c.q[3*o : 3*o+3]
				quarterPut(float64(float64(dc)*w[0]), q[0], q[1], q[2], dst, stride)
				continue
			case 3:
			default:
				for j, v := range c.ac[(blockSize-1)*o : (blockSize-1)*(o+1)] {
					b[j+1] = int32(v)
				}
			}
			b[0] = dc
			if err := d.reconstructBlock(&b, bx, by, int(p.comp)); err != nil {
				return err
			}
		}
		return nil
	}
	var placeErr error
	for n := range B.prog {
		if placeErr == nil {
			placeErr = place(min(n, last))
		}
	}
	// B may have gone on past the scan's end into errors before A set
	// its limit: only its blocks before last count. Reading past the end
	// of the data: within maxPad-8 bytes, the serial decode (whose read
	// ahead differs by up to 8 bytes) would not have stopped either.
	for _, r := range B.restartAt {
		if r > wi {
			return false
		}
	}
	if placeErr != nil || B.n < last || B.padFrom < last {
		return false
	}
	// The serial decode leaves the reader at the marker that ends the
	// data (the decoder never reads past one): the next segment.
	// B never reads past the marker that ends the data (with restart
	// intervals, its attempt to read one more restart marker there
	// fails: endRaw is from before it).
	end := B.endRaw
	for end < len(d.src) {
		j := bytes.IndexByte(d.src[end:], 0xff)
		if j < 0 {
			end = len(d.src)
			break
		}
		end += j
		if end+1 < len(d.src) && d.src[end+1] == 0x00 {
			end += 2
			continue
		}
		break
	}
	if _, err := d.srcR.Seek(int64(end), io.SeekStart); err != nil {
		return false
	}
	d.bytes.i, d.bytes.j, d.bytes.nUnreadable = 0, 0, 0
	d.fb = fastBits64{}
	return true
}

// run is goroutine B: it decodes blocks from byte s of d.src (after
// stuffed 0xff00 pairs of the scan's data) until B.limit.
func (B *parB) run(phases []parPhase, s int, stuffed int64, rst uint8) {
	defer close(B.prog)
	defer func() {
		// A decoder crash on damaged data (Make recovers A's, not B's):
		// A decodes the rest and meets it.
		if r := recover(); r != nil {
			B.err = errParOdd
			if !B.sentWin {
				B.win <- nil
			}
		}
	}()
	d := &B.d
	d.stuffed = stuffed
	d.srcR = bytes.NewReader(d.src)
	if _, err := d.srcR.Seek(int64(s), io.SeekStart); err != nil {
		B.win <- nil
		B.sentWin = true
		B.err = err
		return
	}
	d.r = d.srcR
	d.bytes.i, d.bytes.j, d.bytes.nUnreadable = 0, 0, 0
	d.fb = fastBits64{}
	d.eobRun = 0

	var (
		b   block
		dc  [maxComponents]int32
		win = make([]parRec, 0, syncWindow)
		ph  int
		n   int
	)
	P := len(phases)
	restarts := 0
	mcu := 0
	for n = 0; n < int(B.limit.Load()); n++ {
		if win != nil {
			pos := d.bitPos()
			if d.fb.pad > 0 {
				pos = -1
			}
			win = append(win, parRec{pos: pos, ph: uint8(ph), dc: dc})
			if len(win) == syncWindow {
				B.win <- win
				B.sentWin = true
				win = nil
			}
		}
		err := d.decodeBlock(&phases[ph], &b, &dc)
		if err == nil && d.eobRun != 0 {
			err = errParOdd
		}
		if err != nil {
			if win != nil && d.ri == 0 && restarts < maxRestarts && d.restartB(&dc) {
				// Garbage before the sync point (a code no table has,
				// a run past the block): start again at the next byte.
				restarts++
				win = win[:len(win)-1]
				B.restartAt = append(B.restartAt, n)
				ph = 0
				n--
				continue
			}
			B.err = err
			break
		}
		if d.fb.pad > maxPad-8 && B.padFrom > n {
			B.padFrom = n
		}
		B.store(n, ph, &b)
		if (n+1)%parProgress == 0 {
			B.prog <- n + 1
		}
		if ph++; ph == P {
			ph = 0
			// B started at an interval's start: its MCUs are counted
			// from there.
			if mcu++; d.ri > 0 && mcu%d.ri == 0 {
				B.endN, B.endRaw = n+1, len(d.src)-d.srcR.Len()-(d.bytes.j-d.bytes.i)
				if err := d.nextRST(&rst); err != nil {
					B.err = err
					n++
					break
				}
				d.fb = fastBits64{}
				dc = [maxComponents]int32{}
				d.eobRun = 0
			}
		}
	}
	if !B.sentWin {
		B.win <- win
		B.sentWin = true
	}
	B.n = n
	if B.endN != n {
		// B did not stop after reading a restart marker: where it is.
		B.endRaw = len(d.src) - d.srcR.Len() - (d.bytes.j - d.bytes.i)
	}
	B.prog <- n
}

// splitPoint picks where B starts in the scan's data, which begins at byte
// start of src: the middle of the data before the end of src or the first
// marker (not between 0xff and its stuffed 0x00), with the count of
// stuffed pairs before it; -1 if the data is too short.
func splitPoint(src []byte, start int) (s int, stuffed int64, rst uint8) {
	if start >= len(src) {
		return -1, 0, 0
	}
	s = start + (len(src)-start)/2
	// One pass over the first half: the stuffed pairs (one that s cuts
	// included), or a marker.
	marker := false
	for i := start; i < s; {
		j := bytes.IndexByte(src[i:s], 0xff)
		if j < 0 {
			break
		}
		i += j
		if i+1 < len(src) && src[i+1] == 0x00 {
			stuffed++
			i += 2
			continue
		}
		// The data ends at i: split its first half.
		s, marker = start+(i-start)/2, true
		break
	}
	if s > start && src[s-1] == 0xff {
		s++ // not between 0xff and its stuffed 0x00
	}
	if marker {
		stuffed = int64(bytes.Count(src[start:s], []byte{0xff, 0x00}))
	}
	if s <= start || s >= len(src) {
		return -1, 0, 0
	}
	return s, stuffed, 0
}

// maxRestarts bounds B's new starts in its window.
const maxRestarts = 64

// restartB puts B at the next byte boundary after the bytes it has taken
// (phase 0, predictors 0); false at the end of the data.
func (d *decoder) restartB(dc *[maxComponents]int32) bool {
	if d.fb.eod {
		return false
	}
	raw := len(d.src) - d.srcR.Len() - (d.bytes.j - d.bytes.i)
	// Pairs are taken whole: raw is after one or at a byte.
	if raw+1 >= len(d.src) {
		return false
	}
	next := raw + 1
	if d.src[raw] == 0xff {
		if d.src[raw+1] != 0x00 {
			return false // a marker
		}
		next = raw + 2
		d.stuffed++
	}
	if _, err := d.srcR.Seek(int64(next), io.SeekStart); err != nil {
		return false
	}
	d.bytes.i, d.bytes.j = 0, 0
	d.fb = fastBits64{}
	d.eobRun = 0
	*dc = [maxComponents]int32{}
	return true
}

// splitAtRST is splitPoint for a scan with restart intervals: B starts
// after the first restart marker past the middle of src, in step (phase 0,
// predictors 0); rst is the marker B expects next. -1 if there is none
// before another marker.
func splitAtRST(src []byte, start int) (s int, stuffed int64, rst uint8) {
	for i := start + (len(src)-start)/2; i+1 < len(src); {
		j := bytes.IndexByte(src[i:], 0xff)
		if j < 0 || i+j+1 >= len(src) {
			break
		}
		i += j
		switch c := src[i+1]; {
		case c == 0x00:
			i += 2
		case rst0Marker <= c && c <= rst7Marker:
			s = i + 2
			rst = c + 1
			if c == rst7Marker {
				rst = rst0Marker
			}
			return s, int64(bytes.Count(src[start:s], []byte{0xff, 0x00})), rst
		default:
			return -1, 0, 0
		}
	}
	return -1, 0, 0
}

// DecodeScaled decodes the JPEG image in data at 1/scale of its size in
// each dimension (scale 1, 2, 4 or 8: Decode, DecodeHalf, DecodeQuarter,
// DecodeEighth), with the second core on the entropy decoding of large
// sequential scans. The result is theirs, bit for bit.
func DecodeScaled(data []byte, scale int) (image.Image, error) {
	var shift uint
	switch scale {
	case 1:
	case 2:
		shift = 1
	case 4:
		shift = 2
	case 8:
		shift = 3
	default:
		return nil, errors.New("jpegscale: scale must be 1, 2, 4 or 8")
	}
	r := bytes.NewReader(data)
	d := decoder{shift: shift, src: data, srcR: r}
	return d.decode(r, false)
}
