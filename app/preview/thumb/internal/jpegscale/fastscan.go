package jpegscale

import (
	"encoding/binary"
	"io"
)

// Atelier: a faster entropy decoder for sequential (baseline and extended)
// scans. Bits come into a 64-bit accumulator several bytes at a time,
// stopping at a marker (never reading past it, so nothing is unread
// afterwards; past a marker or the end of the data, zero bits are supplied,
// as libjpeg does, up to maxPad bytes: then the data is truncated); Huffman codes of up to fastBits (11) bits, and AC codes with their value bits when together that short, resolve in one lookup
// (huffman.fast); at 1/8 scale the AC coefficients are skipped without being
// materialised, only their run lengths and sizes are read.

// fastBits64 is the accumulator of the sequential scan decoder.
type fastBits64 struct {
	a   uint64 // the n low bits are unread, most significant first
	n   uint
	eod bool // a marker or the end of the data was reached
	pad int  // zero bytes supplied since
}

// maxPad is how many zero bytes past the end of a scan's data the decoder
// may take before the data counts as truncated (a valid scan needs none but
// the up to 8 the accumulator reads ahead).
const maxPad = 64

// refill tops the accumulator up to more than 56 bits.
func (d *decoder) refill() {
	d.fb.a, d.fb.n = d.more(d.fb.a, d.fb.n)
}

// more is refill for an accumulator held in a and n (a loop's registers
// rather than d.fb's memory); it returns them topped up. Inlined.
func (d *decoder) more(a uint64, n uint) (uint64, uint) {
	if i := d.bytes.i; i+8 <= d.bytes.j && !d.fb.eod {
		// The next 8 bytes hold no 0xff (neither a stuffed byte nor a
		// marker): take as many as fit in one go.
		w := binary.BigEndian.Uint64(d.bytes.buf[i:])
		if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (63 - n) >> 3
			d.bytes.i = i + int(k)
			return a<<(8*k) | w>>(64-8*k), n + 8*k
		}
	}
	d.fb.a, d.fb.n = a, n
	d.refillBytes()
	return d.fb.a, d.fb.n
}

// refillBytes is refill a byte at a time: near a 0xff byte, a marker or
// the end of the buffered data.
func (d *decoder) refillBytes() {
	f := &d.fb
	for f.n <= 56 {
		if f.eod {
			f.a <<= 8
			f.n += 8
			f.pad++
			continue
		}
		if d.bytes.i+2 > d.bytes.j {
			// Fewer than two bytes buffered: shift and top up the buffer.
			if d.bytes.i == d.bytes.j || d.bytes.buf[d.bytes.i] == 0xff {
				if err := d.fillKeep(); err != nil {
					f.eod = true
					continue
				}
				if d.bytes.i+2 > d.bytes.j && d.bytes.buf[d.bytes.i] == 0xff {
					f.eod = true // 0xff at the very end: no stuffed byte follows
					continue
				}
			}
		}
		c := d.bytes.buf[d.bytes.i]
		if c == 0xff {
			if d.bytes.buf[d.bytes.i+1] != 0x00 {
				f.eod = true // a marker: leave it for the caller
				continue
			}
			d.bytes.i += 2
			d.stuffed++
		} else {
			d.bytes.i++
		}
		f.a = f.a<<8 | uint64(c)
		f.n += 8
	}
}

// fillKeep is fill that keeps the unread bytes (at most one here).
func (d *decoder) fillKeep() error {
	if d.bytes.i < d.bytes.j {
		d.bytes.buf[0] = d.bytes.buf[d.bytes.i]
		d.bytes.i, d.bytes.j = 0, 1
	} else {
		d.bytes.i, d.bytes.j = 0, 0
	}
	for tries := 0; d.bytes.j < 2; tries++ {
		n, err := d.r.Read(d.bytes.buf[d.bytes.j:])
		d.bytes.j += n
		if n == 0 && (err != nil || tries > 100) {
			if d.bytes.j > 0 {
				return nil
			}
			if err == nil {
				err = io.ErrNoProgress
			}
			return err
		}
	}
	return nil
}

