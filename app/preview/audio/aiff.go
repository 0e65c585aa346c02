package audio

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// AIFF and AIFF-C (Apple's Audio Interchange File Format): big-endian IFF
// chunks; COMM says the layout, SSND holds the samples. AIFF-C adds a
// compression type to COMM: the uncompressed ones (NONE, twos, sowt, raw,
// in24, in32, 42ni, 23ni, fl32, fl64) and G.711 (ulaw, alaw) are read here;
// others (ima4, MAC3, MAC6, GSM, QDesign...) go to ffmpeg.

// maxAIFFChunks bounds the chunk walk over a hostile file of tiny chunks.
const maxAIFFChunks = 1 << 16

// aiffLayout is what COMM and SSND say.
type aiffLayout struct {
	aifc        bool
	channels    int
	frames      uint32
	bits        int
	rate        float64
	compression string // AIFF-C compression type ("NONE" for AIFF)
	haveComm    bool
	dataPos     int64 // first sample byte
	dataLen     int64 // sample bytes in the file
	haveSSND    bool
	truncated   bool // SSND claims more than the file holds
}

// errCompressed means a WAV or AIFF-C file holds an encoding read by
// ffmpeg (ADPCM, GSM, MP3 in WAV, IMA4, MACE...), not here.
type errCompressed struct{ what string }

func (e errCompressed) Error() string {
	return e.what + " is read through ffmpeg, from a file"
}

func parseAIFF(r io.ReaderAt, size int64) (aiffLayout, error) {
	var l aiffLayout
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return l, errors.New("truncated FORM header")
	}
	switch string(hdr[8:12]) {
	case "AIFF":
	case "AIFC":
		l.aifc = true
	default:
		return l, errors.New("not an AIFF file (no AIFF or AIFC form type)")
	}
	l.compression = "NONE"
	pos := int64(12)
	for n := 0; pos+8 <= size && n < maxAIFFChunks && !(l.haveComm && l.haveSSND); n++ {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], pos); err != nil {
			break
		}
		id := string(ch[:4])
		csize := int64(binary.BigEndian.Uint32(ch[4:]))
		body := pos + 8
		left := size - body
		switch id {
		case "COMM":
			if csize < 18 || csize > 1<<16 || csize > left {
				return l, fmt.Errorf("bad COMM chunk (%d bytes)", csize)
			}
			b := make([]byte, csize)
			if _, err := r.ReadAt(b, body); err != nil {
				return l, errors.New("truncated COMM chunk")
			}
			l.channels = int(int16(binary.BigEndian.Uint16(b[0:])))
			l.frames = binary.BigEndian.Uint32(b[2:])
			l.bits = int(int16(binary.BigEndian.Uint16(b[6:])))
			l.rate = extended80(b[8:18])
			if l.aifc {
				if csize < 22 {
					return l, errors.New("the AIFF-C COMM chunk has no compression type")
				}
				l.compression = string(b[18:22])
			}
			l.haveComm = true
		case "SSND":
			if csize < 8 || left < 8 {
				return l, fmt.Errorf("bad SSND chunk (%d bytes)", csize)
			}
			var b [8]byte
			if _, err := r.ReadAt(b[:], body); err != nil {
				return l, errors.New("truncated SSND chunk")
			}
			offset := int64(binary.BigEndian.Uint32(b[0:]))
			l.dataPos = body + 8 + offset
			l.dataLen = csize - 8 - offset
			if l.dataPos > size {
				return l, fmt.Errorf("the SSND chunk's offset %d points past the end of the file", offset)
			}
			if l.dataLen < 0 {
				l.dataLen = 0
			}
			if l.dataLen > size-l.dataPos {
				l.dataLen = size - l.dataPos
				l.truncated = true
			}
			l.haveSSND = true
		}
		pos = body + csize + csize&1
	}
	if !l.haveComm {
		return l, errors.New("no COMM chunk: not a complete AIFF file")
	}
	if !l.haveSSND {
		if l.frames == 0 {
			l.haveSSND = true // an empty AIFF may omit SSND
		} else {
			return l, errors.New("no SSND chunk: the AIFF file holds no audio")
		}
	}
	return l, nil
}

// extended80 decodes an IEEE 754 80-bit extended float (the sample rate).
func extended80(b []byte) float64 {
	exp := int(binary.BigEndian.Uint16(b[0:]) & 0x7FFF)
	mant := binary.BigEndian.Uint64(b[2:])
	if exp == 0 && mant == 0 {
		return 0
	}
	if exp == 0x7FFF {
		return math.Inf(1)
	}
	v := math.Ldexp(float64(mant), exp-16383-63)
	if b[0]&0x80 != 0 {
		v = -v
	}
	return v
}

