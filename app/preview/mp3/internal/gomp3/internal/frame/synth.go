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
// by coefficient (e[k][slot]) so each output reads one contiguous row.
type synthState struct {
	pos  int
	e, o [17][32]float32
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
	if silent {
		for k := 0; k < 17; k++ {
			st.e[k][pos], st.e[k][pos+16] = 0, 0
			st.o[k][pos], st.o[k][pos+16] = 0, 0
		}
	} else {
		var x [32]float32
		dct32(s, &x)
		for k := 0; k < 16; k++ {
			v := x[16+k]
			st.e[k][pos], st.e[k][pos+16] = v, v
			w := x[15-k]
			st.o[k+1][pos], st.o[k+1][pos+16] = w, w
		}
		st.e[16][pos], st.e[16][pos+16] = 0, 0
		st.o[0][pos], st.o[0][pos+16] = x[16], x[16]
	}
	_ = out[31*stride]
	for j := 0; j < 17; j++ {
		// e[2t] is the slot of age 2t, o[2t+1] the slot of age 2t+1.
		e := (*[16]float32)(st.e[j][pos : pos+16])
		o := (*[16]float32)(st.o[j][pos : pos+16])
		wl := &winLo[j]
		lo := (e[0]*wl[0] + o[1]*wl[1] + e[4]*wl[4] + o[5]*wl[5] + e[8]*wl[8] + o[9]*wl[9] + e[12]*wl[12] + o[13]*wl[13]) +
			(e[2]*wl[2] + o[3]*wl[3] + e[6]*wl[6] + o[7]*wl[7] + e[10]*wl[10] + o[11]*wl[11] + e[14]*wl[14] + o[15]*wl[15])
		out[j*stride] = clip16(lo)
		if j == 0 || j == 16 {
			continue
		}
		wh := &winHi[j]
		hi := (e[0]*wh[0] + o[1]*wh[1] + e[4]*wh[4] + o[5]*wh[5] + e[8]*wh[8] + o[9]*wh[9] + e[12]*wh[12] + o[13]*wh[13]) +
			(e[2]*wh[2] + o[3]*wh[3] + e[6]*wh[6] + o[7]*wh[7] + e[10]*wh[10] + o[11]*wh[11] + e[14]*wh[14] + o[15]*wh[15])
		out[(32-j)*stride] = clip16(hi)
	}
}

// clip16 rounds v to the nearest integer (halves away from zero) in
// [-32768, 32767], as ffmpeg's float decoder does (go-mp3 truncated toward
// zero and stopped at -32767). Branch-free: ±0.5 takes v's sign bit.
func clip16(v float32) int16 {
	v = min(max(v, -32768), 32767)
	h := math.Float32frombits(math.Float32bits(v)&0x80000000 | 0x3f000000)
	return int16(int32(v + h))
}
