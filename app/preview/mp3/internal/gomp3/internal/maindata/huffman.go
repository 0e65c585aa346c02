// Copyright 2017 Hajime Hoshi
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package maindata

import (
	"fmt"

	"atelier/app/preview/mp3/internal/gomp3/internal/bits"
	"atelier/app/preview/mp3/internal/gomp3/internal/consts"
	"atelier/app/preview/mp3/internal/gomp3/internal/frameheader"
	"atelier/app/preview/mp3/internal/gomp3/internal/huffman"
	"atelier/app/preview/mp3/internal/gomp3/internal/sideinfo"
)

func readHuffman(m *bits.Bits, header frameheader.FrameHeader, sideInfo *sideinfo.SideInfo, mainData *MainData, part_2_start, gr, ch int) error {
	// Check that there is any data to decode. If not, zero the array.
	mainData.Requantized[gr][ch] = false
	if sideInfo.Part2_3Length[gr][ch] == 0 {
		for i := 0; i < consts.SamplesPerGr; i++ {
			mainData.Is[gr][ch][i] = 0.0
		}
		return nil
	}

	// Calculate bit_pos_end which is the index of the last bit for this part.
	bit_pos_end := part_2_start + sideInfo.Part2_3Length[gr][ch] - 1
	// Determine region boundaries
	region_1_start := 0
	region_2_start := 0
	if (sideInfo.WinSwitchFlag[gr][ch] == 1) && (sideInfo.BlockType[gr][ch] == 2) {
		// Atelier: the third short band, 36 lines at every rate but 8 kHz
		// (MPEG-2.5), where it is 72.
		region_1_start = 3 * consts.SfBandIndices[header.BandSet()][header.SamplingFrequency()][consts.SfBandIndicesShort][3]
		region_2_start = consts.SamplesPerGr // No Region2 for short block case.
	} else {
		sfreq := header.SamplingFrequency()
		lsf := header.BandSet() // Atelier: MPEG-2.5 has tables of its own
		l := consts.SfBandIndices[lsf][sfreq][consts.SfBandIndicesLong]
		i := sideInfo.Region0Count[gr][ch] + 1
		if i < 0 || len(l) <= i {
			// TODO: Better error messages (#3)
			return fmt.Errorf("mp3: readHuffman failed: invalid index i: %d", i)
		}
		region_1_start = l[i]
		j := sideInfo.Region0Count[gr][ch] + sideInfo.Region1Count[gr][ch] + 2
		if j < 0 || len(l) <= j {
			// TODO: Better error messages (#3)
			return fmt.Errorf("mp3: readHuffman failed: invalid index j: %d", j)
		}
		region_2_start = l[j]
	}
	luts := huffman.LUTs()
	// Atelier: table-driven decoding (huffman.LUTs) from a 64-bit window of
	// the main data instead of a tree walk bit by bit.
	vec := m.Vec()
	pos := m.BitPos()
	is := &mainData.Is[gr][ch]
	big := sideInfo.BigValues[gr][ch] * 2
	if big > consts.SamplesPerGr {
		return fmt.Errorf("mp3: big_values %d beyond the granule", big/2)
	}
	// Long blocks are requantised here (requant.go): gains per band.
	long := isLong(sideInfo, gr, ch)
	mainData.Requantized[gr][ch] = long
	var gains [22]float32
	var bands []int
	if long {
		longGains(sideInfo, mainData, gr, ch, &gains)
		bands = longBands(header)
	}
	sfb := 0
	region_1_start = min(region_1_start, big)
	region_2_start = min(max(region_2_start, region_1_start), big)
	bounds := [4]int{0, region_1_start, region_2_start, big}
	for r := 0; r < 3; r++ {
		lut := &luts[sideInfo.TableSelect[gr][ch][r]&31]
		if lut.Empty() {
			clear(is[bounds[r]:bounds[r+1]])
			continue
		}
		// w holds avail bits from pos (zeros beyond); a pair takes at most 47.
		w, avail := bits.Window(vec, pos), uint(64)
		for is_pos := bounds[r]; is_pos < bounds[r+1]; is_pos += 2 {
			// The one-lookup table needs FastBits of w, DecodeBig 47:
			// the window is refilled only when the code at hand needs it.
			if avail < huffman.FastBits {
				w, avail = bits.Window(vec, pos), 64
			}
			var x, y int
			var n uint
			if e := lut.Fast(w); e != 0 {
				x, y, n = huffman.FastBig(e) // signs included, one lookup
			} else {
				if avail < 47 {
					w, avail = bits.Window(vec, pos), 64
				}
				var ok bool
				if x, y, n, ok = lut.DecodeBig(w); !ok {
					return fmt.Errorf("mp3: illegal Huffman code (table %d)", sideInfo.TableSelect[gr][ch][r])
				}
			}
			pos += int(n)
			w <<= n
			avail -= n
			if long {
				// Band edges are even: a pair never straddles one.
				for is_pos >= bands[sfb+1] {
					sfb++
				}
				g := gains[sfb]
				is[is_pos] = requantValue(x, g)
				is[is_pos+1] = requantValue(y, g)
				continue
			}
			is[is_pos] = float32(x)
			is[is_pos+1] = float32(y)
		}
	}
	// Read small values until is_pos = 576 or we run out of huffman data
	lut := &luts[sideInfo.Count1TableSelect[gr][ch]+32]
	is_pos := big
	w, avail := bits.Window(vec, pos), uint(64)
	for is_pos <= 572 && pos <= bit_pos_end {
		// w holds avail bits from pos; a quadruple takes at most 10 (6 of code, 4 signs), the lookup FastBits.
		if avail < huffman.FastBits {
			w, avail = bits.Window(vec, pos), 64
		}
		// Every count1 code resolves in one lookup (TestFastMatchesLUT);
		// DecodeQuad stays as the general path.
		e := lut.Fast(w)
		if e == 0 {
			q, n, ok := lut.DecodeQuad(w)
			if !ok {
				return fmt.Errorf("mp3: illegal Huffman code (count1 table %d)", sideInfo.Count1TableSelect[gr][ch])
			}
			e = uint32(n)
			for k, v := range q {
				e |= uint32(v&3) << (8 + 2*k)
			}
		}
		n := uint(e & 63)
		pos += int(n)
		w <<= n
		avail -= n
		// The values, -1, 0 or 1, from their 2-bit fields.
		v0, v1, v2, v3 := float32(int8(e>>2)>>6), float32(int8(e>>4)>>6), float32(int8(e>>6)>>6), float32(int8(e>>8)>>6)
		q := (*[4]float32)(is[is_pos : is_pos+4])
		if long {
			for is_pos >= bands[sfb+1] {
				sfb++
			}
			if is_pos+4 <= bands[sfb+1] { // the quadruple within one band
				g := gains[sfb]
				q[0], q[1], q[2], q[3] = v0*g, v1*g, v2*g, v3*g
			} else {
				for k, v := range [4]float32{v0, v1, v2, v3} {
					for is_pos+k >= bands[sfb+1] {
						sfb++
					}
					q[k] = v * gains[sfb]
				}
			}
		} else {
			q[0], q[1], q[2], q[3] = v0, v1, v2, v3
		}
		is_pos += 4
	}
	// Check that we didn't read past the end of this section
	if pos > bit_pos_end+1 {
		// Remove last words read
		is_pos -= 4
	}
	if is_pos < 0 {
		is_pos = 0
	}

	// Setup count1 which is the index of the first sample in the rzero reg.
	sideInfo.Count1[gr][ch] = is_pos

	// Zero out the last part if necessary
	clear(is[is_pos:])
	// Set the bitpos to point to the next part to read
	m.SetPos(bit_pos_end + 1)
	return nil
}
