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

package imdct

import (
	"math"
)

var imdctWinData = [4][36]float32{}

func init() {
	for i := 0; i < 36; i++ {
		imdctWinData[0][i] = float32(math.Sin(math.Pi / 36 * (float64(i) + 0.5)))
	}
	for i := 0; i < 18; i++ {
		imdctWinData[1][i] = float32(math.Sin(math.Pi / 36 * (float64(i) + 0.5)))
	}
	for i := 18; i < 24; i++ {
		imdctWinData[1][i] = 1.0
	}
	for i := 24; i < 30; i++ {
		imdctWinData[1][i] = float32(math.Sin(math.Pi / 12 * (float64(i) + 0.5 - 18.0)))
	}
	for i := 30; i < 36; i++ {
		imdctWinData[1][i] = 0.0
	}
	for i := 0; i < 12; i++ {
		imdctWinData[2][i] = float32(math.Sin(math.Pi / 12 * (float64(i) + 0.5)))
	}
	for i := 12; i < 36; i++ {
		imdctWinData[2][i] = 0.0
	}
	for i := 0; i < 6; i++ {
		imdctWinData[3][i] = 0.0
	}
	for i := 6; i < 12; i++ {
		imdctWinData[3][i] = float32(math.Sin(math.Pi / 12 * (float64(i) + 0.5 - 6.0)))
	}
	for i := 12; i < 18; i++ {
		imdctWinData[3][i] = 1.0
	}
	for i := 18; i < 36; i++ {
		imdctWinData[3][i] = float32(math.Sin(math.Pi / 36 * (float64(i) + 0.5)))
	}
}

var cosN12 = [6][12]float32{}

func init() {
	const N = 12
	for i := 0; i < 6; i++ {
		for j := 0; j < 12; j++ {
			cosN12[i][j] = float32(math.Cos(math.Pi / (2 * N) * (2*float64(j) + 1 + N/2) * (2*float64(i) + 1)))
		}
	}
}

var cosN36 = [18][36]float32{}

func init() {
	const N = 36
	for i := 0; i < 18; i++ {
		for j := 0; j < 36; j++ {
			cosN36[i][j] = float32(math.Cos(math.Pi / (2 * N) * (2*float64(j) + 1 + N/2) * (2*float64(i) + 1)))
		}
	}
}

// WinInto is the inverse MDCT of one subband with windowing, into out
// (Atelier: no allocation per call, and the 36-point transform computes 18
// values and mirrors the rest: raw[17-p] = -raw[p] for p < 9 and
// raw[53-p] = raw[p] for 18 ≤ p < 27).
func WinInto(out *[36]float32, in []float32, blockType int) {
	if blockType == 2 {
		*out = [36]float32{}
		iwd := imdctWinData[blockType]
		const N = 12
		for i := 0; i < 3; i++ {
			for p := 0; p < N; p++ {
				sum := float32(0.0)
				for m := 0; m < N/2; m++ {
					sum += in[i+3*m] * cosN12[m][p]
				}
				out[6*i+p+6] += sum * iwd[p]
			}
		}
		return
	}
	imdct36(out, (*[18]float32)(in[:18]), &imdctWinData[blockType&3]) // writes all 36
}

// Atelier: the 36-point IMDCT of a long block is a DCT-IV of 18 points,
// y[k] = Σ in[m]·cos((2k+1)(2m+1)π/72), with raw[p] = y[p+9] for p < 9 and
// raw[p] = -y[26-p] for 18 ≤ p < 27 (the other 18 mirror those). The DCT-IV
// comes from a DCT-II of in[n]·2cos((2n+1)π/72) (C4[k] = Y[k] - C4[k-1]),
// and that DCT-II from two 9-point ones (Lee's even/odd split), each using
// the symmetry of its 9×9 matrix: about 100 multiplications instead of 324.
var (
	imdctPre [18]float32   // 2cos((2n+1)π/72)
	imdctOdd [9]float32    // 1/(2cos((2k+1)π/36))
	dct9Even [5][4]float32 // cos(2a'·(2k+1)π/18), even outputs a = 2a'
	dct9Odd  [4][4]float32 // cos((2a'+1)(2k+1)π/18)
)

