package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"atelier/app/preview/audio"
	"atelier/app/preview/media"
	"atelier/app/preview/thumb"

	"github.com/dhowden/tag"
)

// Budgets of one render.
var (
	AudioTimeout = 10 * time.Minute
	ImageTimeout = time.Minute
	VideoTimeout = 2 * time.Minute
)

// DecodeMemory bounds the memory the render queue's concurrent decodes hold
// together (by EstimateMemory): six large images render one or two at a time.
var DecodeMemory int64 = 1 << 30

// EstimateMemory is the peak memory a render of j is expected to hold: an
// image's decoded size read from its header (plus its thumbnails' working
// buffers); for audio twice the file's size (an MP3 is read whole, and
// io.ReadAll grows its buffer) beside the streaming decoder's working set.
func EstimateMemory(j Job) int64 {
	const base = 32 << 20
	if j.Key.Kind == Image {
		return base + thumb.DecodeCost(j.Path)
	}
	if j.Key.Kind == Video {
		// ffmpeg decodes in its own process (bounded by its limits); here
		// only the poster's PNG and its thumbnails.
		return base + 64<<20
	}
	return base + 2*max(j.Size, 0)
}

// Render renders the preview of the file at path under key into the cache,
// atomically: files go to a temporary directory renamed into place. A failed
// render is stored too (Status "failed"), so a broken file is not retried
// until its content changes.
func (c *Cache) Render(ctx context.Context, key Key, path string, workers int) (Meta, error) {
	id := key.ID()
	m := Meta{ID: id, Hash: key.Hash, Kind: key.Kind, Version: RendererVersion, Status: "ready", Files: map[string]string{}}
	final := c.Dir(id)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return m, fmt.Errorf("create preview cache %s: %w (check the disk and the cache dir's permissions)", filepath.Dir(final), err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".tmp-")
	if err != nil {
		return m, fmt.Errorf("create preview cache dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	var rerr error
	switch key.Kind {
	case Audio:
		rerr = withTimeout(ctx, AudioTimeout, func(ctx context.Context) error { return renderAudio(ctx, key.Params, path, tmp, workers, &m) })
	case Image:
		rerr = withTimeout(ctx, ImageTimeout, func(ctx context.Context) error { return renderImage(key.Params, path, tmp, &m) })
	case Video:
		rerr = withTimeout(ctx, VideoTimeout, func(ctx context.Context) error { return renderVideo(ctx, key.Params, path, tmp, workers, &m) })
	default:
		rerr = fmt.Errorf("no renderer for %q files", key.Kind)
	}
	if rerr != nil && ctx.Err() != nil {
		return m, ctx.Err() // cancelled: store nothing
	}
	if errors.Is(rerr, fs.ErrNotExist) || errors.Is(rerr, fs.ErrPermission) || errors.Is(rerr, media.ErrToolMissing) {
		return m, rerr // the file went away or is unreadable, or ffmpeg is missing: not a property of the content
	}
	m.RenderedAt = time.Now().UTC()
	m.RenderMs = time.Since(start).Milliseconds()
	if rerr != nil {
		m.Status, m.Error = "failed", rerr.Error()
		m.Files = map[string]string{}
	}
	// Point the file paths at the final directory.
	for role, f := range m.Files {
		m.Files[role] = filepath.Join(final, filepath.Base(f))
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		m.Status, m.Files = "failed", map[string]string{}
		return m, fmt.Errorf("store preview %s: its metadata cannot be written: %w", id, err)
	}
	if err := writeFileSync(filepath.Join(tmp, "meta.json"), b); err != nil {
		return m, err
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return m, fmt.Errorf("store preview %s: %w", id, err)
	}
	return m, rerr
}

// withTimeout runs fn with a deadline; a decoder that ignores the deadline is
// abandoned (it finishes in the background) and the render fails.
func withTimeout(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("renderer crashed: %v", r)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("rendering took longer than %s: gave up", d)
		}
		return ctx.Err()
	}
}

func writeFileSync(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func createIn(dir, name string) (*os.File, string, error) {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	return f, p, err
}

func renderAudio(ctx context.Context, p Params, path, dir string, workers int, m *Meta) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	a, err := audio.Analyze(ctx, path, audio.AnalyzeOptions{
		Options: audio.Options{Workers: workers, MaxDuration: time.Duration(p.MaxDuration) * time.Second},
		Zoom:    p.Zoom,
	})
	if err != nil {
		return err
	}
	m.Audio, m.Loudness = &a.Info, &a.Loudness
	m.Warnings = a.Info.Warnings
	wf := a.Waveform
	// Keep the cached .dat small enough for the UI: at most ~64k points.
	if n := wf.Length(); n > 1<<16 {
		wf = wf.Rescale((n + 1<<16 - 1) >> 16)
	}
	f, pth, err := createIn(dir, "peaks.dat")
	if err != nil {
		return err
	}
	if err := audio.WriteDat(f, wf, p.Bits); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	m.Files["peaks"] = pth
	f, pth, err = createIn(dir, "peaks.json")
	if err != nil {
		return err
	}
	if err := audio.WriteJSON(f, wf, p.Bits); err != nil {
		f.Close()
		return err
	}
	f.Close()
	m.Files["peaksJSON"] = pth
	o := audio.DefaultPNG
	o.Width, o.Height = p.Width, p.Height
	img, err := audio.RenderPNG(a.Waveform, o, false)
	if err != nil {
		return err
	}
	f, pth, err = createIn(dir, "waveform.png")
	if err != nil {
		return err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, img); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	m.Files["waveform"] = pth
	if err := renderCover(p, path, dir, m); err != nil {
		// the sound previewed fine: a damaged picture is only a warning
		m.Warnings = append(m.Warnings, err.Error())
	}
	return nil
}

