package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"atelier/app/client"

	"github.com/spf13/cobra"

	"atelier/app/library"
	"atelier/app/preview/audio"
	"atelier/app/preview/media"
	"atelier/app/preview/mp3"
	"atelier/app/preview/thumb"
	"atelier/humanize"
)

// `atelier preview`: render a waveform or thumbnail, report metadata and
// loudness, cut a clip, or show the engine's render queue.

// previewReport is what `atelier preview FILE --json` prints.
type previewReport struct {
	File     string                  `json:"file"`
	Audio    *audio.Info             `json:"audio,omitempty"`
	Loudness *library.LoudnessReport `json:"loudness,omitempty"`
	Image    *thumb.Info             `json:"image,omitempty"`
	Video    *media.VideoInfo        `json:"video,omitempty"`
	Output   string                  `json:"output,omitempty"`
	Elapsed  float64                 `json:"elapsedSeconds"`
}

type previewOptions struct {
	out           string
	zoom, bits    int
	split         bool
	width, height int
	workers       int
}

func newPreviewCommand(gopts *globalOptions) *cobra.Command {
	var opts previewOptions
	c := &cobra.Command{
		Use:   "preview FILE",
		Short: "Render a waveform (.dat, .json, .png) or thumbnail, or report metadata and loudness",
		Long: "Renders the preview of one audio, image or video file locally, without an engine.\n\n" +
			"Audio (MP3, WAV, AIFF, FLAC; Ogg Vorbis, Opus, M4A/AAC and more through ffmpeg):\n" +
			"-o out.dat | out.json (BBC audiowaveform formats, version 2) | out.png,\n" +
			"at --zoom samples per pixel, --bits 8 or 16, mixed or --split-channels.\n" +
			"Video (MP4, MOV, MKV, WebM, AVI... through ffmpeg): -o poster.jpg|poster.png (a frame a tenth of\n" +
			"the way in), or -o sound.dat|sound.json for the waveform of its sound.\n" +
			"Images (JPEG, PNG, GIF, WebP, BMP, TIFF): -o thumb.jpg|thumb.png (the extension chooses the format;\n" +
			"transparency is kept in PNG and flattened onto white in JPEG), at most --width×--height (default 768).\n" +
			"Without -o it prints metadata and the EBU R128 loudness report (--json for JSON).\n\n" +
			"  atelier preview song.mp3 --zoom 256 --bits 8 -o song.dat\n" +
			"  atelier preview song.wav -o song.png --width 1800 --height 280\n" +
			"  atelier preview song.flac --json\n" +
			"  atelier preview clip song.mp3 --start 30s --length 20s -o teaser.mp3",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPreview(cmd.Context(), gopts, opts, args[0])
		},
	}
	c.Flags().StringVarP(&opts.out, "output", "o", "", "write the waveform (.dat, .json, .png) or thumbnail (.jpg, .png) here")
	c.Flags().IntVar(&opts.zoom, "zoom", 256, "samples per pixel of .dat/.json output")
	c.Flags().IntVar(&opts.bits, "bits", 8, "8 or 16 bits per value in .dat/.json output")
	c.Flags().BoolVar(&opts.split, "split-channels", false, "one waveform per channel instead of their mean")
	c.Flags().IntVar(&opts.width, "width", 0, "PNG width (default 1200) or thumbnail bound")
	c.Flags().IntVar(&opts.height, "height", 0, "PNG height (default 160) or thumbnail bound")
	c.Flags().IntVar(&opts.workers, "workers", 0, "parallel MP3 decode segments (0 = all cores, 1 = sequential)")
	c.AddCommand(newPreviewClipCommand(gopts), newPreviewStatsCommand(gopts))
	return c
}

func newPreviewStatsCommand(gopts *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Show the render queue of the running engine (pending, running, done, failed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPreviewStats(cmd.Context(), gopts)
		},
	}
}

func runPreviewStats(ctx context.Context, gopts *globalOptions) error {
	var st library.QueueStats
	if err := do(ctx, gopts, func(cl *client.Client) (err error) { st, err = cl.Library.Stats(ctx); return }); err != nil {
		return err
	}
	return output(gopts, st, func(w io.Writer) {
		fmt.Fprintf(w, "pending\t%d\n", st.Pending)
		fmt.Fprintf(w, "running\t%d\n", st.Running)
		fmt.Fprintf(w, "done\t%d\n", st.Done)
		fmt.Fprintf(w, "failed\t%d\n", st.Failed)
		fmt.Fprintf(w, "cancelled\t%d\n", st.Canceled)
		fmt.Fprintf(w, "workers\t%d\n", st.Workers)
		fmt.Fprintf(w, "cache\t%s\n", st.CacheDir)
	})
}

