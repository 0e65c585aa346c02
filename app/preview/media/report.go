package media

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// report reads ffmpeg's standard error at -loglevel level+info: the input
// file's description ffmpeg prints before it decodes (container, duration,
// bit rate, streams: what ffprobe would have said, so one process does
// both) and, after it, the messages of level error and worse, which go to
// errs as at -loglevel error. Lines are parsed as they arrive; ready is
// closed once the description is complete ("Stream mapping:").
type report struct {
	errs io.Writer

	mu      sync.Mutex
	partial []byte
	probe   Probe
	inInput bool
	done    bool
	ready   chan struct{}
}

func newReport(errs io.Writer) *report { return &report{errs: errs, ready: make(chan struct{})} }

// maxReportLine bounds one buffered line (a metadata value can be long).
const maxReportLine = 8 << 10

func (r *report) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxReportLine - len(r.partial)
			r.partial = append(r.partial, p[:max(0, min(room, len(p)))]...)
			break
		}
		line := p[:i]
		if len(r.partial) > 0 {
			room := maxReportLine - len(r.partial)
			r.partial = append(r.partial, line[:max(0, min(room, len(line)))]...)
			line = r.partial
		}
		r.line(string(bytes.TrimRight(line, "\r")))
		r.partial = r.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// logLine splits "[ctx @ 0x…] [level] message" into level and the line
// without the level tag (the context stays: firstLines shortens it).
var logLine = regexp.MustCompile(`^((?:\[[^\]]* @ 0x[0-9a-f]+\] )*)\[(quiet|panic|fatal|error|warning|info|verbose|debug|trace)\] `)

var (
	inputLine    = regexp.MustCompile(`^Input #0, ([^ ]+), from `)
	durationLine = regexp.MustCompile(`^  Duration: (N/A|(\d+):(\d\d):(\d\d(?:\.\d+)?)), .*bitrate: (N/A|(\d+) kb/s)`)
	// "  Stream #0:1[0x1c0](eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)":
	// exactly two spaces of indent, which no metadata line has.
	streamLine = regexp.MustCompile(`^  Stream #0:(\d+)(?:\[0x[0-9a-f]+\])?(?:\([^)]*\))?: (Audio|Video|Subtitle|Data|Attachment): ([a-z0-9_]+)(.*)$`)
	sampleFmt  = regexp.MustCompile(`^(u8|s16|s32|s64|flt|dbl)p?(?: \((\d+) bit\))?$`)
	rateField  = regexp.MustCompile(`^(\d+) Hz$`)
)

func (r *report) line(s string) {
	m := logLine.FindStringSubmatch(s)
	if m == nil { // not ffmpeg's: the loader's or prlimit's, an error
		r.errs.Write([]byte(s + "\n"))
		return
	}
	level, msg := m[2], s[len(m[0]):]
	switch level {
	case "panic", "fatal", "error":
		r.errs.Write([]byte(m[1] + msg + "\n"))
		return
	case "info":
	default:
		return
	}
	if r.done || m[1] != "" {
		return
	}
	switch {
	case msg == "Stream mapping:" || strings.HasPrefix(msg, "Output #0"):
		r.finish()
	case inputLine.MatchString(msg):
		r.inInput = true
		r.probe.Container = inputLine.FindStringSubmatch(msg)[1]
	case !r.inInput:
	case durationLine.MatchString(msg):
		d := durationLine.FindStringSubmatch(msg)
		if d[1] != "N/A" {
			h, _ := strconv.Atoi(d[2])
			mi, _ := strconv.Atoi(d[3])
			sec, _ := strconv.ParseFloat(d[4], 64)
			r.probe.Duration = finite(float64(h)*3600 + float64(mi)*60 + sec)
		}
		if d[6] != "" {
			if kb, err := strconv.Atoi(d[6]); err == nil && kb < 1<<20 {
				r.probe.Bitrate = kb * 1000
			}
		}
	case streamLine.MatchString(msg) && len(r.probe.Streams) < MaxStreams:
		r.probe.Streams = append(r.probe.Streams, parseStreamLine(streamLine.FindStringSubmatch(msg)))
	}
}

func parseStreamLine(m []string) Stream {
	idx, _ := strconv.Atoi(m[1])
	st := Stream{Index: min(idx, 1<<20), Type: strings.ToLower(m[2]), Codec: m[3], CodecName: codecName(m[3])}
	fields := strings.Split(m[4], ", ")
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if i == 0 {
			continue // the codec's profile and tag
		}
		if rm := rateField.FindStringSubmatch(f); rm != nil && st.Type == "audio" {
			st.SampleRate, _ = strconv.Atoi(rm[1])
			continue
		}
		if sm := sampleFmt.FindStringSubmatch(f); sm != nil && st.Type == "audio" && st.SampleFmt == "" {
			st.SampleFmt, _, _ = strings.Cut(f, " ")
			if sm[2] != "" {
				st.Bits, _ = strconv.Atoi(sm[2])
			}
		}
	}
	if strings.Contains(m[4], "(attached pic)") {
		st.AttachedPic = true
	}
	return st
}

// codecNames are the display names of the codecs creators' files hold
// (ffprobe's codec_long_name up to its first parenthesis).
var codecNames = map[string]string{
	"vorbis": "Vorbis", "opus": "Opus", "aac": "AAC", "alac": "ALAC", "flac": "FLAC", "mp3": "MP3",
	"mp2": "MP2", "ac3": "ATSC A/52A", "eac3": "ATSC A/52B", "wmav1": "Windows Media Audio 1",
	"wmav2": "Windows Media Audio 2", "wmapro": "Windows Media Audio 9 Professional", "speex": "Speex",
	"amr_nb": "AMR-NB", "amr_wb": "AMR-WB", "dts": "DCA", "truehd": "TrueHD", "wavpack": "WavPack", "ape": "Monkey's Audio",
	"h264": "H.264", "hevc": "H.265", "vp8": "On2 VP8", "vp9": "Google VP9", "av1": "Alliance for Open Media AV1",
	"mpeg4": "MPEG-4 part 2", "prores": "Apple ProRes", "mjpeg": "Motion JPEG",
}

func codecName(c string) string {
	if n, ok := codecNames[c]; ok {
		return n
	}
	if strings.HasPrefix(c, "pcm_") {
		return "PCM " + strings.TrimPrefix(c, "pcm_")
	}
	return c
}

func (r *report) finish() {
	if !r.done {
		r.done = true
		close(r.ready)
	}
}

// result is the description parsed so far and whether it is complete.
func (r *report) result() (Probe, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.probe
	p.Streams = append([]Stream(nil), p.Streams...)
	return p, r.done
}