// aiffCodec returns the sample converter for a layout, the bytes per
// sample, and a description.
func aiffCodec(l aiffLayout) (conv func(b []byte, out []int32), bps, bits int, codec string, err error) {
	bits = l.bits
	switch l.compression {
	case "NONE", "twos", "sowt", "raw ", "in24", "in32", "42ni", "23ni":
		switch l.compression {
		case "in24", "42ni":
			bits = 24
		case "in32", "23ni":
			bits = 32
		case "raw ":
			bits = 8
		}
		if bits < 1 || bits > 32 {
			return nil, 0, 0, "", fmt.Errorf("%d bits per sample: AIFF allows 1 to 32", l.bits)
		}
		bps = (bits + 7) / 8
		little := l.compression == "sowt" || l.compression == "42ni" || l.compression == "23ni"
		unsigned := l.compression == "raw "
		codec = fmt.Sprintf("PCM %d-bit", bits)
		if l.aifc {
			codec += fmt.Sprintf(" (%s)", l.compression)
		}
		return intConv(bps, little, unsigned), bps, bits, codec, nil
	case "fl32", "FL32":
		return func(b []byte, out []int32) {
			for i := range out {
				out[i] = floatToInt32(float64(math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))))
			}
		}, 4, 32, "IEEE float 32-bit", nil
	case "fl64", "FL64":
		return func(b []byte, out []int32) {
			for i := range out {
				out[i] = floatToInt32(math.Float64frombits(binary.BigEndian.Uint64(b[8*i:])))
			}
		}, 8, 64, "IEEE float 64-bit", nil
	case "ulaw", "ULAW":
		return tableConv(&ulawTable), 1, 8, "G.711 µ-law", nil
	case "alaw", "ALAW":
		return tableConv(&alawTable), 1, 8, "G.711 A-law", nil
	}
	return nil, 0, 0, "", errCompressed{fmt.Sprintf("AIFF-C compression %q", l.compression)}
}

// intConv converts integer samples of bps bytes (left-justified, as AIFF
// stores samples of fewer bits) to the int32 range.
func intConv(bps int, little, unsigned bool) func(b []byte, out []int32) {
	return func(b []byte, out []int32) {
		for i := range out {
			s := b[i*bps : i*bps+bps]
			var v uint32
			for k := 0; k < bps; k++ {
				var c byte
				if little {
					c = s[bps-1-k]
				} else {
					c = s[k]
				}
				v |= uint32(c) << (24 - 8*k)
			}
			if unsigned {
				v ^= 0x80000000
			}
			out[i] = int32(v)
		}
	}
}

func tableConv(t *[256]int16) func(b []byte, out []int32) {
	return func(b []byte, out []int32) {
		for i := range out {
			out[i] = int32(t[b[i]]) << 16
		}
	}
}

// G.711 expansions, computed as ffmpeg's pcm_tablegen does (ITU-T G.711).
var ulawTable, alawTable = func() (u, a [256]int16) {
	for i := 0; i < 256; i++ {
		uv := ^byte(i)
		t := (int(uv&0x0F) << 3) + 0x84
		t <<= (uv & 0x70) >> 4
		if uv&0x80 != 0 {
			u[i] = int16(0x84 - t)
		} else {
			u[i] = int16(t - 0x84)
		}
		av := byte(i) ^ 0x55
		t = int(av & 0x0F)
		seg := int(av&0x70) >> 4
		if seg != 0 {
			t = (t + t + 1 + 32) << (seg + 2)
		} else {
			t = (t + t + 1) << 3
		}
		if av&0x80 != 0 {
			a[i] = int16(t)
		} else {
			a[i] = int16(-t)
		}
	}
	return
}()

func decodeAIFF(ctx context.Context, r io.ReaderAt, size int64, opt Options, sink Sink) (Info, error) {
	info := Info{Format: "aiff", Decoder: "native"}
	l, err := parseAIFF(r, size)
	if l.aifc {
		info.Format = "aifc"
	}
	if err != nil {
		return info, err
	}
	if l.channels < 1 || l.channels > MaxChannels {
		return info, fmt.Errorf("%d channels: only 1 to %d are supported", l.channels, MaxChannels)
	}
	if math.IsNaN(l.rate) || l.rate < 1 || l.rate > MaxSampleRate {
		return info, fmt.Errorf("sample rate %g Hz is out of range (1 to %d)", l.rate, MaxSampleRate)
	}
	rate := int(math.Round(l.rate))
	conv, bps, bits, codec, err := aiffCodec(l)
	if err != nil {
		return info, err
	}
	info.Codec = codec
	info.SampleRate, info.Channels, info.BitsPerSample = rate, l.channels, bits
	frameBytes := int64(bps * l.channels)
	total := l.dataLen / frameBytes
	if l.truncated {
		info.Warnings = append(info.Warnings, "the SSND chunk claims more bytes than the file holds: the file is truncated")
	}
	if int64(l.frames) < total {
		total = int64(l.frames) // COMM's count wins over trailing bytes
	} else if int64(l.frames) > total && !l.truncated {
		info.Warnings = append(info.Warnings, fmt.Sprintf("COMM declares %d sample frames but the file holds %d: the file is truncated", l.frames, total))
	}
	if total > 0 {
		info.Bitrate = int(float64(frameBytes*8) * float64(rate))
	}
	limit := opt.maxSamples(rate)
	if total > limit {
		info.Partial = true
		info.Warnings = append(info.Warnings, fmt.Sprintf("only the first %s of %s are analysed", fmtSecs(float64(limit)/float64(rate)), fmtSecs(float64(total)/float64(rate))))
		total = limit
	}
	opt.format(info)
	br := bufio.NewReaderSize(io.NewSectionReader(r, l.dataPos, total*frameBytes), 1<<16)
	buf := make([]byte, blockFrames*frameBytes)
	out := make([]int32, blockFrames*l.channels)
	var done int64
	for done < total {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		n := min(int64(blockFrames), total-done)
		got, err := io.ReadFull(br, buf[:n*frameBytes])
		frames := int64(got) / frameBytes
		if frames > 0 {
			conv(buf[:frames*frameBytes], out[:frames*int64(l.channels)])
			if err := sink(out[:frames*int64(l.channels)], l.channels); err != nil {
				return info, err
			}
			done += frames
		}
		if err != nil {
			info.Warnings = append(info.Warnings, "the audio data ends early: the file is truncated")
			break
		}
	}
	info.Samples = done
	return info, nil
}
