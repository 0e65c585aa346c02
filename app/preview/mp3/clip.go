package mp3

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// ClipInfo describes a cut.
type ClipInfo struct {
	Start   time.Duration `json:"start"`   // actual start (a frame boundary)
	Length  time.Duration `json:"length"`  // actual length
	Frames  int           `json:"frames"`  // audio frames written (pre-roll included)
	Preroll int           `json:"preroll"` // frames before the start, skipped by gapless players
	Bytes   int           `json:"bytes"`
}

// Clip cuts [start, start+length) out of an MP3 at frame boundaries without
// re-encoding. The frames before the start that hold its bit reservoir are
// kept as pre-roll, and a fresh Xing/Info frame with a LAME tag tells gapless
// players (ffmpeg, mpg123, browsers) to skip them, so the clip starts cleanly.
// The leading ID3v2 tag is kept.
func Clip(data []byte, start, length time.Duration) ([]byte, ClipInfo, error) {
	var info ClipInfo
	st, err := Scan(data)
	if err != nil {
		return nil, info, err
	}
	if start < 0 || length <= 0 {
		return nil, info, fmt.Errorf("clip: start must be ≥ 0 and length > 0 (got start %s, length %s)", start, length)
	}
	spf := int64(st.SamplesPerFrame)
	rate := int64(st.SampleRate)
	skip, keep := st.Trim()
	s0 := int64(start.Seconds()*float64(rate) + 0.5)
	if s0 >= keep {
		return nil, info, fmt.Errorf("clip: start %s is past the end of the audio (%s)", start, st.Duration().Truncate(time.Millisecond))
	}
	n := int64(s0 + int64(length.Seconds()*float64(rate)+0.5))
	n = min(n, keep)
	first := int((s0 + skip) / spf)
	last := int((n + skip + spf - 1) / spf) // exclusive
	last = min(last, len(st.Frames))
	if first >= last {
		return nil, info, fmt.Errorf("clip: nothing to cut between %s and %s", start, start+length)
	}
	// Pre-roll. The first sample played comes decoderDelay samples before
	// frame first's output, from frame first-1's; with one granule a frame
	// (MPEG-2 and 2.5), that granule overlaps frame first-2's. Those lead
	// frames must decode whole, so the pre-roll also covers the largest
	// possible reservoir before the earliest of them, plus one frame.
	pre := 0
	if first > 0 {
		lead := 1
		if spf < 1152 {
			lead = 2
		}
		pre = min(lead, first)
		need := st.reservoir()
		for j := first - pre - 1; j >= 0 && need > 0; j-- {
			need -= st.mainDataSize(data, j)
			pre++
		}
		pre++
		maxPre := int((4095 + decoderDelay) / spf)
		pre = min(pre, maxPre, first)
	}
	from := first - pre
	delay := int64(0)
	if pre > 0 {
		delay = int64(pre)*spf - decoderDelay
	} else if st.Xing != nil && st.Xing.Gapless {
		delay = int64(st.Xing.Delay)
	}
	padding := int64(decoderDelay)
	if last == len(st.Frames) && st.Xing != nil && st.Xing.Gapless {
		padding = int64(st.Xing.Padding)
	}
	if delay < 0 || delay > 4095 || padding > 4095 {
		return nil, info, fmt.Errorf("clip: cannot express the cut in a LAME header (delay %d, padding %d)", delay, padding)
	}

	var audio bytes.Buffer
	for _, f := range st.Frames[from:last] {
		audio.Write(data[f.Off : f.Off+int64(f.Size)])
	}
	nFrames := last - from
	infoFrame, err := st.infoFrame(data, st.Frames[from:last], audio.Bytes(), int(delay), int(padding))
	if err != nil {
		return nil, info, err
	}
	var out bytes.Buffer
	if st.ID3Size > 0 && st.ID3Size <= int64(len(data)) && string(data[:3]) == "ID3" {
		out.Write(data[:st.ID3Size])
	}
	out.Write(infoFrame)
	out.Write(audio.Bytes())

	played := int64(nFrames)*spf - delay - padding
	startSample := int64(first)*spf - skip
	if pre == 0 {
		startSample = 0
	}
	info = ClipInfo{
		Start:   time.Duration(float64(max(startSample, 0)) / float64(rate) * float64(time.Second)),
		Length:  time.Duration(float64(played) / float64(rate) * float64(time.Second)),
		Frames:  nFrames,
		Preroll: pre,
		Bytes:   out.Len(),
	}
	return out.Bytes(), info, nil
}

// infoFrame builds a silent Layer III frame carrying an "Info" header (frame
// count, byte count, TOC) and a LAME tag with the given delay and padding.
func (s *Stream) infoFrame(data []byte, frames []Frame, audio []byte, delay, padding int) ([]byte, error) {
	h0, _ := parseHeader(data[frames[0].Off:])
	si := h0.sideInfoSize()
	xingOff := 4 + si
	lameOff := xingOff + 120
	need := lameOff + 36
	// Same version, rate and mode; no CRC, no padding; the smallest bitrate that fits.
	raw := h0.raw | 1<<16
	raw &^= 1 << 9
	size := 0
	for bi := uint32(1); bi < 15; bi++ {
		r := raw&^(0xF<<12) | bi<<12
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], r)
		h, ok := parseHeader(b[:])
		if ok && h.size >= need {
			raw, size = r, h.size
			break
		}
	}
	if size == 0 {
		return nil, fmt.Errorf("clip: no bitrate gives a frame large enough for the Info header")
	}
	fr := make([]byte, size)
	binary.BigEndian.PutUint32(fr, raw)
	copy(fr[xingOff:], "Info")
	binary.BigEndian.PutUint32(fr[xingOff+4:], 0x0F)
	binary.BigEndian.PutUint32(fr[xingOff+8:], uint32(len(frames)))
	binary.BigEndian.PutUint32(fr[xingOff+12:], uint32(size+len(audio)))
	// TOC: byte position (of 256) at each percent of the duration.
	toc := fr[xingOff+16 : xingOff+116]
	base := frames[0].Off
	total := float64(size + len(audio))
	for i := range 100 {
		fi := len(frames) * i / 100
		pos := float64(size) + float64(frames[fi].Off-base)
		toc[i] = byte(min(255, int(pos/total*256)))
	}
	binary.BigEndian.PutUint32(fr[xingOff+116:], 0) // quality
	t := fr[lameOff:]
	copy(t, "LAME3.100")
	// t[9] revision/VBR method, t[10] lowpass, t[11:15] peak, t[15:19] gains, t[19] flags, t[20] bitrate
	t[21] = byte(delay >> 4)
	t[22] = byte(delay<<4) | byte(padding>>8)
	t[23] = byte(padding)
	binary.BigEndian.PutUint32(t[28:], uint32(size+len(audio)))
	binary.BigEndian.PutUint16(t[32:], crc16(audio))
	binary.BigEndian.PutUint16(t[34:], crc16(fr[:lameOff+34]))
	return fr, nil
}

// crc16 is CRC-16/ARC (polynomial 0x8005 reflected, initial 0), as in the LAME tag.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
