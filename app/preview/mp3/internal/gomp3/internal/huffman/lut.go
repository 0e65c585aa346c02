package huffman

import "sync"

// Atelier: table-driven Huffman decoding. At start-up every tree of
// huffmanTable is walked once (the same walk as Decode) and turned into a
// two-level lookup table: the first level resolves codes of up to lutBits
// bits in one lookup, longer codes take one more lookup in a subtable.
// DecodeBig and DecodeQuad read from a 64-bit window of the bit stream.

// Entry layout: bits 0-4 the bits consumed (the whole code for a first-level
// leaf, the rest of it for a subtable leaf), bits 8-15 the value (x<<4 | y, or
// vwxy for the quadruple tables); entryPtr marks a first-level entry pointing
// to a subtable at bits 8-30 with bits 0-4 index bits; entryBad marks a bit
// pattern that is no code.
const (
	entryPtr = 1 << 31
	entryBad = 1 << 30
	lutBits  = 8
)

// LUT is one Huffman table ready for decoding.
type LUT struct {
	entries []uint32
	fast    *[1 << FastBits]uint32 // see Fast
	bits    uint                   // first-level index bits (0: the table codes nothing)
	Linbits uint
}

// luts holds tables 0-33 (32 and 33 are the count1 quadruple tables),
// built on first use: every Atelier process links the MP3 decoder, and
// building them at start-up was the largest init of the binary (~10 ms).
var (
	luts     [34]LUT
	lutsOnce sync.Once
)

// LUTs returns the tables, building them on first use.
func LUTs() *[34]LUT {
	lutsOnce.Do(func() {
		for i, t := range huffmanMain {
			luts[i] = buildLUT(t)
			if t.treelen != 0 {
				luts[i].fast = buildFast(walk(t), t.linbits, i >= 32)
			}
		}
	})
	return &luts
}

type code struct {
	bits uint32 // the code, right-aligned
	n    uint   // its length
	val  uint16
}

// walk lists the codes of tree t the way Decode walks it.
func walk(t huffTables) []code {
	var out []code
	var rec func(point int, c uint32, n uint)
	rec = func(point int, c uint32, n uint) {
		if point >= t.treelen || n > 19 {
			return
		}
		h := t.hufftable[point]
		if h&0xff00 == 0 {
			out = append(out, code{c, n, h & 0xff})
			return
		}
		// bit 1: right
		p := point
		for t.hufftable[p]&0xff >= 250 {
			p += int(t.hufftable[p]) & 0xff
		}
		p += int(t.hufftable[p]) & 0xff
		rec(p, c<<1|1, n+1)
		// bit 0: left
		p = point
		for t.hufftable[p]>>8 >= 250 {
			p += int(t.hufftable[p]) >> 8
		}
		p += int(t.hufftable[p]) >> 8
		rec(p, c<<1, n+1)
	}
	rec(0, 0, 0)
	return out
}

func buildLUT(t huffTables) LUT {
	if t.treelen == 0 {
		return LUT{Linbits: uint(t.linbits)}
	}
	codes := walk(t)
	maxLen := uint(0)
	for _, c := range codes {
		maxLen = max(maxLen, c.n)
	}
	l := min(maxLen, lutBits)
	e := make([]uint32, 1<<l)
	for i := range e {
		e[i] = entryBad
	}
	// First level: short codes fill every index they prefix.
	subMax := make([]uint, 1<<l) // prefix → longest remaining length (0: none)
	for _, c := range codes {
		if c.n <= l {
			base := c.bits << (l - c.n)
			for k := uint32(0); k < 1<<(l-c.n); k++ {
				e[base|k] = uint32(c.n) | uint32(c.val)<<8
			}
			continue
		}
		p := c.bits >> (c.n - l)
		subMax[p] = max(subMax[p], c.n-l)
	}
	for p := uint32(0); p < 1<<l; p++ {
		sb := subMax[p]
		if sb == 0 {
			continue
		}
		off := len(e)
		for k := 0; k < 1<<sb; k++ {
			e = append(e, entryBad)
		}
		e[p] = entryPtr | uint32(off)<<8 | uint32(sb)
	}
	for _, c := range codes {
		if c.n <= l {
			continue
		}
		p := c.bits >> (c.n - l)
		ptr := e[p]
		off, sb := int(ptr>>8&0x7fffff), uint(ptr&31)
		rest := c.n - l
		base := (c.bits & (1<<rest - 1)) << (sb - rest)
		for k := uint32(0); k < 1<<(sb-rest); k++ {
			e[off+int(base|k)] = uint32(rest) | uint32(c.val)<<8
		}
	}
	return LUT{entries: e, bits: l, Linbits: uint(t.linbits)}
}

// FastBits is the index width of the one-lookup tables (Fast): 11 bits
// (8 KiB a table) resolve more of the long codes of tables 13, 15 and 24
// that 192 kb/s stereo uses than 10 did (about 15% less CPU on such files,
// measured on a loaded machine).
const FastBits = 11