// symbol decodes one Huffman-coded value; the accumulator must hold at
// least 16 bits.
func (d *decoder) symbol(h *huffman) (uint8, error) {
	f := &d.fb
	if v := h.fast[(f.a>>(f.n-fastBits))&(1<<fastBits-1)]; v&0xff != 0 {
		f.n -= uint(v & 0xff)
		return uint8(v >> 8), nil
	}
	code := int32(f.a>>(f.n-16)) & 0xffff
	for i := fastBits; i < maxCodeLength; i++ {
		c := code >> (15 - i)
		if c <= h.maxCodes[i] && c >= h.minCodes[i] {
			f.n -= uint(i + 1)
			return h.vals[h.valsIndices[i]+c-h.minCodes[i]], nil
		}
	}
	return 0, FormatError("bad Huffman code")
}

// extend reads t bits (t ≤ 16; the accumulator must hold them) and
// sign-extends them as in section F.2.2.1.
func (d *decoder) extend(t uint8) int32 {
	f := &d.fb
	if t == 0 {
		return 0
	}
	f.n -= uint(t)
	x := int32(f.a>>f.n) & (1<<t - 1)
	if x < 1<<(t-1) {
		x += -1<<t + 1
	}
	return x
}

// sequentialScan decodes a sequential scan's blocks and reconstructs them;
// the loop structure is processSOS's.
func (d *decoder) sequentialScan(nComp int, scan *[maxComponents]scanComp, mxx, myy int) error {
	d.fb = fastBits64{}
	d.bytes.nUnreadable = 0
	mcu, expectedRST := 0, uint8(rst0Marker)
	var (
		b          block
		dc         [maxComponents]int32
		bx, by     int
		blockCount int
	)
	dcOnly := d.shift == 3
	// At 1/4 scale only the coefficients quarterBlock reads are stored; the
	// others are skipped like every AC coefficient at 1/8.
	quarter := d.shift == 2
	for my := 0; my < myy; my++ {
		for mx := 0; mx < mxx; mx++ {
			for i := 0; i < nComp; i++ {
				compIndex := scan[i].compIndex
				hi := d.comp[compIndex].h
				vi := d.comp[compIndex].v
				dcH := &d.huff[dcTable][scan[i].td]
				acH := &d.huff[acTable][scan[i].ta]
				if dcH.nCodes == 0 || acH.nCodes == 0 {
					return FormatError("uninitialized Huffman table")
				}
				for j := 0; j < hi*vi; j++ {
					if nComp != 1 {
						bx = hi*mx + j%hi
						by = vi*my + j/hi
					} else {
						q := mxx * hi
						bx = blockCount % q
						by = blockCount / q
						blockCount++
						if bx*8 >= d.width || by*8 >= d.height {
							continue
						}
					}
					if !dcOnly {
						// At 1/4 too: one clear of the block is faster
						// than clearing quarterBlock's coefficients one
						// by one.
						b = block{}
					}
					if d.fb.n < 32 {
						d.refill()
					}
					value, err := d.symbol(dcH)
					if err != nil {
						return err
					}
					if value > 16 {
						return UnsupportedError("excessive DC component")
					}
					dc[compIndex] += d.extend(value)
					b[0] = dc[compIndex]

					if d.eobRun > 0 {
						d.eobRun--
					} else if dcOnly {
						if err := d.skipAC(acH); err != nil {
							return err
						}
					} else if err := d.decodeAC(acH, &b, dcOnly, quarter); err != nil {
						return err
					}
					if d.fb.pad > maxPad {
						return errShortHuffmanData
					}
					if err := d.reconstructBlock(&b, bx, by, int(compIndex)); err != nil {
						return err
					}
				}
			}
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < mxx*myy {
				if err := d.nextRST(&expectedRST); err != nil {
					return err
				}
				d.fb = fastBits64{}
				dc = [maxComponents]int32{}
				d.eobRun = 0
			}
		}
	}
	return nil
}