type previewClipOptions struct {
	out, start, length string
}

func newPreviewClipCommand(gopts *globalOptions) *cobra.Command {
	var opts previewClipOptions
	c := &cobra.Command{
		Use:   "clip FILE.mp3",
		Short: "Cut a teaser out of an MP3 at frame boundaries, without re-encoding",
		Long: "Cuts [--start, --start+--length) out of an MP3 at frame boundaries. The frames before the\n" +
			"start that hold its bit reservoir are kept and marked as encoder delay in a fresh LAME header,\n" +
			"so gapless players (browsers, ffmpeg, mpg123) start exactly at the cut. Times: 30s, 1m30s, 1:30 or 90.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPreviewClip(gopts, opts, args[0])
		},
	}
	c.Flags().StringVarP(&opts.out, "output", "o", "", "the clip's file (required)")
	c.Flags().StringVar(&opts.start, "start", "0s", "where the clip starts")
	c.Flags().StringVar(&opts.length, "length", "20s", "how long the clip is")
	return c
}

func runPreviewClip(gopts *globalOptions, opts previewClipOptions, file string) error {
	if opts.out == "" {
		return fmt.Errorf("say where the clip goes with -o teaser.mp3")
	}
	st, err := previewParseTime(opts.start)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	ln, err := previewParseTime(opts.length)
	if err != nil {
		return fmt.Errorf("--length: %w", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	clip, info, err := mp3.Clip(data, st, ln)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := previewWriteFile(opts.out, func(w io.Writer) error { _, err := w.Write(clip); return err }); err != nil {
		return err
	}
	return output(gopts, info, func(w io.Writer) {
		fmt.Fprintf(w, "wrote\t%s\n", opts.out)
		fmt.Fprintf(w, "start\t%s\n", previewDur(info.Start.Seconds()))
		fmt.Fprintf(w, "length\t%s\n", previewDur(info.Length.Seconds()))
		fmt.Fprintf(w, "frames\t%d (%d of pre-roll)\n", info.Frames, info.Preroll)
		fmt.Fprintf(w, "size\t%s\n", humanize.Bytes(int64(info.Bytes)))
	})
}

// previewParseTime accepts 30s, 1m30s, 1:30, 1:02:03 and plain seconds (90, 12.5).
func previewParseTime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) >= 2 && len(parts) <= 3 {
		var total float64
		for _, p := range parts {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("%q is not a time: use 30s, 1m30s, 1:30 or 90", s)
			}
			total = total*60 + v
		}
		return time.Duration(total * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%q is not a time: use 30s, 1m30s, 1:30 or 90", s)
}

func runPreview(ctx context.Context, gopts *globalOptions, opts previewOptions, file string) error {
	out, zoom, bits, split, width, height := opts.out, opts.zoom, opts.bits, opts.split, opts.width, opts.height
	if bits != 8 && bits != 16 {
		return fmt.Errorf("--bits must be 8 or 16")
	}
	if zoom < 1 {
		return fmt.Errorf("--zoom must be at least 1 sample per pixel")
	}
	head := make([]byte, 4096)
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	start := time.Now()
	rep := previewReport{File: file, Output: out}
	if thumb.Sniff(head) != "" && audio.Sniff(head) != "mp3" {
		return previewImage(gopts, file, out, width, height, &rep, start)
	}
	// A video: its poster frame (-o .jpg/.png) and facts; -o .dat/.json/.png
	// of a waveform is the sound's, below.
	if f := media.Sniff(head); f.Kind == media.Video && (out == "" || previewThumbExt(out) != "") {
		done, err := previewVideo(ctx, gopts, file, f, out, max(width, height), &rep, start)
		if done || err != nil {
			return err
		}
	}
	// Writing a waveform without --json prints only "wrote …": the
	// loudness would be measured for nothing.
	noLoudness := out != "" && !gopts.json
	a, err := audio.Analyze(ctx, file, audio.AnalyzeOptions{Options: audio.Options{Workers: opts.workers}, Zoom: zoom, Split: split, NoLoudness: noLoudness})
	if err != nil {
		return err
	}
	rep.Audio = &a.Info
	if !a.LoudnessSkipped {
		rep.Loudness = library.Report(a.Loudness)
	}
	if out != "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".dat":
			err = previewWriteFile(out, func(w io.Writer) error { return audio.WriteDat(w, a.Waveform, bits) })
		case ".json":
			err = previewWriteFile(out, func(w io.Writer) error { return audio.WriteJSON(w, a.Waveform, bits) })
		case ".png":
			o := audio.DefaultPNG
			if width > 0 {
				o.Width = width
			}
			if height > 0 {
				o.Height = height
			}
			img, perr := audio.RenderPNG(a.Waveform, o, split)
			if perr != nil {
				return perr
			}
			err = previewWriteFile(out, func(w io.Writer) error { return previewEncodePNG(w, img) })
		default:
			return fmt.Errorf("-o %s: use a .dat, .json or .png file name", out)
		}
		if err != nil {
			return err
		}
	}
	rep.Elapsed = time.Since(start).Seconds()
	for _, w := range a.Info.Warnings {
		fmt.Fprintln(os.Stderr, "atelier: warning:", w)
	}
	if out != "" && !gopts.json {
		fmt.Fprintf(os.Stderr, "wrote %s (%d points at %d samples per pixel) in %.2fs\n", out, a.Waveform.Length(), zoom, rep.Elapsed)
		return nil
	}
	return output(gopts, rep, func(w io.Writer) { previewPrintAudio(w, &rep) })
}