// buildFast builds the one-lookup table of a tree's codes: every code whose
// bits and sign bits together fit in FastBits, with no linbits escape, is
// resolved with its signs in one lookup. Big-values entries hold the bits
// used at 0-5 and x and y as int8 at 8-15 and 16-23; count1 entries (the
// quadruple tables, values below 16 with no pair meaning) hold v, w, x, y as
// 2-bit two's complement at 8-9, 10-11, 12-13, 14-15 and bit 24 set. Zero
// means: take the general path.
func buildFast(codes []code, linbits int, quad bool) *[1 << FastBits]uint32 {
	f := new([1 << FastBits]uint32)
	for _, c := range codes {
		var vals []int // the values a sign bit follows, in order
		if quad {
			for i := 0; i < 4; i++ {
				vals = append(vals, int(c.val>>(3-i)&1))
			}
		} else {
			x, y := int(c.val>>4), int(c.val&15)
			if linbits != 0 && (x == 15 || y == 15) {
				continue
			}
			vals = []int{x, y}
		}
		s := uint(0)
		for _, v := range vals {
			if v != 0 {
				s++
			}
		}
		n := c.n + s
		if n > FastBits {
			continue
		}
		for sp := uint32(0); sp < 1<<s; sp++ {
			e := uint32(n)
			if quad {
				e |= 1 << 24
			}
			k := s
			for i, v := range vals {
				if v != 0 {
					k--
					if sp>>k&1 != 0 {
						v = -v
					}
				}
				if quad {
					e |= uint32(v&3) << (8 + 2*i)
				} else {
					e |= uint32(uint8(int8(v))) << (8 + 8*i)
				}
			}
			base := (c.bits<<s | sp) << (FastBits - n)
			for j := uint32(0); j < 1<<(FastBits-n); j++ {
				f[base|j] = e
			}
		}
	}
	return f
}

// Fast looks the top FastBits of w up in the one-lookup table: a big-values
// pair x, y with signs and the bits used (FastBig), a count1 quadruple
// (FastQuad), or 0 when the code needs DecodeBig or DecodeQuad. The table
// must not be Empty.
func (t *LUT) Fast(w uint64) uint32 { return t.fast[w>>(64-FastBits)] }

// FastBig unpacks a non-zero big-values entry of Fast.
func FastBig(e uint32) (x, y int, n uint) {
	return int(int8(e >> 8)), int(int8(e >> 16)), uint(e & 63)
}

// FastQuad unpacks a non-zero count1 entry of Fast.
func FastQuad(e uint32) (q [4]int, n uint) {
	return [4]int{int(int8(e>>2) >> 6), int(int8(e>>4) >> 6), int(int8(e>>6) >> 6), int(int8(e>>8) >> 6)}, uint(e & 63)
}

// Empty reports whether the table codes nothing (tables 0, 4, 14): its
// values are all zero and take no bits.
func (t *LUT) Empty() bool { return t.bits == 0 }

// lookup resolves the code at the top of w: the value and the bits used, or
// ok false for a bit pattern that is no code.
func (t *LUT) lookup(w uint64) (val uint32, n uint, ok bool) {
	e := t.entries[w>>(64-t.bits)]
	if e&entryPtr != 0 {
		sb := uint(e & 31)
		off := uint64(e >> 8 & 0x7fffff)
		e = t.entries[off+(w<<t.bits)>>(64-sb)]
		if e&entryBad != 0 {
			return 0, 0, false
		}
		return e >> 8 & 0xff, t.bits + uint(e&31), true
	}
	if e&entryBad != 0 {
		return 0, 0, false
	}
	return e >> 8 & 0xff, uint(e & 31), true
}

// DecodeBig decodes one big_values pair (with linbits and signs) from the
// top of w, which must hold at least 47 valid bits; it returns the pair and
// the bits used.
func (t *LUT) DecodeBig(w uint64) (x, y int, n uint, ok bool) {
	val, n, ok := t.lookup(w)
	if !ok {
		return 0, 0, 0, false
	}
	w <<= n
	x, y = int(val>>4), int(val&15)
	if lb := t.Linbits; lb != 0 && x == 15 {
		x += int(w >> (64 - lb))
		w <<= lb
		n += lb
	}
	if x != 0 {
		if w>>63 != 0 {
			x = -x
		}
		w <<= 1
		n++
	}
	if lb := t.Linbits; lb != 0 && y == 15 {
		y += int(w >> (64 - lb))
		w <<= lb
		n += lb
	}
	if y != 0 {
		if w>>63 != 0 {
			y = -y
		}
		n++
	}
	return x, y, n, true
}

// DecodeQuad decodes one count1 quadruple (v, w, x, y with signs) from the
// top of bits (at least 10 valid bits).
func (t *LUT) DecodeQuad(bits uint64) (q [4]int, n uint, ok bool) {
	val, n, ok := t.lookup(bits)
	if !ok {
		return q, 0, false
	}
	bits <<= n
	for i := 0; i < 4; i++ {
		if val&(8>>i) != 0 {
			q[i] = 1
			if bits>>63 != 0 {
				q[i] = -1
			}
			bits <<= 1
			n++
		}
	}
	return q, n, true
}
