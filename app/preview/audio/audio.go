// Package audio decodes audio files (MP3, WAV, AIFF, FLAC natively; Ogg
// Vorbis, Opus, M4A/AAC and the sound of videos through ffmpeg) into one sample format
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

	"atelier/app/preview/media"
)

// Info describes an audio file.
type Info struct {
	Format        string   `json:"format"`            // "mp3", "wav", "flac", "aiff", "aifc", "ogg-vorbis", "ogg-opus", "m4a", ...: media.Format IDs
	Decoder       string   `json:"decoder,omitempty"` // "ffmpeg" when decoded by ffmpeg, else in process
	Codec         string   `json:"codec"`             // e.g. "MPEG-1 Layer III", "PCM 24-bit", "FLAC 16-bit"
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
	FFmpeg      media.Limits  // bounds of the ffmpeg process for the formats it decodes
}

// Budgets.
const (
	DefaultMaxDuration = 4 * time.Hour
	DefaultMaxFileSize = 1 << 30
	MaxChannels        = 32
	MaxSampleRate      = 768000
)

// ErrUnknownFormat means the content is no audio Atelier can decode.
var ErrUnknownFormat = errors.New("not an audio format Atelier can preview")

func (o Options) maxSamples(rate int) int64 {
	d := o.MaxDuration
	if d <= 0 {
		d = DefaultMaxDuration
	}
	return int64(d.Seconds() * float64(rate))
}

// Sniff tells the format from the first bytes: the media.Format ID ("wav",
// "flac", "mp3", "aiff", "aifc", "ogg-vorbis", "ogg-opus", "m4a", "mp4"...)
// of anything Decode reads (natively or through ffmpeg), or "".
func Sniff(head []byte) string {
	f := media.Sniff(head)
	if f.Native || f.FFmpeg() {
		return f.ID
	}
	return ""
}

// unsupported is the error for content Decode does not read: it names
// what the content is, from its magic bytes.
func unsupported(name string, f media.Format, head []byte) error {
	switch {
	case f == media.MIDI:
		return fmt.Errorf("%s is %s: Atelier draws waveforms of recorded sound, and MIDI holds notes (%w)", name, media.Describe(f, head), ErrUnknownFormat)
	case f.Known():
		return fmt.Errorf("%s is %s, not audio: there is no waveform to draw (%w)", name, media.Describe(f, head), ErrUnknownFormat)
	}
	return fmt.Errorf("%s: %w: its content matches %s; if it is audio, the file is damaged or in a format Atelier does not read", name, ErrUnknownFormat, media.Describe(f, head))
}

// Decode decodes the audio file at path, calling sink with its samples in
// order, and returns what it learned about the file. The format is taken from
// the content, not the extension. WAV, AIFF, FLAC and MP3 are decoded here;
// Ogg (Vorbis, Opus), MP4/M4A (AAC, ALAC), Matroska/WebM, and the sound of
// video files go through ffmpeg in a limited process (Options.FFmpeg).
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
	format, head, err := media.SniffFile(f, st.Size())
	if err != nil {
		return info, fmt.Errorf("read %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode %s: the %s decoder crashed on damaged data (%v); the file is probably corrupt", filepath.Base(path), format, r)
			if os.Getenv("ATELIER_DEBUG_PANICS") != "" {
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	switch {
	case format == media.WAV:
		info, err = decodeWAV(ctx, br, st.Size(), opt, sink)
		var ce errCompressed
		if errors.As(err, &ce) {
			info, err = decodeExternal(ctx, path, format, opt, sink)
			if err != nil {
				return info, err // names the file already
			}
		}
	case format == media.FLAC:
		info, err = decodeFLAC(ctx, br, st.Size(), opt, sink)
	case format == media.MP3:
		maxSize := opt.MaxFileSize
		if maxSize <= 0 {
			maxSize = DefaultMaxFileSize
		}
		if st.Size() > maxSize {
			return info, fmt.Errorf("%s is %d MiB, over the %d MiB limit for MP3 previews", filepath.Base(path), st.Size()>>20, maxSize>>20)
		}
		// One allocation of the stat size (io.ReadAll would grow, copy and
		// clear its buffer a dozen times for a 15 MB file); a file that
		// shrank since the stat is read as far as it goes.
		data := make([]byte, st.Size())
		n, rerr := io.ReadFull(f, data)
		if rerr != nil && rerr != io.ErrUnexpectedEOF {
			return info, fmt.Errorf("read %s: %w", path, rerr)
		}
		data = data[:n]
		info, err = decodeMP3(ctx, data, opt, sink)
	case format == media.AIFF || format == media.AIFC:
		info, err = decodeAIFF(ctx, f, st.Size(), opt, sink)
		var ce errCompressed
		if errors.As(err, &ce) {
			info, err = decodeExternal(ctx, path, format, opt, sink)
			if err != nil {
				return info, err // names the file already
			}
		}
	case format.FFmpeg():
		info, err = decodeExternal(ctx, path, format, opt, sink)
		if err != nil {
			return info, err // names the file already
		}
	default:
		return info, unsupported(filepath.Base(path), format, head)
	}
	if err != nil {
		return info, fmt.Errorf("decode %s: %w", filepath.Base(path), err)
	}
	if info.SampleRate > 0 {
		info.Duration = float64(info.Samples) / float64(info.SampleRate)
	}
	return info, nil
}

// DecodeBytes is Decode for data in memory (fuzzing, tests), for the formats
// decoded in process.
func DecodeBytes(ctx context.Context, data []byte, opt Options, sink Sink) (info Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder crashed on damaged data (%v)", r)
		}
	}()
	if len(data) == 0 {
		return info, errors.New("empty input: nothing to preview")
	}
	switch format := media.Sniff(data); {
	case format == media.WAV:
		info, err = decodeWAV(ctx, bufio.NewReader(bytes.NewReader(data)), int64(len(data)), opt, sink)
	case format == media.FLAC:
		info, err = decodeFLAC(ctx, bufio.NewReader(bytes.NewReader(data)), int64(len(data)), opt, sink)
	case format == media.MP3:
		info, err = decodeMP3(ctx, data, opt, sink)
	case format == media.AIFF || format == media.AIFC:
		info, err = decodeAIFF(ctx, bytes.NewReader(data), int64(len(data)), opt, sink)
	case format.FFmpeg():
		return info, fmt.Errorf("%s data is decoded by ffmpeg, from a file: use Decode", format.Name)
	default:
		return info, unsupported("the data", format, data)
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