// previewThumbExt is the thumbnail format an output name asks for: ".jpg",
// ".png" or "" (not a picture).
func previewThumbExt(out string) string {
	switch strings.ToLower(filepath.Ext(out)) {
	case ".jpg", ".jpeg":
		return ".jpg"
	case ".png":
		return ".png"
	}
	return ""
}

// previewVideo reports a video's facts and writes its poster frame to out
// (.jpg or .png). A file of a video container without a picture is not
// done: the caller treats it as sound.
func previewVideo(ctx context.Context, gopts *globalOptions, file string, f media.Format, out string, size int, rep *previewReport, start time.Time) (bool, error) {
	if size == 0 {
		size = thumb.Large
	}
	vi, poster, probe, err := media.ProbeVideo(ctx, file, f, size, media.Limits{})
	if errors.Is(err, media.ErrNoStream) && probe != nil && probe.Audio() != nil {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	rep.Video = &vi
	if out != "" {
		_, thumbs, err := thumb.Make(poster, []int{size}, thumb.Options{Ext: previewThumbExt(out)})
		if err != nil {
			return true, fmt.Errorf("%s: poster frame: %w", filepath.Base(file), err)
		}
		t := thumbs[0]
		if err := previewWriteFile(out, func(w io.Writer) error { _, err := w.Write(t.Data); return err }); err != nil {
			return true, err
		}
	}
	rep.Elapsed = time.Since(start).Seconds()
	return true, output(gopts, rep, func(w io.Writer) {
		fmt.Fprintf(w, "file\t%s\n", file)
		fmt.Fprintf(w, "format\t%s (%s)\n", vi.Container, vi.Codec)
		fmt.Fprintf(w, "size\t%d × %d\n", vi.Width, vi.Height)
		if vi.Rotation != 0 {
			fmt.Fprintf(w, "rotation\t%d° (applied)\n", vi.Rotation)
		}
		fmt.Fprintf(w, "duration\t%s\n", previewDur(vi.Duration))
		if vi.FrameRate > 0 {
			fmt.Fprintf(w, "frame rate\t%.3g fps\n", vi.FrameRate)
		}
		if vi.AudioCodec != "" {
			fmt.Fprintf(w, "sound\t%s, %d Hz, %d channels\n", vi.AudioCodec, vi.SampleRate, vi.Channels)
		} else {
			fmt.Fprintf(w, "sound\tnone\n")
		}
		if out != "" {
			fmt.Fprintf(w, "wrote\t%s (the frame at %s)\n", out, previewDur(media.PosterTime(vi.Duration)))
		}
	})
}

func previewImage(gopts *globalOptions, file, out string, width, height int, rep *previewReport, start time.Time) error {
	size := max(width, height)
	if size == 0 {
		size = thumb.Large
	}
	// the output's extension chooses the thumbnail's format
	var opt thumb.Options
	if out != "" {
		switch ext := strings.ToLower(filepath.Ext(out)); ext {
		case ".jpg", ".jpeg":
			opt.Ext = ".jpg"
		case ".png":
			opt.Ext = ".png"
		case ".webp":
			return fmt.Errorf("-o %s: WebP output is not supported: use .jpg or .png", out)
		default:
			return fmt.Errorf("-o %s: a thumbnail is written as .jpg (or .jpeg) or .png: name the output accordingly", out)
		}
	}
	info, thumbs, err := thumb.MakeFile(file, []int{size}, opt)
	if err != nil {
		return err
	}
	rep.Image = &info
	if out != "" {
		t := thumbs[0]
		if err := previewWriteFile(out, func(w io.Writer) error { _, err := w.Write(t.Data); return err }); err != nil {
			return err
		}
	}
	rep.Elapsed = time.Since(start).Seconds()
	return output(gopts, rep, func(w io.Writer) {
		fmt.Fprintf(w, "file\t%s\n", file)
		fmt.Fprintf(w, "format\t%s\n", info.Format)
		fmt.Fprintf(w, "size\t%d × %d\n", info.Width, info.Height)
		if info.Orientation > 1 {
			fmt.Fprintf(w, "EXIF orientation\t%d (applied)\n", info.Orientation)
		}
		if out != "" {
			fmt.Fprintf(w, "wrote\t%s\n", out)
		}
	})
}

func previewPrintAudio(w io.Writer, rep *previewReport) {
	i := rep.Audio
	fmt.Fprintf(w, "file\t%s\n", rep.File)
	fmt.Fprintf(w, "format\t%s (%s)\n", i.Format, i.Codec)
	fmt.Fprintf(w, "duration\t%s\n", previewDur(i.Duration))
	fmt.Fprintf(w, "sample rate\t%d Hz\n", i.SampleRate)
	fmt.Fprintf(w, "channels\t%d\n", i.Channels)
	vbr := ""
	if i.VBR {
		vbr = " (VBR)"
	}
	fmt.Fprintf(w, "bitrate\t%d kb/s%s\n", (i.Bitrate+500)/1000, vbr)
	if i.Encoder != "" {
		fmt.Fprintf(w, "encoder\t%s\n", i.Encoder)
	}
	l := rep.Loudness
	if l.NotMeasurable != "" {
		fmt.Fprintf(w, "loudness\tnot measurable: %s\n", l.NotMeasurable)
		fmt.Fprintf(w, "sample peak\t%.1f dBFS\n", l.SamplePeak)
		fmt.Fprintf(w, "clipped samples\t%d\n", l.Clipped)
		fmt.Fprintf(w, "analysed in\t%.2fs\n", rep.Elapsed)
		return
	}
	fmt.Fprintf(w, "integrated loudness\t%.1f LUFS\n", l.Integrated)
	fmt.Fprintf(w, "loudness range\t%.1f LU\n", l.Range)
	fmt.Fprintf(w, "max momentary / short-term\t%.1f / %.1f LUFS\n", l.MomentaryMax, l.ShortTermMax)
	fmt.Fprintf(w, "sample peak\t%.1f dBFS\n", l.SamplePeak)
	fmt.Fprintf(w, "clipped samples\t%d\n", l.Clipped)
	for _, t := range l.Targets {
		fmt.Fprintf(w, "target %s (%.0f LUFS)\t%s: %+.1f dB gain, peak after %.1f dBFS\n", t.Name, t.LUFS, t.Verdict, t.GainDB, t.PeakDB)
	}
	fmt.Fprintf(w, "analysed in\t%.2fs\n", rep.Elapsed)
}

func previewDur(secs float64) string {
	if math.IsNaN(secs) || secs < 0 {
		secs = 0
	}
	m := int(secs) / 60
	return fmt.Sprintf("%d:%06.3f", m, secs-float64(m*60))
}

// previewWriteFile writes out atomically: a temp file beside it, fsync, rename.
func previewWriteFile(out string, write func(io.Writer) error) error {
	dir := filepath.Dir(out)
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

func previewEncodePNG(w io.Writer, img image.Image) error {
	return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
}
