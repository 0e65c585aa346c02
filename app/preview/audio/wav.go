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

// WAV format tags.
const (
	wavePCM        = 1
	waveFloat      = 3
	waveExtensible = 0xFFFE
)

func decodeWAV(ctx context.Context, r *bufio.Reader, fileSize int64, opt Options, sink Sink) (Info, error) {
	info := Info{Format: "wav"}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return info, errors.New("truncated RIFF header")
	}
	rf64 := string(hdr[:4]) == "RF64"
	var (
		haveFmt    bool
		format     uint16
		channels   int
		rate       int
		bits       int
		align      int
		dataSize64 int64 = -1
		pos        int64 = 12
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return info, errors.New("no fmt chunk: not a complete WAV file")
			}
			return info, errors.New("no data chunk: the WAV file holds no audio")
		}
		pos += 8
		id := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch id {
		case "ds64":
			if size < 24 || size > 1<<16 {
				return info, fmt.Errorf("bad ds64 chunk (%d bytes)", size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return info, errors.New("truncated ds64 chunk")
			}
			dataSize64 = int64(binary.LittleEndian.Uint64(b[8:]))
			pos += int64(len(b))
			continue
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return info, fmt.Errorf("bad fmt chunk (%d bytes)", size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, b); err != nil {
				return info, errors.New("truncated fmt chunk")
			}
			pos += int64(len(b))
			format = binary.LittleEndian.Uint16(b[0:])
			channels = int(binary.LittleEndian.Uint16(b[2:]))
			rate = int(binary.LittleEndian.Uint32(b[4:]))
			align = int(binary.LittleEndian.Uint16(b[12:]))
			bits = int(binary.LittleEndian.Uint16(b[14:]))
			if format == waveExtensible {
				if size < 40 {
					return info, errors.New("WAVE_FORMAT_EXTENSIBLE fmt chunk is too short")
				}
				if vb := int(binary.LittleEndian.Uint16(b[18:])); vb > 0 && vb <= bits {
					_ = vb // valid bits: samples are still stored in containers of `bits`
				}
				format = binary.LittleEndian.Uint16(b[24:]) // first two bytes of the sub-format GUID
			}
			haveFmt = true
			continue
		case "data":
			if !haveFmt {
				return info, errors.New("data chunk before the fmt chunk")
			}
			if rf64 && size == 0xFFFFFFFF && dataSize64 >= 0 {
				size = dataSize64
			}
			return streamWAV(ctx, r, info, format, channels, rate, bits, align, size, fileSize-pos, opt, sink)
		}
		// Skip other chunks (LIST, fact, bext, ...), padded to even size.
		skip := size + size&1
		if skip > fileSize-pos {
			return info, fmt.Errorf("chunk %q claims %d bytes, past the end of the file", printableID(id), size)
		}
		if _, err := r.Discard(int(skip)); err != nil {
			return info, fmt.Errorf("truncated %q chunk", printableID(id))
		}
		pos += skip
	}
}

func printableID(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '?'
		}
	}
	return string(b)
}

func streamWAV(ctx context.Context, r io.Reader, info Info, format uint16, channels, rate, bits, align int, size, left int64, opt Options, sink Sink) (Info, error) {
	if channels < 1 || channels > MaxChannels {
		return info, fmt.Errorf("%d channels: only 1 to %d are supported", channels, MaxChannels)
	}
	if rate < 1 || rate > MaxSampleRate {
		return info, fmt.Errorf("sample rate %d Hz is out of range (1 to %d)", rate, MaxSampleRate)
	}
	var conv func(b []byte, out []int32)
	switch {
	case format == wavePCM && bits == 8:
		info.Codec = "PCM 8-bit"
		conv = func(b []byte, out []int32) {
			for i := range out {
				out[i] = (int32(b[i]) - 128) << 24
			}
		}
	case format == wavePCM && bits == 16:
		info.Codec = "PCM 16-bit"
		conv = func(b []byte, out []int32) {
			for i := range out {
				out[i] = int32(int16(binary.LittleEndian.Uint16(b[2*i:]))) << 16
			}
		}
	case format == wavePCM && bits == 24:
		info.Codec = "PCM 24-bit"
		conv = func(b []byte, out []int32) {
			for i := range out {
				out[i] = int32(uint32(b[3*i])<<8 | uint32(b[3*i+1])<<16 | uint32(b[3*i+2])<<24)
			}
		}
	case format == wavePCM && bits == 32:
		info.Codec = "PCM 32-bit"
		conv = func(b []byte, out []int32) {
			for i := range out {
				out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	case format == waveFloat && bits == 32:
		info.Codec = "IEEE float 32-bit"
		conv = func(b []byte, out []int32) {
			for i := range out {
				out[i] = floatToInt32(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))))
			}
		}
	case format == waveFloat && bits == 64:
		info.Codec = "IEEE float 64-bit"
		conv = func(b []byte, out []int32) {
			for i := range out {
				out[i] = floatToInt32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
	default:
		return info, errCompressed{fmt.Sprintf("WAV encoding %#x with %d bits per sample", format, bits)}
	}
	bps := bits / 8
	frameBytes := bps * channels
	if align != frameBytes {
		info.Warnings = append(info.Warnings, fmt.Sprintf("block align %d does not match %d channels × %d bits; using %d", align, channels, bits, frameBytes))
	}
	info.SampleRate, info.Channels, info.BitsPerSample = rate, channels, bits
	info.Bitrate = rate * channels * bits
	if size == 0 || size == 0xFFFFFFFF || size > left {
		if size != 0 && size != 0xFFFFFFFF {
			info.Warnings = append(info.Warnings, fmt.Sprintf("the data chunk claims %d bytes but only %d are in the file: the file is truncated", size, left))
		}
		size = left
	}
	total := size / int64(frameBytes)
	limit := opt.maxSamples(rate)
	if total > limit {
		info.Partial = true
		info.Warnings = append(info.Warnings, fmt.Sprintf("only the first %s of %s are analysed", fmtSecs(float64(limit)/float64(rate)), fmtSecs(float64(total)/float64(rate))))
		total = limit
	}
	opt.format(info)
	buf := make([]byte, blockFrames*frameBytes)
	out := make([]int32, blockFrames*channels)
	var done int64
	for done < total {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		n := min(int64(blockFrames), total-done)
		got, err := io.ReadFull(r, buf[:n*int64(frameBytes)])
		frames := got / frameBytes
		if frames > 0 {
			conv(buf[:frames*frameBytes], out[:frames*channels])
			if err := sink(out[:frames*channels], channels); err != nil {
				return info, err
			}
			done += int64(frames)
		}
		if err != nil {
			info.Warnings = append(info.Warnings, "the audio data ends early: the file is truncated")
			break
		}
	}
	info.Samples = done
	return info, nil
}

// floatToInt32 scales a float sample to the int32 range so that the top 16
// bits round like ffmpeg's float to 16-bit conversion (lrintf(x*32768)).
func floatToInt32(x float64) int32 {
	if math.IsNaN(x) {
		return 0
	}
	v := math.Floor(x*2147483648 + 32768)
	if v >= math.MaxInt32 {
		return math.MaxInt32
	}
	if v <= math.MinInt32 {
		return math.MinInt32
	}
	return int32(v)
}

func fmtSecs(s float64) string {
	h := int(s) / 3600
	m := int(s) % 3600 / 60
	sec := int(s) % 60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}