func init() {
	for n := range imdctPre {
		imdctPre[n] = float32(2 * math.Cos(float64(2*n+1)*math.Pi/72))
	}
	for k := range imdctOdd {
		imdctOdd[k] = float32(1 / (2 * math.Cos(float64(2*k+1)*math.Pi/36)))
	}
	for a := 0; a < 5; a++ {
		for k := 0; k < 4; k++ {
			dct9Even[a][k] = float32(math.Cos(float64(2*a*(2*k+1)) * math.Pi / 18))
		}
	}
	for a := 0; a < 4; a++ {
		for k := 0; k < 4; k++ {
			dct9Odd[a][k] = float32(math.Cos(float64((2*a+1)*(2*k+1)) * math.Pi / 18))
		}
	}
}

// dct9 is X[a] = Σ s[k]·cos(a(2k+1)π/18), a = 0..8 (unrolled: Go does not
// unroll loops, and these run twice per subband).
func dct9(s *[9]float32, x *[9]float32) {
	p0, p1, p2, p3 := s[0]+s[8], s[1]+s[7], s[2]+s[6], s[3]+s[5]
	m0, m1, m2, m3 := s[0]-s[8], s[1]-s[7], s[2]-s[6], s[3]-s[5]
	c := s[4]
	e, o := &dct9Even, &dct9Odd
	x[0] = p0*e[0][0] + p1*e[0][1] + p2*e[0][2] + p3*e[0][3] + c
	x[2] = p0*e[1][0] + p1*e[1][1] + p2*e[1][2] + p3*e[1][3] - c
	x[4] = p0*e[2][0] + p1*e[2][1] + p2*e[2][2] + p3*e[2][3] + c
	x[6] = p0*e[3][0] + p1*e[3][1] + p2*e[3][2] + p3*e[3][3] - c
	x[8] = p0*e[4][0] + p1*e[4][1] + p2*e[4][2] + p3*e[4][3] + c
	x[1] = m0*o[0][0] + m1*o[0][1] + m2*o[0][2] + m3*o[0][3]
	x[3] = m0*o[1][0] + m1*o[1][1] + m2*o[1][2] + m3*o[1][3]
	x[5] = m0*o[2][0] + m1*o[2][1] + m2*o[2][2] + m3*o[2][3]
	x[7] = m0*o[3][0] + m1*o[3][1] + m2*o[3][2] + m3*o[3][3]
}

func imdct36(out *[36]float32, in *[18]float32, w *[36]float32) {
	var e, o, ye, yo [9]float32
	for k := 0; k < 9; k++ {
		a := in[k] * imdctPre[k]
		b := in[17-k] * imdctPre[17-k]
		e[k] = a + b
		o[k] = (a - b) * imdctOdd[k]
	}
	dct9(&e, &ye)
	dct9(&o, &yo)
	// C4[0] = Y[0]/2, C4[k] = Y[k] - C4[k-1], Y interleaving the even
	// DCT (ye) and the odd one folded (yo[a] + yo[a+1]).
	var y [18]float32
	y[0] = ye[0] * 0.5
	y[1] = yo[0] + yo[1] - y[0]
	y[2] = ye[1] - y[1]
	y[3] = yo[1] + yo[2] - y[2]
	y[4] = ye[2] - y[3]
	y[5] = yo[2] + yo[3] - y[4]
	y[6] = ye[3] - y[5]
	y[7] = yo[3] + yo[4] - y[6]
	y[8] = ye[4] - y[7]
	y[9] = yo[4] + yo[5] - y[8]
	y[10] = ye[5] - y[9]
	y[11] = yo[5] + yo[6] - y[10]
	y[12] = ye[6] - y[11]
	y[13] = yo[6] + yo[7] - y[12]
	y[14] = ye[7] - y[13]
	y[15] = yo[7] + yo[8] - y[14]
	y[16] = ye[8] - y[15]
	y[17] = yo[8] - y[16]
	for p := 0; p < 9; p++ {
		r := y[p+9]
		out[p] = r * w[p]
		out[17-p] = -r * w[17-p]
	}
	for p := 18; p < 27; p++ {
		r := -y[26-p]
		out[p] = r * w[p]
		out[53-p] = r * w[53-p]
	}
}
