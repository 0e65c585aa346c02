package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Stream is one stream of a probed file.
type Stream struct {
	Index       int     `json:"index"`
	Type        string  `json:"type"`  // "audio", "video", "subtitle", "data"
	Codec       string  `json:"codec"` // ffmpeg's short name: "vorbis", "opus", "aac", "h264"
	CodecName   string  `json:"codecName,omitempty"`
	SampleRate  int     `json:"sampleRate,omitempty"`
	Channels    int     `json:"channels,omitempty"`
	SampleFmt   string  `json:"sampleFmt,omitempty"` // "fltp", "s16", "s32p"...
	Bits        int     `json:"bits,omitempty"`      // bits per raw sample, when the codec says
	Width       int     `json:"width,omitempty"`     // coded, before rotation
	Height      int     `json:"height,omitempty"`
	Rotation    int     `json:"rotation,omitempty"` // degrees, 0/90/180/270
	FrameRate   float64 `json:"frameRate,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
	AttachedPic bool    `json:"attachedPic,omitempty"` // cover art, not a video
}

// Probe is what ffprobe found in a file.
type Probe struct {
	Container string   `json:"container"` // ffmpeg's demuxer names
	Duration  float64  `json:"duration"`  // seconds
	Bitrate   int      `json:"bitrate"`
	Streams   []Stream `json:"streams"`
}

// Audio is the first audio stream, or nil.
func (p *Probe) Audio() *Stream {
	for i := range p.Streams {
		if p.Streams[i].Type == "audio" {
			return &p.Streams[i]
		}
	}
	return nil
}

// Video is the first video stream that is not cover art, or nil.
func (p *Probe) Video() *Stream {
	for i := range p.Streams {
		if s := &p.Streams[i]; s.Type == "video" && !s.AttachedPic {
			return s
		}
	}
	return nil
}

// MaxProbeOutput bounds what is read from ffprobe (a file declaring
// thousands of streams is refused, not buffered).
const MaxProbeOutput = 1 << 20

// MaxStreams is the most streams a probed file may have.
const MaxStreams = 256

// ProbeFile runs ffprobe on path, read with the sniffed format's demuxer.
func ProbeFile(ctx context.Context, path string, f Format, lim Limits) (*Probe, error) {
	args := append([]string{"-show_entries",
		"format=format_name,duration,bit_rate:stream=index,codec_type,codec_name,codec_long_name,sample_rate,channels,sample_fmt,bits_per_raw_sample,width,height,avg_frame_rate,duration:stream_disposition=attached_pic:stream_tags=rotate:stream_side_data=rotation",
		"-of", "json"}, inputArgs("ffprobe", f, path, 0)...)
	var out []byte
	_, err := run(ctx, lim, "ffprobe", args, path, func(r io.Reader) error {
		b, err := io.ReadAll(io.LimitReader(r, MaxProbeOutput+1))
		if err != nil {
			return err
		}
		if len(b) > MaxProbeOutput {
			return fmt.Errorf("ffprobe's report on %s is over %d KiB: the file declares too many streams", filepath.Base(path), MaxProbeOutput>>10)
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := ParseProbe(out)
	if err != nil {
		return nil, fmt.Errorf("read ffprobe's report on %s: %w", filepath.Base(path), err)
	}
	return p, nil
}

// num reads a JSON number or a string holding one (ffprobe writes both).
type num string

func (n *num) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = num(s)
		return nil
	}
	*n = num(b)
	return nil
}

func (n num) float() float64 {
	s := string(n)
	if a, b, ok := strings.Cut(s, "/"); ok { // frame rates: "30000/1001"
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil || y == 0 {
			return 0
		}
		return finite(x / y)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return finite(v)
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e12 {
		return 0
	}
	return v
}

// int reads a count, clamped to [0, 1<<30].
func (n num) int() int {
	v := n.float()
	if v > 1<<30 {
		return 0
	}
	return int(v)
}

type probeJSON struct {
	Streams []struct {
		Index       num    `json:"index"`
		CodecType   string `json:"codec_type"`
		CodecName   string `json:"codec_name"`
		CodecLong   string `json:"codec_long_name"`
		SampleRate  num    `json:"sample_rate"`
		Channels    num    `json:"channels"`
		SampleFmt   string `json:"sample_fmt"`
		Bits        num    `json:"bits_per_raw_sample"`
		Width       num    `json:"width"`
		Height      num    `json:"height"`
		FrameRate   num    `json:"avg_frame_rate"`
		Duration    num    `json:"duration"`
		Disposition struct {
			AttachedPic num `json:"attached_pic"`
		} `json:"disposition"`
		Tags struct {
			Rotate num `json:"rotate"`
		} `json:"tags"`
		SideData []struct {
			Rotation *num `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		Name     string `json:"format_name"`
		Duration num    `json:"duration"`
		Bitrate  num    `json:"bit_rate"`
	} `json:"format"`
}

// ParseProbe reads ffprobe's JSON report, keeping plausible values only.
func ParseProbe(b []byte) (*Probe, error) {
	var j probeJSON
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&j); err != nil {
		return nil, err
	}
	if len(j.Streams) > MaxStreams {
		return nil, fmt.Errorf("%d streams: more than the %d a creator's file has", len(j.Streams), MaxStreams)
	}
	p := &Probe{Container: j.Format.Name, Duration: j.Format.Duration.float(), Bitrate: j.Format.Bitrate.int()}
	for _, s := range j.Streams {
		st := Stream{
			Index: s.Index.int(), Type: s.CodecType, Codec: s.CodecName, CodecName: s.CodecLong,
			SampleRate: s.SampleRate.int(), Channels: s.Channels.int(), SampleFmt: s.SampleFmt, Bits: s.Bits.int(),
			Width: s.Width.int(), Height: s.Height.int(), FrameRate: s.FrameRate.float(), Duration: s.Duration.float(),
			AttachedPic: s.Disposition.AttachedPic.int() == 1,
		}
		rot := 0.0
		if v, err := strconv.ParseFloat(string(s.Tags.Rotate), 64); err == nil {
			rot = v
		}
		for _, sd := range s.SideData {
			if sd.Rotation != nil {
				if v, err := strconv.ParseFloat(string(*sd.Rotation), 64); err == nil {
					rot = v
				}
			}
		}
		if !math.IsNaN(rot) && !math.IsInf(rot, 0) && math.Abs(rot) < 1e6 {
			st.Rotation = ((int(math.Round(rot/90))*90)%360 + 360) % 360
		}
		if st.Width > 1<<16 || st.Height > 1<<16 {
			st.Width, st.Height = 0, 0
		}
		p.Streams = append(p.Streams, st)
	}
	if p.Duration == 0 {
		for _, s := range p.Streams {
			p.Duration = max(p.Duration, s.Duration)
		}
	}
	return p, nil
}

// ErrNoStream means the file holds no stream of the wanted type.
var ErrNoStream = errors.New("no such stream")
