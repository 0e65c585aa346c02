package media

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// A report as ffmpeg 5.1 writes it at -loglevel level+info, with metadata
// that imitates stream lines (a hostile tag) and an error line.
const sampleReport = `[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/a.m4a':
[info]   Metadata:
[info]     title           : x
[info]                     :   Stream #0:5: Audio: pcm_s32le, 8000 Hz, mono, s32
[info]     comment         : Stream #0:6: Audio: flac, 96000 Hz, stereo, s32
[info]   Duration: 00:01:02.50, start: 0.000000, bitrate: 130 kb/s
[info]   Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 160x120, 20 kb/s, 25 fps (default)
[info]   Stream #0:1[0x2](eng): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)
[info]     Metadata:
[info]       handler_name    : SoundHandler
[info]   Stream #0:2: Audio: alac (alac / 0x63616C61), 48000 Hz, 5.1, s32p (24 bit)
[info] Stream mapping:
[info]   Stream #0:1 -> #0:0 (aac (native) -> pcm_f64le (native))
[aac @ 0x55d0c0ffee00] [error] Input buffer exhausted before END element found
[info] Output #0, wav, to 'pipe:1':
[info]   Stream #0:0: Audio: pcm_f64le ([3][0][0][0] / 0x0003), 44100 Hz, stereo, dbl, 5644 kb/s
[warning] something harmless
[info] size=     689kB time=00:00:01.00 bitrate=5645.6kbits/s speed=37.2x
`

func TestReportParsesFFmpegsDescription(t *testing.T) {
	var errs bytes.Buffer
	r := newReport(&errs)
	// Written in odd pieces, as a pipe delivers it.
	for b := []byte(sampleReport); len(b) > 0; {
		n := min(len(b), 37)
		r.Write(b[:n])
		b = b[n:]
	}
	p, done := r.result()
	if !done || p.Container != "mov,mp4,m4a,3gp,3g2,mj2" || p.Duration != 62.5 || p.Bitrate != 130000 || len(p.Streams) != 3 {
		t.Fatalf("done %v, probe %+v", done, p)
	}
	a := p.Audio()
	if a == nil || a.Index != 1 || a.Codec != "aac" || a.CodecName != "AAC" || a.SampleRate != 44100 || a.SampleFmt != "fltp" {
		t.Errorf("audio %+v", a)
	}
	if s := p.Streams[2]; s.Codec != "alac" || s.SampleFmt != "s32p" || s.Bits != 24 || s.SampleRate != 48000 {
		t.Errorf("alac %+v", s)
	}
	if v := p.Video(); v == nil || v.Codec != "h264" {
		t.Errorf("video %+v", v)
	}
	if got := firstLines(errs.String(), 3); got != "aac: Input buffer exhausted before END element found" {
		t.Errorf("errors %q", got)
	}
}

func FuzzReport(f *testing.F) {
	f.Add([]byte(sampleReport))
	f.Add([]byte("[info]   Stream #0:99999999999999999999: Audio: x, 99999999999999999999 Hz, s16 (99999999999 bit)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var errs bytes.Buffer
		r := newReport(&errs)
		r.Write(b)
		r.Write([]byte("\n[info] Stream mapping:\n"))
		p, done := r.result()
		if !done || len(p.Streams) > MaxStreams || p.Duration < 0 || p.Bitrate < 0 {
			t.Fatalf("done %v, probe %+v", done, p)
		}
	})
}

func FuzzWAVHeader(f *testing.F) {
	hdr := "RIFF\xff\xff\xff\xffWAVEfmt \x28\x00\x00\x00\xfe\xff\x02\x00\x44\xac\x00\x00\x40\xc4\x0a\x00\x10\x00\x40\x00\x16\x00\x40\x00\x03\x00\x00\x00\x03\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71LIST\x04\x00\x00\x00INFOdata\xff\xff\xff\xff"
	f.Add([]byte(hdr))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEJUNK\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rate, ch, err := readWAVHeader(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && (rate < 0 || ch < 0) {
			t.Fatalf("rate %d, channels %d", rate, ch)
		}
	})
}

func TestWAVHeaderOfFFmpeg(t *testing.T) {
	hdr := "RIFF\xff\xff\xff\xffWAVEfmt \x28\x00\x00\x00\xfe\xff\x02\x00\x44\xac\x00\x00\x40\xc4\x0a\x00\x10\x00\x40\x00\x16\x00\x40\x00\x03\x00\x00\x00\x03\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71LIST\x04\x00\x00\x00INFOdata\xff\xff\xff\xff"
	rate, ch, err := readWAVHeader(bufio.NewReader(strings.NewReader(hdr)))
	if err != nil || rate != 44100 || ch != 2 {
		t.Fatalf("rate %d, channels %d, %v", rate, ch, err)
	}
	if _, _, err := readWAVHeader(bufio.NewReader(strings.NewReader("RIFF\x00\x00\x00\x00WAVEJUNK\xff\xff\xff\x7f"))); err == nil {
		t.Fatal("a 2 GiB header chunk was accepted")
	}
}
