package frame

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
// twice (at pos and pos+16) so the 16 newest are contiguous from pos.
type synthState struct {
	pos  int
	e, o [32][17]float32
}

// synthWE[t][j] and synthWO[t][j] are the window coefficients of output j
// for the even-age slot 2t (reading E) and the odd-age slot 2t+1 (reading O),
// scaled to 16-bit full scale.
var synthWE, synthWO [8][32]float32

// leeC{N}[k] = 1/(2cos((2k+1)π/(2N))), the odd-part factors of Lee's DCT.
var leeC32 [16]float32
var leeC16 [8]float32
var leeC8 [4]float32
var leeC4 [2]float32

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
	lee := func(c []float32, n int) {
		for k := range c {
			c[k] = float32(1 / (2 * math.Cos(float64(2*k+1)*math.Pi/float64(2*n))))
		}
	}
	lee(leeC32[:], 32)
	lee(leeC16[:], 16)
	lee(leeC8[:], 8)
	lee(leeC4[:], 4)
}

// dct2 .. dct32 compute X[a] = Σ s[k]·cos(a(2k+1)π/(2N)) (unnormalised
// DCT-II) by Lee's factorisation: X[2a] is the N/2-point DCT of
// s[k]+s[N-1-k]; X[2a+1] = Y[a]+Y[a+1] where Y is the N/2-point DCT of
// (s[k]-s[N-1-k])·leeC[k].
func dct4(s *[4]float32, x *[4]float32) {
	e0, e1 := s[0]+s[3], s[1]+s[2]
	o0, o1 := (s[0]-s[3])*leeC4[0], (s[1]-s[2])*leeC4[1]
	// 2-point: X[0] = a+b, X[1] = (a-b)·cos(π/4)
	x[0] = e0 + e1
	x[2] = (e0 - e1) * cos4
	y0 := o0 + o1
	y1 := (o0 - o1) * cos4
	x[1] = y0 + y1
	x[3] = y1
}

// cos4 = cos(π/4).
var cos4 = float32(math.Cos(math.Pi / 4))

func dct8(s *[8]float32, x *[8]float32) {
	var e, o, ye, yo [4]float32
	for k := 0; k < 4; k++ {
		a, b := s[k], s[7-k]
		e[k] = a + b
		o[k] = (a - b) * leeC8[k]
	}
	dct4(&e, &ye)
	dct4(&o, &yo)
	x[0], x[2], x[4], x[6] = ye[0], ye[1], ye[2], ye[3]
	x[1] = yo[0] + yo[1]
	x[3] = yo[1] + yo[2]
	x[5] = yo[2] + yo[3]
	x[7] = yo[3]
}

func dct16(s *[16]float32, x *[16]float32) {
	var e, o, ye, yo [8]float32
	for k := 0; k < 8; k++ {
		a, b := s[k], s[15-k]
		e[k] = a + b
		o[k] = (a - b) * leeC16[k]
	}
	dct8(&e, &ye)
	dct8(&o, &yo)
	for a := 0; a < 7; a++ {
		x[2*a] = ye[a]
		x[2*a+1] = yo[a] + yo[a+1]
	}
	x[14] = ye[7]
	x[15] = yo[7]
}

func dct32(s *[32]float32, x *[32]float32) {
	var e, o, ye, yo [16]float32
	for k := 0; k < 16; k++ {
		a, b := s[k], s[31-k]
		e[k] = a + b
		o[k] = (a - b) * leeC32[k]
	}
	dct16(&e, &ye)
	dct16(&o, &yo)
	for a := 0; a < 15; a++ {
		x[2*a] = ye[a]
		x[2*a+1] = yo[a] + yo[a+1]
	}
	x[30] = ye[15]
	x[31] = yo[15]
}

// synthSlot pushes one time slot's 32 subband samples s into the history and
// writes its 32 output samples to out[0], out[stride], ... (16-bit, clipped).
func (st *synthState) synthSlot(s *[32]float32, silent bool, out []int16, stride int) {
	pos := (st.pos - 1) & 15
	st.pos = pos
	e, o := &st.e[pos], &st.o[pos]
	if silent {
		*e = [17]float32{}
		*o = [17]float32{}
	} else {
		var x [32]float32
		dct32(s, &x)
		for k := 0; k < 16; k++ {
			e[k] = x[16+k]
			o[k+1] = x[15-k]
		}
		e[16] = 0
		o[0] = x[16]
	}
	st.e[pos+16] = *e
	st.o[pos+16] = *o

	var lo [17]float32
	var hi [16]float32
	for t := 0; t < 8; t++ {
		ev := &st.e[pos+2*t]
		ov := &st.o[pos+2*t+1]
		we := &synthWE[t]
		wo := &synthWO[t]
		lo[0] += ev[0]*we[0] + ov[0]*wo[0]
		for j := 1; j < 16; j++ {
			a, b := ev[j], ov[j]
			lo[j] += a*we[j] + b*wo[j]
			hi[j] += a*we[32-j] + b*wo[32-j]
		}
		lo[16] += ov[16] * wo[16]
	}
	_ = out[31*stride]
	for j := 0; j < 17; j++ {
		out[j*stride] = clip16(lo[j])
	}
	for j := 1; j < 16; j++ {
		out[(32-j)*stride] = clip16(hi[j])
	}
}

func clip16(v float32) int16 {
	s := int(v)
	if s > 32767 {
		return 32767
	}
	if s < -32767 {
		return -32767
	}
	return int16(s)
}
