package media

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// VideoInfo describes a video file.
type VideoInfo struct {
	Format     string  `json:"format"`    // Format ID: "mp4", "mov", "matroska", "webm", "avi"...
	Container  string  `json:"container"` // for people: "MPEG-4", "QuickTime movie"
	Codec      string  `json:"codec"`     // the picture's codec: "H.264", "VP9"...
	Width      int     `json:"width"`     // as displayed (rotation applied)
	Height     int     `json:"height"`
	Rotation   int     `json:"rotation,omitempty"` // degrees the file asks players to turn the picture
	FrameRate  float64 `json:"frameRate,omitempty"`
	Duration   float64 `json:"duration"` // seconds
	Bitrate    int     `json:"bitrate,omitempty"`
	AudioCodec string  `json:"audioCodec,omitempty"` // "" when the clip is silent
	SampleRate int     `json:"sampleRate,omitempty"`
	Channels   int     `json:"channels,omitempty"`
}

// DescribeVideo builds a VideoInfo from a probe of a file of format f; video is
// the stream the poster comes from.
func DescribeVideo(f Format, p *Probe, video Stream) VideoInfo {
	vi := VideoInfo{Format: f.ID, Container: f.Name, Codec: shortCodec(video), Width: video.Width, Height: video.Height,
		Rotation: video.Rotation, FrameRate: video.FrameRate, Duration: p.Duration, Bitrate: p.Bitrate}
	if vi.Rotation == 90 || vi.Rotation == 270 {
		vi.Width, vi.Height = vi.Height, vi.Width
	}
	if a := p.Audio(); a != nil {
		vi.AudioCodec, vi.SampleRate, vi.Channels = shortCodec(*a), a.SampleRate, a.Channels
	}
	return vi
}

func shortCodec(s Stream) string {
	c, _, _ := strings.Cut(s.CodecName, " / ") // "H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10" → "H.264"
	c, _, _ = strings.Cut(c, " (")
	if c == "" {
		c = s.Codec
	}
	return c
}

// PosterTime is where a poster frame is taken: a tenth of the way in (the
// first frames are often black or a fade), at most 30 s.
func PosterTime(duration float64) float64 {
	if duration <= 0 {
		return 0
	}
	return min(duration/10, 30)
}

// ProbeVideo probes a video file and grabs its poster frame (a PNG no larger
// than size on its longest side). A file of a video container with no
// picture returns ErrNoStream, with the probe, so the caller can treat it
// as audio.
func ProbeVideo(ctx context.Context, path string, f Format, size int, lim Limits) (VideoInfo, []byte, *Probe, error) {
	name := filepath.Base(path)
	if !f.FFmpeg() && !f.Native {
		return VideoInfo{}, nil, nil, fmt.Errorf("%s is %s, not a video", name, Describe(f, nil))
	}
	p, err := ProbeFile(ctx, path, f, lim)
	if err != nil {
		return VideoInfo{}, nil, nil, err
	}
	v := p.Video()
	if v == nil {
		return VideoInfo{}, nil, p, fmt.Errorf("%s holds no picture ffmpeg can find (it may be damaged): %w", name, ErrNoStream)
	}
	if v.Width <= 0 || v.Height <= 0 {
		return VideoInfo{}, nil, p, fmt.Errorf("ffmpeg finds no usable picture in %s (%s, %dx%d): the file is damaged or truncated", name, v.Codec, v.Width, v.Height)
	}
	vi := DescribeVideo(f, p, *v)
	png, err := Poster(ctx, path, f, *v, PosterTime(p.Duration), size, lim)
	if err != nil {
		return vi, nil, p, err
	}
	return vi, png, p, nil
}
