package huffman

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"atelier/app/preview/mp3/internal/gomp3/internal/bits"
)

// window returns 64 bits of data from bit pos, zero past the end.
func window(data []byte, pos int) uint64 {
	var b [16]byte
	copy(b[:], data[min(pos>>3, len(data)):])
	return binary.BigEndian.Uint64(b[:])<<(pos&7) | uint64(b[8])>>(8-pos&7)
}

// TestLUTMatchesTreeWalk: on random bit streams every table decodes the same
// values with the same number of bits as go-mp3's bit-by-bit tree walk.
func TestLUTMatchesTreeWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for tab := 0; tab < 34; tab++ {
		lut := &LUTs()[tab]
		for trial := 0; trial < 200; trial++ {
			data := make([]byte, 64)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			m := bits.New(data)
			pos := 0
			for pos < 300 {
				x, y, v, w, err := Decode(m, tab)
				if lut.Empty() {
					if x|y|v|w != 0 || err != nil {
						t.Fatalf("table %d: empty table decoded %d %d", tab, x, y)
					}
					break
				}
				win := window(data, pos)
				if tab >= 32 {
					q, n, ok := lut.DecodeQuad(win)
					if ok != (err == nil) {
						t.Fatalf("table %d at bit %d: lut ok %v, tree err %v", tab, pos, ok, err)
					}
					if err != nil {
						break
					}
					if q != [4]int{v, w, x, y} || pos+int(n) != m.BitPos() {
						t.Fatalf("table %d at bit %d: lut %v (%d bits), tree %v (%d bits)", tab, pos, q, n, [4]int{v, w, x, y}, m.BitPos()-pos)
					}
					pos += int(n)
					continue
				}
				gx, gy, n, ok := lut.DecodeBig(win)
				if ok != (err == nil) {
					t.Fatalf("table %d at bit %d: lut ok %v, tree err %v", tab, pos, ok, err)
				}
				if err != nil {
					break
				}
				if gx != x || gy != y || pos+int(n) != m.BitPos() {
					t.Fatalf("table %d at bit %d: lut %d,%d (%d bits), tree %d,%d (%d bits)", tab, pos, gx, gy, n, x, y, m.BitPos()-pos)
				}
				pos += int(n)
			}
		}
	}
}

// TestFastMatchesLUT: wherever the one-lookup table resolves a code, it gives
// the values, signs and bit count of DecodeBig / DecodeQuad, and it resolves
// the short codes (every pattern of a table whose codes all fit).
func TestFastMatchesLUT(t *testing.T) {
	for tab := 0; tab < 34; tab++ {
		lut := &LUTs()[tab]
		if lut.Empty() {
			continue
		}
		hits := 0
		for i := uint64(0); i < 1<<FastBits; i++ {
			for _, low := range []uint64{0, 1<<(64-FastBits) - 1, 0x5555555555555555 >> FastBits} {
				w := i<<(64-FastBits) | low
				e := lut.Fast(w)
				if e == 0 {
					continue
				}
				hits++
				if tab >= 32 {
					q, n := FastQuad(e)
					wq, wn, ok := lut.DecodeQuad(w)
					if !ok || q != wq || n != wn {
						t.Fatalf("table %d, bits %010b: fast %v (%d bits), DecodeQuad %v (%d bits, ok %v)", tab, i, q, n, wq, wn, ok)
					}
					continue
				}
				x, y, n := FastBig(e)
				wx, wy, wn, ok := lut.DecodeBig(w)
				if !ok || x != wx || y != wy || n != wn {
					t.Fatalf("table %d, bits %010b: fast %d,%d (%d bits), DecodeBig %d,%d (%d bits, ok %v)", tab, i, x, y, n, wx, wy, wn, ok)
				}
			}
		}
		if hits == 0 {
			t.Errorf("table %d: the one-lookup table resolves nothing", tab)
		}
	}
	// Table 1 (4 codes of at most 3 bits, 2 signs) and the count1 table 33
	// (4 bits, 4 signs) resolve every pattern in one lookup.
	for _, tab := range []int{1, 32, 33} {
		for i := uint64(0); i < 1<<FastBits; i++ {
			if LUTs()[tab].Fast(i<<(64-FastBits)) == 0 {
				t.Fatalf("table %d, bits %010b: not resolved in one lookup", tab, i)
			}
		}
	}
}
