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
// a separate, limited process (see package media), reading raw PCM from its
// output in the stream's own precision.
func decodeExternal(ctx context.Context, path string, f media.Format, opt Options, sink Sink) (Info, error) {
	info := Info{Format: f.ID, Decoder: "ffmpeg"}
	name := filepath.Base(path)
	probe, err := media.ProbeFile(ctx, path, f, opt.FFmpeg)
	if err != nil {
		return info, err
	}
	st := probe.Audio()
	if st == nil {
		if probe.Video() != nil {
			return info, fmt.Errorf("%s is %s without sound: there is no waveform to draw", name, media.Describe(f, nil))
		}
		return info, fmt.Errorf("%s is %s with no audio stream ffmpeg can find: the file may be damaged", name, media.Describe(f, nil))
	}
	if st.Channels == 0 || st.SampleRate == 0 {
		return info, fmt.Errorf("ffmpeg finds no playable audio in %s (%s, %d channels at %d Hz): the file is damaged or truncated", name, st.Codec, st.Channels, st.SampleRate)
	}
	if st.Channels < 1 || st.Channels > MaxChannels {
		return info, fmt.Errorf("%s has %d channels: only 1 to %d are supported", name, st.Channels, MaxChannels)
	}
	if st.SampleRate < 1 || st.SampleRate > MaxSampleRate {
		return info, fmt.Errorf("%s: sample rate %d Hz is out of range (1 to %d)", name, st.SampleRate, MaxSampleRate)
	}
	info.Codec, _, _ = strings.Cut(st.CodecName, " (") // "AAC (Advanced Audio Coding)" → "AAC"
	if info.Codec == "" {
		info.Codec = st.Codec
	}
	info.SampleRate, info.Channels, info.BitsPerSample = st.SampleRate, st.Channels, st.Bits
	info.Bitrate = probe.Bitrate
	opt.format(info)

	rate, channels := st.SampleRate, st.Channels
	limit := opt.maxSamples(rate)
	pcm := media.PCMFor(st.SampleFmt)
	conv := rawConv(pcm)
	frameBytes := pcm.Bytes * channels
	var done int64
	read := func(r io.Reader) error {
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
	maxSecs := float64(limit)/float64(rate) + 1
	diag, err := media.DecodeAudio(ctx, path, f, *st, pcm, maxSecs, opt.FFmpeg, read)
	info.Samples = done
	if diag != "" {
		info.Warnings = append(info.Warnings, "ffmpeg decoded around damaged data: "+diag)
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
		return info, fmt.Errorf("ffmpeg decoded no audio from %s (%s): the file may be damaged or empty", name, info.Codec)
	}
	if done >= limit {
		info.Partial = true
		total := ""
		if probe.Duration > 0 {
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

// rawConv converts ffmpeg's raw little-endian output to the int32 range,
// so that the top 16 bits are what ffmpeg's own 16-bit output holds:
// integers are shifted up (s32 → s16 is a truncating shift in ffmpeg too),
// floats are rounded as ffmpeg's lrintf(x*32768).
func rawConv(p media.PCMFormat) func(b []byte, out []int32) {
	switch p.Name {
	case "s16le":
		return func(b []byte, out []int32) {
			for i := range out {
				out[i] = int32(int16(binary.LittleEndian.Uint16(b[2*i:]))) << 16
			}
		}
	case "s32le":
		return func(b []byte, out []int32) {
			for i := range out {
				out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	case "f64le":
		return func(b []byte, out []int32) {
			for i := range out {
				out[i] = floatToInt32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
	}
	return func(b []byte, out []int32) {
		for i := range out {
			out[i] = floatToInt32(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))))
		}
	}
}
