// Package mp3 scans, decodes and cuts MPEG audio Layer III files. A frame
// scanner of its own sits in front of the go-mp3 decoder (a tuned copy in internal/gomp3): it checks
// ID3 tag sizes, resynchronises over junk, reads the Xing/Info and LAME headers
// (gapless encoder delay and padding) and splits the stream at frame
// boundaries so long files decode in parallel segments.
package mp3

import (
	"errors"
	"fmt"
	"time"
)

// Frame is one MPEG audio frame of the file.
type Frame struct {
	Off    int64  // byte offset in the file
	Size   int32  // bytes, header included
	Header uint32 // the 4-byte frame header
}

// Xing is what the Xing/Info (or VBRI) header and the LAME tag say.
type Xing struct {
	Tag     string `json:"tag"` // "Xing", "Info" or "VBRI"
	Frames  int64  `json:"frames,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	Encoder string `json:"encoder,omitempty"` // e.g. "LAME3.100"
	Delay   int    `json:"delay"`             // encoder delay in samples (LAME tag)
	Padding int    `json:"padding"`           // end padding in samples (LAME tag)
	Gapless bool   `json:"gapless"`           // a LAME tag with delay and padding was found
}

// Stream is the result of Scan: the audio frames of a file and their format.
type Stream struct {
	Version         string // "1", "2" or "2.5"
	Layer           int
	SampleRate      int
	Channels        int
	SamplesPerFrame int
	Frames          []Frame // audio frames, without the Xing/Info frame
	Xing            *Xing
	ID3Size         int64 // bytes of leading ID3v2 tags
	Warnings        []string
	dropped         int // warnings not kept
}

// Errors callers can test for.
var (
	ErrNoFrames    = errors.New("no MPEG audio frames found")
	ErrUnsupported = errors.New("unsupported MPEG audio variant")
)

const maxWarnings = 8

func (s *Stream) warn(format string, args ...any) {
	if len(s.Warnings) >= maxWarnings {
		s.dropped++
		return
	}
	s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...))
}

func (s *Stream) finishWarnings() {
	if s.dropped > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d more problems of the same kind", s.dropped))
		s.dropped = 0
	}
}

// header is a parsed 4-byte frame header.
type header struct {
	raw        uint32
	version    int // 1, 2, 25
	layer      int // 1..3
	crc        bool
	bitrate    int // bits per second
	sampleRate int
	padding    int
	mono       bool
	size       int
	spf        int // samples per frame
}

var (
	bitratesV1L3 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	bitratesV2L3 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	bitratesV1L2 = [16]int{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0}
	bitratesV1L1 = [16]int{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0}
	bitratesV2L1 = [16]int{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0}
	// rates by the header's version bits (0 MPEG-2.5, 2 MPEG-2, 3 MPEG-1):
	// an array, not a map, as this runs for every frame Scan meets.
	rates = [4][3]int{0: {11025, 12000, 8000}, 2: {22050, 24000, 16000}, 3: {44100, 48000, 32000}}
)

// parseHeader decodes b[0:4]; ok is false for anything that is not a frame
// header with a known bitrate (free format is refused).
func parseHeader(b []byte) (h header, ok bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return h, false
	}
	raw := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	h.raw = raw
	switch (raw >> 19) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return h, false
	}
	switch (raw >> 17) & 3 {
	case 1:
		h.layer = 3
	case 2:
		h.layer = 2
	case 3:
		h.layer = 1
	default:
		return h, false
	}
	h.crc = (raw>>16)&1 == 0
	bi := int((raw >> 12) & 0xF)
	si := int((raw >> 10) & 3)
	if bi == 0 || bi == 15 || si == 3 || raw&3 == 2 {
		return h, false
	}
	h.sampleRate = rates[(raw>>19)&3][si]
	h.padding = int((raw >> 9) & 1)
	h.mono = (raw>>6)&3 == 3
	switch {
	case h.layer == 3 && h.version == 1:
		h.bitrate = bitratesV1L3[bi] * 1000
		h.spf = 1152
		h.size = 144*h.bitrate/h.sampleRate + h.padding
	case h.layer == 3:
		h.bitrate = bitratesV2L3[bi] * 1000
		h.spf = 576
		h.size = 72*h.bitrate/h.sampleRate + h.padding
	case h.layer == 2:
		h.bitrate = bitratesV1L2[bi] * 1000
		if h.version != 1 {
			h.bitrate = bitratesV2L3[bi] * 1000
		}
		h.spf = 1152
		h.size = 144*h.bitrate/h.sampleRate + h.padding
	default:
		h.bitrate = bitratesV1L1[bi] * 1000
		if h.version != 1 {
			h.bitrate = bitratesV2L1[bi] * 1000
		}
		h.spf = 384
		h.size = (12*h.bitrate/h.sampleRate + h.padding) * 4
	}
	return h, h.size > 4
}

// sideInfoSize is the Layer III side information size after the header (and CRC).
func (h header) sideInfoSize() int {
	switch {
	case h.version == 1 && h.mono:
		return 17
	case h.version == 1:
		return 32
	case h.mono:
		return 9
	default:
		return 17
	}
}

// compatible reports whether h can follow ref in one stream.
func compatible(ref, h header) bool {
	return h.version == ref.version && h.layer == ref.layer && h.sampleRate == ref.sampleRate && h.mono == ref.mono
}

// frameAt checks for a frame at pos compatible with ref (when ref is set) whose
// successor is a compatible frame too, or the end of the data, or a trailing tag.
func frameAt(data []byte, pos int, ref *header, depth int) (header, bool) {
	h, ok := parseHeader(data[pos:])
	if !ok || (ref != nil && !compatible(*ref, h)) {
		return h, false
	}
	next := pos + h.size
	if next > len(data) {
		return h, false
	}
	for i := 0; i < depth; i++ {
		if next == len(data) || isTrailingTag(data, next) {
			return h, true
		}
		h2, ok := parseHeader(data[next:])
		if !ok || !compatible(h, h2) || next+h2.size > len(data) {
			return h, false
		}
		next += h2.size
	}
	return h, true
}

// isTrailingTag reports an ID3v1, APEv2 or Lyrics3 tag at pos.
func isTrailingTag(data []byte, pos int) bool {
	rest := data[pos:]
	switch {
	case len(rest) == 128 && string(rest[:3]) == "TAG":
		return true
	case len(rest) >= 32 && string(rest[:8]) == "APETAGEX":
		return true
	case len(rest) >= 11 && string(rest[:11]) == "LYRICSBEGIN":
		return true
	case len(rest) >= 10 && string(rest[:3]) == "ID3": // ID3v2 appended at the end
		return true
	}
	return false
}

// skipID3 returns the size of the ID3v2 tags at the start of data, checking
// each declared size against the file instead of trusting it.
func skipID3(data []byte, s *Stream) int {
	pos := 0
	for len(data)-pos >= 10 && string(data[pos:pos+3]) == "ID3" {
		b := data[pos:]
		if b[3] == 0xFF || b[4] == 0xFF || b[6]|b[7]|b[8]|b[9] >= 0x80 {
			s.warn("ID3 tag at offset %d has a damaged header; skipping it by searching for audio", pos)
			return pos + 10
		}
		size := int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9])
		total := 10 + size
		if b[5]&0x10 != 0 {
			total += 10 // footer
		}
		if pos+total > len(data) {
			s.warn("ID3 tag claims %d bytes but the file has only %d; ignoring its size", size, len(data)-pos)
			return pos + 10
		}
		pos += total
	}
	return pos
}

// Scan finds the audio frames of an MP3 file held in data. It never trusts a
// declared size: every frame must be followed by another compatible frame.
func Scan(data []byte) (*Stream, error) {
	s := &Stream{}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNoFrames)
	}
	start := skipID3(data, s)
	s.ID3Size = int64(start)
	// The first frame needs two compatible successors (one when the file is tiny).
	first := -1
	var ref header
	for p := start; p+4 <= len(data); p++ {
		if data[p] != 0xFF {
			continue
		}
		if h, ok := frameAt(data, p, nil, 2); ok {
			first, ref = p, h
			break
		}
	}
	if first < 0 {
		return nil, fmt.Errorf("%w: not an MP3, or damaged beyond repair", ErrNoFrames)
	}
	if first > start {
		s.warn("skipped %d bytes of junk before the first audio frame", first-start)
	}
	s.Layer = ref.layer
	s.SampleRate = ref.sampleRate
	s.Channels = 2
	if ref.mono {
		s.Channels = 1
	}
	s.SamplesPerFrame = ref.spf
	switch ref.version {
	case 1:
		s.Version = "1"
	case 2:
		s.Version = "2"
	default:
		s.Version = "2.5"
	}
	pos := first
	for pos+4 <= len(data) {
		h, ok := parseHeader(data[pos:])
		if ok && compatible(ref, h) {
			if pos+h.size > len(data) {
				s.warn("the last frame is truncated (%d of %d bytes); the file was cut short", len(data)-pos, h.size)
				break
			}
			s.Frames = append(s.Frames, Frame{Off: int64(pos), Size: int32(h.size), Header: h.raw})
			pos += h.size
			continue
		}
		if isTrailingTag(data, pos) {
			break
		}
		next := -1
		for p := pos + 1; p+4 <= len(data); p++ {
			if data[p] != 0xFF {
				continue
			}
			if _, ok := frameAt(data, p, &ref, 1); ok {
				next = p
				break
			}
		}
		if next < 0 {
			if len(data)-pos > 4 {
				s.warn("ignored %d bytes of trailing data at offset %d", len(data)-pos, pos)
			}
			break
		}
		s.warn("skipped %d damaged bytes at offset %d", next-pos, pos)
		pos = next
	}
	s.finishWarnings()
	if len(s.Frames) == 0 {
		return nil, fmt.Errorf("%w: no complete frames", ErrNoFrames)
	}
	s.readXing(data)
	if ref.layer != 3 {
		return s, fmt.Errorf("%w: MPEG-%s Layer %d (only Layer III is supported)", ErrUnsupported, s.Version, ref.layer)
	}
	return s, nil
}

// readXing parses a Xing/Info or VBRI header in the first frame and drops that
// frame from the audio frames: it carries no sound.
func (s *Stream) readXing(data []byte) {
	f := s.Frames[0]
	fr := data[f.Off : f.Off+int64(f.Size)]
	h, _ := parseHeader(fr)
	if h.layer != 3 {
		return
	}
	off := 4 + h.sideInfoSize()
	if h.crc {
		off += 2
	}
	be32 := func(b []byte) int64 { return int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3]) }
	if off+8 <= len(fr) && (string(fr[off:off+4]) == "Xing" || string(fr[off:off+4]) == "Info") {
		x := &Xing{Tag: string(fr[off : off+4])}
		flags := be32(fr[off+4:])
		p := off + 8
		if flags&1 != 0 && p+4 <= len(fr) {
			x.Frames = be32(fr[p:])
			p += 4
		}
		if flags&2 != 0 && p+4 <= len(fr) {
			x.Bytes = be32(fr[p:])
			p += 4
		}
		if flags&4 != 0 {
			p += 100
		}
		if flags&8 != 0 {
			p += 4
		}
		if p+24 <= len(fr) {
			enc := string(fr[p : p+4])
			if enc == "LAME" || enc == "Lavf" || enc == "Lavc" {
				x.Encoder = printable(fr[p : p+9])
				v := int(fr[p+21])<<16 | int(fr[p+22])<<8 | int(fr[p+23])
				x.Delay, x.Padding = v>>12, v&0xFFF
				x.Gapless = enc == "LAME"
			}
		}
		s.Xing = x
		s.Frames = s.Frames[1:]
		return
	}
	if 36+18 <= len(fr) && string(fr[36:40]) == "VBRI" {
		s.Xing = &Xing{Tag: "VBRI", Bytes: be32(fr[46:]), Frames: be32(fr[50:])}
		s.Frames = s.Frames[1:]
	}
}

func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7F {
			out = append(out, c)
		}
	}
	return string(out)
}

// decoderDelay is the synthesis delay of a Layer III decoder, in samples.
const decoderDelay = 529

// Trim returns how many decoded samples (per channel) to drop at the start and
// how many to keep, so the output matches what a gapless player plays.
func (s *Stream) Trim() (skip, keep int64) {
	raw := int64(len(s.Frames)) * int64(s.SamplesPerFrame)
	if s.Xing == nil || !s.Xing.Gapless {
		return 0, raw
	}
	skip = int64(s.Xing.Delay) + decoderDelay
	end := raw - int64(s.Xing.Padding) + decoderDelay
	if end > raw {
		end = raw
	}
	if skip > end {
		return end, 0
	}
	return skip, end - skip
}

// Samples is the number of samples per channel a player plays.
func (s *Stream) Samples() int64 { _, n := s.Trim(); return n }

// Duration is the playing time.
func (s *Stream) Duration() time.Duration {
	return time.Duration(float64(s.Samples()) / float64(s.SampleRate) * float64(time.Second))
}

// Bitrate is the average bitrate in bits per second.
func (s *Stream) Bitrate() int {
	if len(s.Frames) == 0 {
		return 0
	}
	var bytes int64
	for _, f := range s.Frames {
		bytes += int64(f.Size)
	}
	secs := float64(len(s.Frames)*s.SamplesPerFrame) / float64(s.SampleRate)
	return int(float64(bytes*8)/secs + 0.5)
}

// VBR reports whether frames use different bitrates.
func (s *Stream) VBR() bool {
	if len(s.Frames) == 0 {
		return false
	}
	b := (s.Frames[0].Header >> 12) & 0xF
	for _, f := range s.Frames {
		if (f.Header>>12)&0xF != b {
			return true
		}
	}
	return false
}