// decodeAC decodes a block's AC coefficients into b; at 1/8 scale (dcOnly)
// it only skips them, at 1/4 (quarter) it stores those quarterBlock reads.
// The accumulator lives in locals (registers) in the loop: d.fb's memory
// round trip was on the critical path of every code.
func (d *decoder) decodeAC(h *huffman, b *block, dcOnly, quarter bool) error {
	a, n := d.fb.a, d.fb.n
	// Where coefficient zig goes: its natural-order index, or at 1/4 scale
	// for the coefficients quarterBlock does not read, a slot it never
	// reads (a store instead of a branch the data decides).
	to := &unzig
	if quarter {
		to = &quarterTo
	}
	for zig := int32(1); zig < blockSize; zig++ {
		if n < 32 {
			// more's fast path, inlined by hand (more is too large for
			// the compiler to inline).
			i := d.bytes.i
			if i+8 <= d.bytes.j && !d.fb.eod {
				w := binary.BigEndian.Uint64(d.bytes.buf[i:])
				if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
					k := (63 - n) >> 3
					d.bytes.i = i + int(k)
					a, n = a<<(8*k)|w>>(64-8*k), n+8*k
					goto lookup
				}
			}
			a, n = d.more(a, n)
		}
	lookup:
		if e := h.fastAC[(a>>(n-fastBits))&(1<<fastBits-1)]; e != 0 {
			// Code and value bits in one lookup.
			n -= uint(e & 0xff)
			zig += (e >> 8) & 0xff
			if dcOnly || zig >= blockSize {
				continue
			}
			b[to[zig]] = e >> 16
			continue
		}
		d.fb.a, d.fb.n = a, n
		value, err := d.symbol(h)
		if err != nil {
			return err
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig >= blockSize {
				return nil
			}
			if dcOnly {
				d.fb.n -= uint(val1)
			} else {
				b[to[zig]] = d.extend(val1)
			}
		} else {
			if val0 != 0x0f {
				d.eobRun = uint16(1 << val0)
				if val0 != 0 {
					d.eobRun |= uint16(d.extendRaw(val0))
				}
				d.eobRun--
				return nil
			}
			zig += 0x0f
		}
		a, n = d.fb.a, d.fb.n
	}
	d.fb.a, d.fb.n = a, n
	return nil
}

// skipAC skips a block's AC coefficients (the 1/8 scale), several codes a
// lookup where they fit (huffman.skip).
func (d *decoder) skipAC(h *huffman) error {
	a, n := d.fb.a, d.fb.n
	zig := int32(1) // the next coefficient
	for zig < blockSize {
		if n < 32 {
			i := d.bytes.i
			if i+8 <= d.bytes.j && !d.fb.eod {
				w := binary.BigEndian.Uint64(d.bytes.buf[i:])
				if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
					k := (63 - n) >> 3
					d.bytes.i = i + int(k)
					a, n = a<<(8*k)|w>>(64-8*k), n+8*k
					goto lookup
				}
			}
			a, n = d.more(a, n)
		}
	lookup:
		e := h.skip[(a>>(n-fastBits))&(1<<fastBits-1)]
		// The codes must end within the block: an end of block only
		// before its last coefficient (after it, the bits are the next
		// block's).
		if adv := int32(e>>8) & 0xff; e != 0 && zig+adv+int32(e>>16) <= blockSize {
			n -= uint(e & 0xff)
			zig += adv
			if e&skipEOB != 0 {
				break
			}
			continue
		}
		// One code the long way (or codes running past the block's end:
		// damaged data, ended as decodeAC ends it).
		d.fb.a, d.fb.n = a, n
		value, err := d.symbol(h)
		if err != nil {
			return err
		}
		r, sz := int32(value>>4), value&0x0f
		switch {
		case sz != 0:
			zig += r
			if zig >= blockSize {
				return nil
			}
			d.fb.n -= uint(sz)
			zig++
		case r != 0x0f:
			d.eobRun = uint16(1 << r)
			if r != 0 {
				d.eobRun |= uint16(d.extendRaw(uint8(r)))
			}
			d.eobRun--
			return nil
		default:
			zig += 16
		}
		a, n = d.fb.a, d.fb.n
	}
	d.fb.a, d.fb.n = a, n
	return nil
}

// quarterIdx are the natural-order indices of the coefficients quarterBlock
// reads; quarterZig marks their zig-zag positions.
var (
	quarterIdx [25]int
	quarterZig [blockSize]bool
	// quarterTo is unzig at 1/4 scale: the coefficients quarterBlock does
	// not read all go to index 2 (horizontal frequency 2, which it never
	// reads).
	quarterTo [blockSize]int
)

func init() {
	i := 0
	for _, v := range quarterFreqs {
		for _, u := range quarterFreqs {
			quarterIdx[i] = 8*v + u
			quarterZig[zigOf[8*v+u]] = true
			i++
		}
	}
	for zig, n := range unzig {
		quarterTo[zig] = 2
		if quarterZig[zig] {
			quarterTo[zig] = n
		}
	}
}

// extendRaw reads t bits (t < 16) without sign extension.
func (d *decoder) extendRaw(t uint8) uint32 {
	f := &d.fb
	if f.n < uint(t) {
		d.refill()
	}
	f.n -= uint(t)
	return uint32(f.a>>f.n) & (1<<t - 1)
}
