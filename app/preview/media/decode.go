package media

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MaxPosterBytes bounds the PNG read back from ffmpeg.
const MaxPosterBytes = 64 << 20

// Poster returns one frame of video stream st as a PNG no larger than size
// pixels on its longest side, taken at seconds into the file (a later
// frame than the first, which is often black), upright (ffmpeg applies the
// rotation the file declares). When the file is shorter than that, the
// first frame is taken.
func Poster(ctx context.Context, path string, f Format, st Stream, at float64, size int, lim Limits) ([]byte, error) {
	if size < 1 || size > 1<<14 {
		return nil, fmt.Errorf("poster size %d is out of range", size)
	}
	grab := func(at float64) ([]byte, error) {
		args := inputArgs("ffmpeg", f, path, at)
		s := strconv.Itoa(size)
		args = append(args, "-map", "0:"+strconv.Itoa(st.Index), "-an", "-sn", "-dn", "-frames:v", "1", "-filter_threads", "1",
			"-vf", "scale=w='min("+s+",iw*sar)':h='min("+s+",ih)':force_original_aspect_ratio=decrease,setsar=1",
			"-c:v", "png", "-f", "image2pipe", "pipe:1")
		var buf bytes.Buffer
		_, err := run(ctx, lim, "ffmpeg", args, path, func(r io.Reader) error {
			n, err := io.Copy(&buf, io.LimitReader(r, MaxPosterBytes+1))
			if err != nil {
				return err
			}
			if n > MaxPosterBytes {
				return fmt.Errorf("the poster frame of %s is over %d MiB", filepath.Base(path), MaxPosterBytes>>20)
			}
			return nil
		})
		return buf.Bytes(), err
	}
	png, err := grab(at)
	if err == nil && len(png) == 0 && at > 0 {
		png, err = grab(0)
	}
	if err != nil {
		return nil, err
	}
	if len(png) == 0 {
		return nil, fmt.Errorf("ffmpeg found no picture in the video stream of %s: the file may be damaged", filepath.Base(path))
	}
	return png, nil
}

// AudioHeader is what one ffmpeg process tells about the audio it decodes
// before the first sample: the input's description from its report (the
// container, duration, bit rate, streams) and the format of the PCM that
// follows.
type AudioHeader struct {
	Probe    Probe  // the input file as ffmpeg described it
	Stream   Stream // the audio stream decoded (the first one)
	Rate     int    // samples per second of the PCM
	Channels int    // interleaved channels of the PCM
	// Integer is true when the decoder's own samples are integers (s16,
	// s32...): the float64 PCM then holds them exactly (x·2³¹ is the
	// 32-bit sample).
	Integer bool
}

// MaxWAVHeader bounds the chunks ffmpeg writes before the samples.
const MaxWAVHeader = 64 << 10

// DecodeAudioOnce decodes the first audio stream of path (opened with f's
// demuxer) in one ffmpeg process, without an ffprobe run before it: ffmpeg
// writes a WAV stream of float64 samples (exact for every decoder's sample
// format) at the stream's own rate and channel count, and describes the
// input on its standard error before the first sample (see report). read
// gets the header and the samples, interleaved little-endian float64; it
// may return ErrStop. At most maxSeconds are decoded (0 = all). The probe
// is returned when ffmpeg described the input, even on error; a file with
// no audio stream gives ErrNoStream. diag is what ffmpeg reported about
// damaged data it decoded around.
func DecodeAudioOnce(ctx context.Context, path string, f Format, maxSeconds float64, lim Limits, read func(AudioHeader, io.Reader) error) (p *Probe, diag string, err error) {
	args := inputArgs("ffmpeg", f, path, 0)
	for i := range args {
		if args[i] == "-loglevel" {
			args[i+1] = "level+info"
		}
	}
	args = append([]string{"-nostats"}, args...)
	args = append(args, "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-filter_threads", "1")
	if maxSeconds > 0 {
		args = append(args, "-t", strconv.FormatFloat(maxSeconds, 'f', 3, 64))
	}
	args = append(args, "-c:a", "pcm_f64le", "-f", "wav", "pipe:1")
	rep := newReport(nil)
	name := filepath.Base(path)
	diag, err = runWith(ctx, lim, "ffmpeg", args, path, rep, func(r io.Reader) error {
		br := bufio.NewReaderSize(r, 1<<16)
		rate, channels, err := readWAVHeader(br)
		if err == io.EOF {
			return nil // ffmpeg wrote nothing: its exit status and report say why
		}
		if err != nil {
			return fmt.Errorf("read ffmpeg's output for %s: %w", name, err)
		}
		// ffmpeg described the input before it wrote a sample; its
		// report may still be in the pipe.
		select {
		case <-rep.ready:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
		pr, _ := rep.result()
		h := AudioHeader{Probe: pr, Rate: rate, Channels: channels}
		if a := pr.Audio(); a != nil {
			h.Stream = *a
			h.Integer = strings.HasPrefix(a.SampleFmt, "s") || strings.HasPrefix(a.SampleFmt, "u")
		}
		return read(h, br)
	})
	pr, described := rep.result()
	if described || len(pr.Streams) > 0 {
		p = &pr
		if pr.Audio() == nil && ctx.Err() == nil {
			return p, "", fmt.Errorf("%s has no audio stream ffmpeg can find: %w", name, ErrNoStream)
		}
	}
	return p, diag, err
}

// readWAVHeader reads ffmpeg's streamed WAV header up to the samples: it
// must announce 64-bit float samples.
func readWAVHeader(r *bufio.Reader) (rate, channels int, err error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return 0, 0, err
	}
	if string(riff[:4]) != "RIFF" || string(riff[8:]) != "WAVE" {
		return 0, 0, errors.New("not a WAV stream")
	}
	read := 12
	fmtOK := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, 0, fmt.Errorf("WAV header cut short: %w", err)
		}
		size := int(binary.LittleEndian.Uint32(ch[4:]))
		read += 8
		if string(ch[:4]) == "data" {
			if !fmtOK {
				return 0, 0, errors.New("WAV stream without a format chunk")
			}
			return rate, channels, nil
		}
		if size > MaxWAVHeader-read {
			return 0, 0, fmt.Errorf("WAV header chunk %q of %d bytes", ch[:4], size)
		}
		b := make([]byte, size+size&1)
		if _, err := io.ReadFull(r, b); err != nil {
			return 0, 0, fmt.Errorf("WAV header cut short: %w", err)
		}
		read += len(b)
		if string(ch[:4]) == "fmt " {
			if size < 16 {
				return 0, 0, errors.New("WAV format chunk too short")
			}
			tag := binary.LittleEndian.Uint16(b)
			if tag == 0xFFFE && size >= 26 {
				tag = binary.LittleEndian.Uint16(b[24:])
			}
			channels = int(binary.LittleEndian.Uint16(b[2:]))
			rate = int(binary.LittleEndian.Uint32(b[4:]))
			if bits := binary.LittleEndian.Uint16(b[14:]); tag != 3 || bits != 64 {
				return 0, 0, fmt.Errorf("WAV stream of format %d, %d bits: float64 was asked for", tag, bits)
			}
			fmtOK = true
		}
	}
}
