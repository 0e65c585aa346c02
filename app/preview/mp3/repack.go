package mp3

import "encoding/binary"

// go-mp3 v0.3.4 computes the size of an MPEG-2 frame as (144·bitrate/rate +
// padding) >> 1, which drops the padding byte of many 22.05 kHz frames: it then
// loses the last byte of their main data and every later frame that borrows
// from the bit reservoir decodes to noise. With the padding bit clear both
// formulas agree, so such streams are re-laid out for go-mp3: every frame gets
// a header with a larger bitrate and no padding, and the main data stream is
// copied unchanged into the bigger frames, with zero bytes inserted only where
// one frame's data starts (never inside it) and main_data_begin recomputed.
// The audio is bit-identical; only the container changes.

// goMP3Size is the frame size go-mp3 computes for h.
func goMP3Size(h header) int {
	if h.version == 1 {
		return h.size
	}
	return (144*h.bitrate/h.sampleRate + h.padding) >> 1
}

// needsRepack reports whether go-mp3 would misread frames of the stream.
func (s *Stream) needsRepack(data []byte) bool {
	if s.Version != "2" {
		return false
	}
	for _, f := range s.Frames {
		if f.Header&(1<<9) == 0 {
			continue
		}
		h, _ := parseHeader(data[f.Off:])
		if goMP3Size(h) != h.size {
			return true
		}
	}
	return false
}

// repack lays frames [start, end) out for go-mp3 as described above; the first
// zero frames are neutralised (silent, filling the reservoir). It returns
// false when the data does not fit (hostile input), and the caller falls
// back to the frames as they are.
func (s *Stream) repack(data []byte, start, end, zero int) ([]byte, bool) {
	n := end - start
	if n <= 0 {
		return nil, false
	}
	h0, _ := parseHeader(data[s.Frames[start].Off:])
	si := h0.sideInfoSize()
	maxSize := 0
	for j := start; j < end; j++ {
		maxSize = max(maxSize, int(s.Frames[j].Size))
	}
	// A header with the same version, rate and mode, no CRC, no padding and a
	// bitrate giving at least twice the largest frame (or the largest there is).
	raw := (h0.raw | 1<<16) &^ (1 << 9)
	var hdr [4]byte
	newSize := 0
	for bi := uint32(1); bi < 15; bi++ {
		r := raw&^(0xF<<12) | bi<<12
		binary.BigEndian.PutUint32(hdr[:], r)
		h, ok := parseHeader(hdr[:])
		if !ok || goMP3Size(h) != h.size {
			continue
		}
		raw, newSize = r, h.size
		if newSize >= 2*maxSize {
			break
		}
	}
	newBitrate := raw & (0xF << 12)
	newCap := newSize - 4 - si
	if newCap <= 0 {
		return nil, false
	}
	// The logical main data stream L, each frame's region start P and data start D.
	var L []byte
	P := make([]int, n)
	D := make([]int, n)
	sides := make([][]byte, n)
	for k := 0; k < n; k++ {
		f := s.Frames[start+k]
		fr := data[f.Off : f.Off+int64(f.Size)]
		h, _ := parseHeader(fr)
		off := 4
		if h.crc {
			off += 2
		}
		if off+si > len(fr) {
			return nil, false
		}
		sides[k] = fr[off : off+si]
		P[k] = len(L)
		D[k] = max(P[k]-int(sides[k][0]), 0)
		L = append(L, fr[off+si:]...)
	}
	const maxBegin = 255 // MPEG-2 main_data_begin has 8 bits
	Lp := make([]byte, 0, n*newCap)
	src := 0
	begin := make([]int, n)
	for k := zero; k < n; k++ {
		pp := k * newCap
		if D[k] < src {
			return nil, false // overlapping data: not a valid stream
		}
		Lp = append(Lp, L[src:D[k]]...)
		src = D[k]
		if len(Lp) < pp-maxBegin {
			Lp = append(Lp, make([]byte, pp-maxBegin-len(Lp))...)
		}
		if len(Lp) > pp {
			return nil, false
		}
		begin[k] = pp - len(Lp)
	}
	Lp = append(Lp, L[src:]...)
	if len(Lp) > n*newCap {
		return nil, false
	}
	Lp = append(Lp, make([]byte, n*newCap-len(Lp))...)
	out := make([]byte, 0, n*newSize)
	for k := 0; k < n; k++ {
		// Each frame keeps its own mode extension (joint stereo flags).
		r := (s.Frames[start+k].Header|1<<16)&^(1<<9|0xF<<12) | newBitrate
		binary.BigEndian.PutUint32(hdr[:], r)
		out = append(out, hdr[:]...)
		side := append([]byte(nil), sides[k]...)
		if k < zero {
			clear(side)
			side[0] = 0xFF
		} else {
			side[0] = byte(begin[k])
		}
		out = append(out, side...)
		out = append(out, Lp[k*newCap:(k+1)*newCap]...)
	}
	return out, true
}
