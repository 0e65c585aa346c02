package media

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
)

// PCMFormat is the raw sample format ffmpeg writes for a stream: the
// stream's own precision, so the samples are the decoder's, converted
// exactly as ffmpeg's own 16-bit output would be.
type PCMFormat struct {
	Name  string // ffmpeg's -f: "s16le", "s32le", "f32le", "f64le"
	Codec string // its -c:a
	Bytes int    // per sample
	Float bool
}

// PCMFor chooses the output format for a stream's sample format.
func PCMFor(sampleFmt string) PCMFormat {
	switch sampleFmt {
	case "u8", "u8p", "s16", "s16p":
		return PCMFormat{"s16le", "pcm_s16le", 2, false}
	case "s32", "s32p", "s64", "s64p":
		return PCMFormat{"s32le", "pcm_s32le", 4, false}
	case "dbl", "dblp":
		return PCMFormat{"f64le", "pcm_f64le", 8, true}
	}
	return PCMFormat{"f32le", "pcm_f32le", 4, true} // fltp and anything new
}

// DecodeAudio decodes stream st of path (opened with f's demuxer) to raw
// interleaved PCM in pcm's format at the stream's own rate and channel
// count, and hands it to read as it arrives. At most maxSeconds are decoded
// (0 = all). read may return ErrStop. diag is what ffmpeg reported about
// damaged data it decoded around ("" when nothing).
func DecodeAudio(ctx context.Context, path string, f Format, st Stream, pcm PCMFormat, maxSeconds float64, lim Limits, read func(io.Reader) error) (diag string, err error) {
	args := inputArgs("ffmpeg", f, path, 0)
	args = append(args, "-map", "0:"+strconv.Itoa(st.Index), "-vn", "-sn", "-dn", "-filter_threads", "1")
	if maxSeconds > 0 {
		args = append(args, "-t", strconv.FormatFloat(maxSeconds, 'f', 3, 64))
	}
	// The rate and channel count the probe reported, held for the whole
	// output: a chained Ogg or an AAC stream that changes them midway is
	// converted rather than misread.
	if st.SampleRate > 0 && st.Channels > 0 {
		args = append(args, "-ar", strconv.Itoa(st.SampleRate), "-ac", strconv.Itoa(st.Channels))
	}
	args = append(args, "-c:a", pcm.Codec, "-f", pcm.Name, "pipe:1")
	return run(ctx, lim, "ffmpeg", args, path, read)
}

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
