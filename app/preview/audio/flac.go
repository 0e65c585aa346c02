package audio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mewkiz/flac"
)

func decodeFLAC(ctx context.Context, r *bufio.Reader, fileSize int64, opt Options, sink Sink) (Info, error) {
	info := Info{Format: "flac"}
	stream, err := flac.New(r)
	if err != nil {
		return info, fmt.Errorf("read FLAC header: %w", err)
	}
	si := stream.Info
	if si == nil {
		return info, errors.New("FLAC stream info is missing")
	}
	channels, rate, bits := int(si.NChannels), int(si.SampleRate), int(si.BitsPerSample)
	if channels < 1 || channels > 8 || rate < 1 || rate > MaxSampleRate || bits < 4 || bits > 32 {
		return info, fmt.Errorf("FLAC stream info is implausible (%d channels, %d Hz, %d bits)", channels, rate, bits)
	}
	info.Codec = fmt.Sprintf("FLAC %d-bit", bits)
	info.SampleRate, info.Channels, info.BitsPerSample = rate, channels, bits
	opt.format(info)
	limit := opt.maxSamples(rate)
	out := make([]int32, 0, blockFrames*channels)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return info, err
		}
		fr, err := stream.ParseNext()
		if err == io.EOF {
			break
		}
		if err != nil {
			if done == 0 {
				return info, fmt.Errorf("decode first FLAC frame: %w", err)
			}
			info.Warnings = append(info.Warnings, fmt.Sprintf("decoding stopped at %s: %v (damaged or truncated file)", fmtSecs(float64(done)/float64(rate)), err))
			break
		}
		if len(fr.Subframes) != channels {
			info.Warnings = append(info.Warnings, "a FLAC frame has a different channel count; decoding stopped there")
			break
		}
		n := len(fr.Subframes[0].Samples)
		for _, sf := range fr.Subframes {
			if len(sf.Samples) != n {
				return info, errors.New("FLAC subframes of unequal length")
			}
		}
		shift := uint(32 - int(fr.BitsPerSample))
		if fr.BitsPerSample == 0 || fr.BitsPerSample > 32 {
			shift = uint(32 - bits)
		}
		if int64(n) > limit-done {
			n = int(limit - done)
			info.Partial = true
		}
		out = out[:0]
		for i := 0; i < n; i++ {
			for c := 0; c < channels; c++ {
				out = append(out, fr.Subframes[c].Samples[i]<<shift)
			}
		}
		if n > 0 {
			if err := sink(out, channels); err != nil {
				return info, err
			}
		}
		done += int64(n)
		if info.Partial {
			info.Warnings = append(info.Warnings, fmt.Sprintf("only the first %s are analysed", fmtSecs(float64(limit)/float64(rate))))
			break
		}
	}
	info.Samples = done
	if done > 0 {
		info.Bitrate = int(float64(fileSize*8) / (float64(done) / float64(rate)))
	}
	if si.NSamples > 0 && uint64(done) < si.NSamples && !info.Partial {
		info.Warnings = append(info.Warnings, fmt.Sprintf("the stream declares %d samples but has %d: the file is truncated", si.NSamples, done))
	}
	return info, nil
}
