package audio

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"atelier/app/preview/media"
)

// decodeExternal decodes the first audio stream of path with ffmpeg, run as
// a separate, limited process (see package media): one process, which
// describes the file on its error output and writes the samples as float64
// (exact for every decoder's own sample format).
func decodeExternal(ctx context.Context, path string, f media.Format, opt Options, sink Sink) (Info, error) {
	info := Info{Format: f.ID, Decoder: "ffmpeg"}
	name := filepath.Base(path)
	var done, limit int64
	var rate int
	maxSecs := opt.maxSamples(1) + 1 // the duration budget in seconds, and a second more
	read := func(h media.AudioHeader, r io.Reader) error {
		st := h.Stream
		rate = h.Rate
		channels := h.Channels
		if channels < 1 || channels > MaxChannels {
			return fmt.Errorf("%s has %d channels: only 1 to %d are supported", name, channels, MaxChannels)
		}
		if rate < 1 || rate > MaxSampleRate {
			return fmt.Errorf("%s: sample rate %d Hz is out of range (1 to %d)", name, rate, MaxSampleRate)
		}
		info.Codec = st.CodecName
		if info.Codec == "" {
			info.Codec = "audio"
		}
		info.SampleRate, info.Channels, info.BitsPerSample = rate, channels, st.Bits
		info.Bitrate = h.Probe.Bitrate
		opt.format(info)
		limit = opt.maxSamples(rate)
		conv := rawConv(h.Integer)
		frameBytes := 8 * channels
		br := bufio.NewReaderSize(r, 1<<16)
		buf := make([]byte, blockFrames*frameBytes)
		out := make([]int32, blockFrames*channels)
		for done < limit {
			if err := ctx.Err(); err != nil {
				return err
			}
			want := min(int64(blockFrames), limit-done)
			got, err := io.ReadFull(br, buf[:want*int64(frameBytes)])
			frames := got / frameBytes
			if frames > 0 {
				conv(buf[:frames*frameBytes], out[:frames*channels])
				if err := sink(out[:frames*channels], channels); err != nil {
					return err
				}
				done += int64(frames)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return media.ErrStop // the budget is spent: stop ffmpeg
	}
	probe, diag, err := media.DecodeAudioOnce(ctx, path, f, float64(maxSecs), opt.FFmpeg, read)
	info.Samples = done
	if diag != "" {
		info.Warnings = append(info.Warnings, "ffmpeg decoded around damaged data: "+diag)
	}
	if errors.Is(err, media.ErrNoStream) && probe != nil {
		if probe.Video() != nil {
			return info, fmt.Errorf("%s is %s without sound: there is no waveform to draw", name, media.Describe(f, nil))
		}
		return info, fmt.Errorf("%s is %s with no audio stream ffmpeg can find: the file may be damaged", name, media.Describe(f, nil))
	}
	if err != nil {
		// A time-out is an error, never a partial waveform: the decoder
		// was stopped, not the data.
		if ctx.Err() != nil || errors.Is(err, media.ErrTimedOut) {
			return info, err
		}
		if done == 0 {
			if !strings.Contains(err.Error(), name) {
				err = fmt.Errorf("decode %s: %w", name, err)
			}
			return info, err
		}
		info.Warnings = append(info.Warnings, fmt.Sprintf("decoding stopped at %s: %v", fmtSecs(float64(done)/float64(rate)), err))
	}
	if done == 0 {
		codec := info.Codec
		if codec == "" {
			codec = media.Describe(f, nil)
		}
		return info, fmt.Errorf("ffmpeg decoded no audio from %s (%s): the file may be damaged or empty", name, codec)
	}
	if done >= limit {
		info.Partial = true
		total := ""
		if probe != nil && probe.Duration > 0 {
			total = " of " + fmtSecs(probe.Duration)
		}
		info.Warnings = append(info.Warnings, fmt.Sprintf("only the first %s%s are analysed", fmtSecs(float64(done)/float64(rate)), total))
	}
	if info.Bitrate == 0 {
		info.Bitrate = int(float64(fileSizeOf(path)*8) / (float64(done) / float64(rate)))
	}
	return info, nil
}

func fileSizeOf(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// rawConv converts ffmpeg's float64 output to the int32 range so that the
// top 16 bits are what ffmpeg's own 16-bit output holds: an integer
// decoder's samples come back exactly (x·2³¹; s32 → s16 is a truncating
// shift in ffmpeg too), a float decoder's are rounded as ffmpeg's
// lrintf(x*32768).
func rawConv(integer bool) func(b []byte, out []int32) {
	if integer {
		return func(b []byte, out []int32) {
			for i := range out {
				x := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])) * 2147483648
				out[i] = int32(min(max(x, math.MinInt32), math.MaxInt32))
			}
		}
	}
	return func(b []byte, out []int32) {
		for i := range out {
			out[i] = floatToInt32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	}
}