// MaxCoverBytes bounds the embedded picture made into thumbnails.
const MaxCoverBytes = 8 << 20

// renderCover makes the thumbnails of the cover art embedded in an audio
// file (ID3 APIC, FLAC PICTURE, MP4 covr), which becomes the file's
// thumbnail in the Library. A file without one gets none, silently.
func renderCover(p Params, path, dir string, m *Meta) (err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil // the sound was read a moment ago: nothing to add
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: the embedded cover art is damaged (reader crashed: %v)", filepath.Base(path), r)
		}
	}()
	t, terr := tag.ReadFrom(f)
	if terr != nil {
		return nil // no tags, or tags the reader does not know: no cover
	}
	pic := t.Picture()
	if pic == nil || len(pic.Data) == 0 {
		return nil
	}
	if len(pic.Data) > MaxCoverBytes {
		return fmt.Errorf("%s: the embedded cover art is %d MiB, over the %d MiB limit: no thumbnail", filepath.Base(path), len(pic.Data)>>20, MaxCoverBytes>>20)
	}
	sizes := p.ThumbSizes
	if len(sizes) == 0 {
		sizes = []int{thumb.Small, thumb.Large}
	}
	_, thumbs, err := thumb.Make(pic.Data, sizes, thumb.Options{MaxPixels: p.MaxPixels})
	if err != nil {
		return fmt.Errorf("%s: embedded cover art: %w", filepath.Base(path), err)
	}
	return writeThumbs(thumbs, dir, m)
}

func renderImage(p Params, path, dir string, m *Meta) error {
	info, thumbs, err := thumb.MakeFile(path, p.ThumbSizes, thumb.Options{MaxPixels: p.MaxPixels})
	if err != nil {
		return err
	}
	m.Image = &info
	return writeThumbs(thumbs, dir, m)
}

// renderVideo probes a video with ffmpeg and makes thumbnails of its poster
// frame. A video container holding only sound (an .mp4 of a voice memo)
// gets an audio preview instead.
func renderVideo(ctx context.Context, p Params, path, dir string, workers int, m *Meta) error {
	f, head, err := sniffFile(path)
	if err != nil {
		return err
	}
	if f.Kind == media.Image || f.Kind == media.Other || !f.Known() {
		return fmt.Errorf("%s is %s, not a video", filepath.Base(path), media.Describe(f, head))
	}
	if f.Kind == media.Audio && f.Native {
		return renderAudio(ctx, DefaultParams(Audio), path, dir, workers, m)
	}
	size := 0
	for _, s := range p.ThumbSizes {
		size = max(size, s)
	}
	if size == 0 {
		size = thumb.Large
	}
	vi, poster, probe, err := media.ProbeVideo(ctx, path, f, size, media.Limits{Timeout: VideoTimeout})
	if errors.Is(err, media.ErrNoStream) && probe != nil && probe.Audio() != nil {
		return renderAudio(ctx, DefaultParams(Audio), path, dir, workers, m)
	}
	if err != nil {
		return err
	}
	m.Video = &vi
	_, thumbs, err := thumb.Make(poster, p.ThumbSizes, thumb.Options{MaxPixels: p.MaxPixels, Ext: ".jpg"})
	if err != nil {
		return fmt.Errorf("%s: poster frame: %w", filepath.Base(path), err)
	}
	return writeThumbs(thumbs, dir, m)
}

func sniffFile(path string) (media.Format, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return media.Format{}, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return media.Format{}, nil, err
	}
	if st.Size() == 0 {
		return media.Format{}, nil, fmt.Errorf("%s is empty (0 bytes): nothing to preview", filepath.Base(path))
	}
	return media.SniffFile(f, st.Size())
}

func writeThumbs(thumbs []thumb.Thumb, dir string, m *Meta) error {
	for _, t := range thumbs {
		role := "small"
		if t.Size >= thumb.Large {
			role = "large"
		}
		pth := filepath.Join(dir, role+t.Ext)
		if err := os.WriteFile(pth, t.Data, 0o600); err != nil {
			return err
		}
		m.Files[role] = pth
	}
	return nil
}
