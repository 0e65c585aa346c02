package frame

//go:generate go run gen_dct32.go

import "math"

// Atelier: the polyphase synthesis filter bank, rewritten for speed (same
// output as go-mp3's up to float32 rounding; TestSynthMatchesReference).
//
// For each time slot the 32 subband samples S go through a 32-point DCT-II
// X[a] = Σ S[k]·cos(a(2k+1)π/64) computed with Lee's recursive
// factorisation (80 multiplications instead of 1024 for the matrix). The
// standard's 64-value V vector is V[i] = X[16+i] (i < 16), V[16] = 0,
// V[17..47] = -X[48-i], V[48..63] = -X[i-48]; windowing only ever reads V's
// first half at even ages and its second half at odd ages, and each half is
// symmetric around its middle, so a slot keeps two 17-value vectors:
// E[k] = X[16+k] (E[16] = 0) and O[k] = X[16-k]. Output j and 32-j share
// every load; the signs of V live in the window tables.

// synthState is one channel's filter-bank history: 16 slots, each written
// twice (at pos and pos+16) so the 16 newest are contiguous from pos, stored
// by coefficient so that output j reads one contiguous row of 16: the
// windowing wants E at even ages and O at odd ones, so a[k][s] holds E for
// even slots s and O for odd ones, b[k][s] the other way round, and the
// current slot's parity picks a or b.
type synthState struct {
	pos  int
	a, b [17][32]float32
}

// synthWE[t][j] and synthWO[t][j] are the window coefficients of output j
// for the even-age slot 2t (reading E) and the odd-age slot 2t+1 (reading O),
// scaled to 16-bit full scale.
var synthWE, synthWO [8][32]float32

// winLo[j] and winHi[j] interleave them for outputs j and 32-j:
// winLo[j][2t] = synthWE[t][j], winLo[j][2t+1] = synthWO[t][j].
var winLo, winHi [17][16]float32

func init() {
	for t := 0; t < 8; t++ {
		for j := 0; j < 32; j++ {
			we := synthDtbl[64*t+j]
			if j > 16 {
				we = -we
			}
			synthWE[t][j] = we * 32767
			synthWO[t][j] = -synthDtbl[64*t+32+j] * 32767
		}
	}
	for j := 0; j < 17; j++ {
		for t := 0; t < 8; t++ {
			winLo[j][2*t] = synthWE[t][j]
			winLo[j][2*t+1] = synthWO[t][j]
			winHi[j][2*t] = synthWE[t][(32-j)&31]
			winHi[j][2*t+1] = synthWO[t][(32-j)&31]
		}
	}
}

// synthSlot pushes one time slot's 32 subband samples s into the history and
// writes its 32 output samples to out[0], out[stride], ... (16-bit, clipped).
func (st *synthState) synthSlot(s *[32]float32, silent bool, out []int16, stride int) {
	pos := (st.pos - 1) & 15
	st.pos = pos
	ea, ob := &st.a, &st.b // where this slot's E and O go
	if pos&1 != 0 {
		ea, ob = &st.b, &st.a
	}
	if silent {
		for k := 0; k < 17; k++ {
			ea[k][pos], ea[k][pos+16] = 0, 0
			ob[k][pos], ob[k][pos+16] = 0, 0
		}
	} else {
		var x [32]float32
		dct32(s, &x)
		for k := 0; k < 16; k++ {
			v := x[16+k]
			ea[k][pos], ea[k][pos+16] = v, v
			w := x[15-k]
			ob[k+1][pos], ob[k+1][pos+16] = w, w
		}
		ea[16][pos], ea[16][pos+16] = 0, 0
		ob[0][pos], ob[0][pos+16] = x[16], x[16]
	}
	// Row j from pos: the slot of age t is E for even t, O for odd t.
	var y [33]float32
	var o [32]int16
	window17(ea, pos, &winLo, &winHi, &y)
	round16(&y, &o)
	switch stride {
	case 1: // mono
		copy(out[:32], o[:])
	case 2: // one channel of stereo (array pointer: no bounds checks)
		d := (*[63]int16)(out[:63])
		for j, v := range o {
			d[2*j] = v
		}
	default:
		_ = out[31*stride]
		for j, v := range o {
			out[j*stride] = v
		}
	}
}

// window17Go is window17 in Go: for t < 16, y[j] = Σ h[j][pos+t]·wl[j][t]
// and y[32-j] = Σ h[j][pos+t]·wh[j][t] (j = 0 and 16 only write y[j]).
func window17Go(h *[17][32]float32, pos int, wl, wh *[17][16]float32, y *[33]float32) {
	for j := 0; j < 17; j++ {
		x := (*[16]float32)(h[j][pos : pos+16])
		a, b := &wl[j], &wh[j]
		hi := (x[0]*b[0] + x[4]*b[4] + x[8]*b[8] + x[12]*b[12]) + (x[1]*b[1] + x[5]*b[5] + x[9]*b[9] + x[13]*b[13]) +
			(x[2]*b[2] + x[6]*b[6] + x[10]*b[10] + x[14]*b[14]) + (x[3]*b[3] + x[7]*b[7] + x[11]*b[11] + x[15]*b[15])
		y[32-j] = hi
		y[j] = (x[0]*a[0] + x[4]*a[4] + x[8]*a[8] + x[12]*a[12]) + (x[1]*a[1] + x[5]*a[5] + x[9]*a[9] + x[13]*a[13]) +
			(x[2]*a[2] + x[6]*a[6] + x[10]*a[10] + x[14]*a[14]) + (x[3]*a[3] + x[7]*a[7] + x[11]*a[11] + x[15]*a[15])
	}
}

// round16Go clamps y[:32] to [-32768, 32767] and rounds to nearest, ties to
// even (ffmpeg's lrintf; go-mp3 truncated toward zero).
func round16Go(y *[33]float32, o *[32]int16) {
	for i := range o {
		v := min(max(y[i], -32768), 32767)
		o[i] = int16(math.RoundToEven(float64(v)))
	}
}
