package maindata

import (
	"math"

	"atelier/app/preview/mp3/internal/gomp3/internal/consts"
	"atelier/app/preview/mp3/internal/gomp3/internal/frameheader"
	"atelier/app/preview/mp3/internal/gomp3/internal/sideinfo"
)

// Atelier: the lines of a long-block granule are requantised as the Huffman
// decoder produces them (sign·|x|^(4/3)·2^(gain/4) per scale factor band,
// the same values frame.requantize computed in a second pass), and
// MainData.Requantized tells the frame so. Short and mixed blocks keep the
// second pass.

var (
	pow43  [8207]float32 // |x|^(4/3) for every Huffman value with linbits
	pretab = [22]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 2, 0}
)

func init() {
	for i := range pow43 {
		pow43[i] = float32(math.Pow(float64(i), 4.0/3.0))
	}
	for i := range pow2qTab {
		pow2qTab[i] = math.Pow(2, float64(i-pow2qOff)/4)
	}
}

// pow2q is 2^(k/4), from a table over the range gains take.
func pow2q(k int) float64 {
	if i := k + pow2qOff; i >= 0 && i < len(pow2qTab) {
		return pow2qTab[i]
	}
	return math.Pow(2, float64(k)/4)
}

const pow2qOff = 512

var pow2qTab [pow2qOff + 128]float64

// longGains fills g with the requantisation gain of each long scale factor
// band of granule gr, channel ch.
func longGains(si *sideinfo.SideInfo, md *MainData, gr, ch int, g *[22]float32) {
	mult := 2 // 4·0.5: the exponent counts quarters
	if si.ScalefacScale[gr][ch] != 0 {
		mult = 4
	}
	base := si.GlobalGain[gr][ch] - 210
	for sfb := range g {
		sf := md.ScalefacL[gr][ch][sfb] + si.Preflag[gr][ch]*pretab[sfb]
		g[sfb] = float32(pow2q(base - mult*sf))
	}
}

// requantValue is the requantised line for Huffman value x with gain g.
// Branch-free: the sign of a Huffman value is a coin toss the branch
// predictor loses half the time.
func requantValue(x int, g float32) float32 {
	s := x >> 63
	v := pow43[(x^s)-s] * g
	return math.Float32frombits(math.Float32bits(v) ^ uint32(s)&0x80000000)
}

// isLong reports whether granule gr, channel ch is a long-block one.
func isLong(si *sideinfo.SideInfo, gr, ch int) bool {
	return !(si.WinSwitchFlag[gr][ch] == 1 && si.BlockType[gr][ch] == 2)
}

func longBands(header frameheader.FrameHeader) []int {
	return consts.SfBandIndices[header.BandSet()][header.SamplingFrequency()][consts.SfBandIndicesLong]
}
