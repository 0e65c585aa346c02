// Package audio decodes audio files (MP3, WAV, FLAC) into one sample format
// and analyses them: waveform peaks in BBC audiowaveform's formats, EBU R128
// loudness, and PNG waveform images.
//
// Every decoder runs under recover and a budget (file size, duration), so a
// corrupt or hostile file yields an error or a partial result with a warning,
// never a panic or unbounded memory.
package audio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"
)

// Info describes an audio file.
type Info struct {
	Format        string   `json:"format"` // "mp3", "wav", "flac"
	Codec         string   `json:"codec"`  // e.g. "MPEG-1 Layer III", "PCM 24-bit", "FLAC 16-bit"
	SampleRate    int      `json:"sampleRate"`
	Channels      int      `json:"channels"`
	BitsPerSample int      `json:"bitsPerSample,omitempty"`
	Samples       int64    `json:"samples"`  // per channel
	Duration      float64  `json:"duration"` // seconds
	Bitrate       int      `json:"bitrate"`  // bits per second (average)
	VBR           bool     `json:"vbr,omitempty"`
	Encoder       string   `json:"encoder,omitempty"`
	Partial       bool     `json:"partial,omitempty"` // the budget stopped decoding early
	Warnings      []string `json:"warnings,omitempty"`
}

// Sink receives decoded audio in order: interleaved samples scaled to the full
// int32 range (a 16-bit sample s arrives as s<<16). The slice is reused.
type Sink func(samples []int32, channels int) error

// Options bound a decode.
type Options struct {
	Workers     int           // MP3 parallel segments; 0 = all cores
	MaxDuration time.Duration // decode at most this much audio (0 = DefaultMaxDuration); the rest is a warning
	MaxFileSize int64         // refuse bigger MP3 files, which are read into memory (0 = DefaultMaxFileSize)
	OnFormat    func(Info)    // called once with the header's format before the first samples
}

// Budgets.
const (
	DefaultMaxDuration = 4 * time.Hour
	DefaultMaxFileSize = 1 << 30
	MaxChannels        = 32
	MaxSampleRate      = 768000
)

// ErrUnknownFormat means the content is none of the supported formats.
var ErrUnknownFormat = errors.New("not a supported audio file (MP3, WAV or FLAC)")

func (o Options) maxSamples(rate int) int64 {
	d := o.MaxDuration
	if d <= 0 {
		d = DefaultMaxDuration
	}
	return int64(d.Seconds() * float64(rate))
}

// Sniff tells the format from the first bytes: "wav", "flac", "mp3" or "".
func Sniff(head []byte) string {
	switch {
	case len(head) >= 12 && (string(head[:4]) == "RIFF" || string(head[:4]) == "RF64") && string(head[8:12]) == "WAVE":
		return "wav"
	case len(head) >= 4 && string(head[:4]) == "fLaC":
		return "flac"
	case len(head) >= 10 && string(head[:3]) == "ID3":
		// FLAC files sometimes carry an ID3v2 tag: look past it.
		size := int(head[6]&0x7F)<<21 | int(head[7]&0x7F)<<14 | int(head[8]&0x7F)<<7 | int(head[9]&0x7F)
		if 10+size+4 <= len(head) && string(head[10+size:10+size+4]) == "fLaC" {
			return "flac"
		}
		return "mp3"
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0:
		return "mp3"
	}
	return ""
}

// Decode decodes the audio file at path, calling sink with its samples in
// order, and returns what it learned about the file. The format is taken from
// the content, not the extension.
func Decode(ctx context.Context, path string, opt Options, sink Sink) (info Info, err error) {
	f, err := os.Open(path)
	if err != nil {
		return info, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return info, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Size() == 0 {
		return info, fmt.Errorf("%s is empty (0 bytes): nothing to preview", filepath.Base(path))
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(4096)
	format := Sniff(head)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode %s: the %s decoder crashed on damaged data (%v); the file is probably corrupt", filepath.Base(path), format, r)
			if os.Getenv("ATELIER_DEBUG_PANICS") != "" {
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	switch format {
	case "wav":
		info, err = decodeWAV(ctx, br, st.Size(), opt, sink)
	case "flac":
		info, err = decodeFLAC(ctx, br, st.Size(), opt, sink)
	case "mp3":
		maxSize := opt.MaxFileSize
		if maxSize <= 0 {
			maxSize = DefaultMaxFileSize
		}
		if st.Size() > maxSize {
			return info, fmt.Errorf("%s is %d MiB, over the %d MiB limit for MP3 previews", filepath.Base(path), st.Size()>>20, maxSize>>20)
		}
		data, rerr := io.ReadAll(br)
		if rerr != nil {
			return info, fmt.Errorf("read %s: %w", path, rerr)
		}
		info, err = decodeMP3(ctx, data, opt, sink)
	default:
		return info, fmt.Errorf("%s: %w; its first bytes match no known format — is the extension wrong?", filepath.Base(path), ErrUnknownFormat)
	}
	if err != nil {
		return info, fmt.Errorf("decode %s: %w", filepath.Base(path), err)
	}
	if info.SampleRate > 0 {
		info.Duration = float64(info.Samples) / float64(info.SampleRate)
	}
	return info, nil
}

// DecodeBytes is Decode for data in memory (fuzzing, tests).
func DecodeBytes(ctx context.Context, data []byte, opt Options, sink Sink) (info Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder crashed on damaged data (%v)", r)
		}
	}()
	if len(data) == 0 {
		return info, errors.New("empty input: nothing to preview")
	}
	switch Sniff(data) {
	case "wav":
		info, err = decodeWAV(ctx, bufio.NewReader(bytes.NewReader(data)), int64(len(data)), opt, sink)
	case "flac":
		info, err = decodeFLAC(ctx, bufio.NewReader(bytes.NewReader(data)), int64(len(data)), opt, sink)
	case "mp3":
		info, err = decodeMP3(ctx, data, opt, sink)
	default:
		return info, ErrUnknownFormat
	}
	if err == nil && info.SampleRate > 0 {
		info.Duration = float64(info.Samples) / float64(info.SampleRate)
	}
	return info, err
}

func (o Options) format(i Info) {
	if o.OnFormat != nil {
		o.OnFormat(i)
	}
}

// blockFrames is how many sample frames decoders hand to the sink at a time.
const blockFrames = 4096
