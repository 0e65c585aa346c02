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
