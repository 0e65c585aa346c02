package media

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"atelier/app/preview/testmedia"
)

func head(t testing.TB, p string) []byte {
	t.Helper()
	b := testmedia.Read(t, p)
	return b[:min(len(b), SniffLen)]
}

// TestSniffMadeFiles: files made by sox, lame and ffmpeg are named by
// their content, whatever their extension.
func TestSniffMadeFiles(t *testing.T) {
	dir := t.TempDir()
	wav := testmedia.Music(t, dir, "m.wav", 44100, 2, 1)
	e := func(name string, args ...string) string {
		return testmedia.Encode(t, wav, filepath.Join(dir, name), args...)
	}
	video := func(name string, args ...string) string {
		return testmedia.Video(t, dir, name, 64, 48, 0.5, args...)
	}
	cases := []struct {
		path string
		want Format
	}{
		{wav, WAV},
		{e("a.aiff", "-c:a", "pcm_s16be"), AIFF},
		{e("a.aifc", "-c:a", "pcm_f32be", "-f", "aiff"), AIFC},
		{e("a.flac"), FLAC},
		{testmedia.Lame(t, wav, filepath.Join(dir, "a.mp3"), "-b", "128"), MP3},
		{e("id3.mp3", "-c:a", "libmp3lame", "-id3v2_version", "3", "-metadata", "title=x"), MP3},
		{e("a.mp2", "-c:a", "mp2"), MP2},
		{e("a.ogg", "-c:a", "libvorbis"), Vorbis},
		{e("a.opus", "-c:a", "libopus"), Opus},
		{e("f.oga", "-c:a", "flac"), OggFLAC},
		{e("s.spx", "-c:a", "libspeex", "-ar", "16000", "-ac", "1"), Speex},
		{e("a.m4a", "-c:a", "aac"), M4A},
		{e("a.aac", "-c:a", "aac"), AAC},
		{e("a.mka", "-c:a", "libvorbis"), Matroska},
		{e("a.webm", "-c:a", "libopus"), WebM},
		{e("a.wma", "-c:a", "wmav2"), ASF},
		{e("a.caf", "-c:a", "pcm_s16le"), CAF},
		{e("a.wv", "-c:a", "wavpack"), WavPack},
		{e("a.ac3", "-c:a", "ac3"), AC3},
		{e("a.au", "-c:a", "pcm_s16be"), Format{ID: "au", Name: "Sun/NeXT audio (.au)", Kind: Audio, Demuxer: "au"}},
		{video("v.mp4", "-c:v", "libx264", "-preset", "ultrafast"), MP4},
		{video("v.mov", "-c:v", "mjpeg"), MOV},
		{video("v.3gp", "-c:v", "mpeg4", "-an"), ThreeGP},
		{video("v.mkv", "-c:v", "mjpeg"), Matroska},
		{video("v.webm", "-c:v", "libvpx"), WebM},
		{video("v.avi", "-c:v", "mjpeg"), AVI},
		{video("v.ogv", "-c:v", "libtheora"), Theora},
		{video("v.flv", "-c:v", "flv", "-an"), FLV},
		{video("v.ts", "-c:v", "mpeg2video"), MPEGTS},
		{video("v.mpg", "-c:v", "mpeg2video"), MPEGPS},
	}
	for _, c := range cases {
		// The name says nothing: copy under a neutral one.
		got := Sniff(head(t, c.path))
		if got != c.want {
			t.Errorf("%s: sniffed %+v, want %+v", filepath.Base(c.path), got, c.want)
		}
	}
}

func TestSniffBytes(t *testing.T) {
	cases := map[string]string{
		"MThd\x00\x00\x00\x06":                         "midi",
		"RIFF\x10\x00\x00\x00RMIDdata":                 "midi",
		"\x89PNG\r\n\x1a\n\x00\x00":                    "png",
		"\xFF\xD8\xFF\xE0\x00\x10JFIF":                 "jpeg",
		"%PDF-1.4":                                     "pdf",
		"PK\x03\x04\x14\x00":                           "zip",
		"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1": "heif",
		"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00":     "m4a",
		"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00":     "mov",
		"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00":     "3gp",
		"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat":     "mov",
		"FORM\x00\x00\x00\x00AIFC":                     "aifc",
		"wvpk":                                         "wavpack",
		"#!AMR\n":                                      "amr",
		"caff\x00\x01":                                 "caf",
		"\xFF\xFB\x90\x64":                             "mp3", // MPEG-1 layer III
		"\xFF\xE3\x18\xC4":                             "mp3", // MPEG-2.5 layer III
		"\xFF\xFD\x90\x64":                             "mp2", // layer II
		"\xFF\xF1\x50\x80":                             "aac", // ADTS
		"":                                             "",
		"hello":                                        "",
	}
	for in, want := range cases {
		if got := Sniff([]byte(in)).ID; got != want {
			t.Errorf("Sniff(%q) = %q, want %q", in, got, want)
		}
	}
	if d := Describe(Sniff([]byte("MThd")), nil); d != "a MIDI (notes, not recorded sound) file" {
		t.Errorf("Describe MIDI: %q", d)
	}
	if d := Describe(Opus, nil); d != "an Ogg Opus file" {
		t.Errorf("Describe Opus: %q", d)
	}
	if d := Describe(Format{}, []byte("hello")); !strings.Contains(d, "68 65 6c 6c 6f") {
		t.Errorf("Describe unknown: %q", d)
	}
}

// TestProbeAndPoster: ffprobe finds a clip's streams, size and rotation;
// the poster is an upright PNG within the requested size.
func TestProbeAndPoster(t *testing.T) {
	dir := t.TempDir()
	clip := testmedia.Video(t, dir, "clip.mp4", 320, 180, 3, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")
	rotated := filepath.Join(dir, "rot.mp4")
	testmedia.Run(t, "ffmpeg", "-v", "error", "-y", "-i", clip, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
	ctx := context.Background()
	for _, c := range []struct {
		path        string
		w, h, rot   int
		posterW, pH int
	}{
		{clip, 320, 180, 0, 160, 90},
		{rotated, 320, 180, 90, 90, 160},
	} {
		f := Sniff(head(t, c.path))
		p, err := ProbeFile(ctx, c.path, f, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		v, a := p.Video(), p.Audio()
		if v == nil || a == nil || v.Width != c.w || v.Height != c.h || v.Rotation != c.rot || v.Codec != "h264" || a.Codec != "aac" {
			t.Fatalf("%s: probe %+v", c.path, p)
		}
		if p.Duration < 2.9 || p.Duration > 3.1 || v.FrameRate != 25 {
			t.Errorf("duration %.3f, frame rate %.2f", p.Duration, v.FrameRate)
		}
		b, err := Poster(ctx, c.path, f, *v, 1, 160, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != c.posterW || img.Bounds().Dy() != c.pH {
			t.Errorf("%s: poster %v, want %dx%d", filepath.Base(c.path), img.Bounds(), c.posterW, c.pH)
		}
	}
	// Past the end: the first frame instead.
	f := Sniff(head(t, clip))
	p, _ := ProbeFile(ctx, clip, f, Limits{})
	if b, err := Poster(ctx, clip, f, *p.Video(), 3600, 64, Limits{}); err != nil || len(b) == 0 {
		t.Errorf("poster past the end: %d bytes, %v", len(b), err)
	}
}

// TestNamesAreNotProtocols: a file named like an ffmpeg protocol is read as
// a file.
func TestNamesAreNotProtocols(t *testing.T) {
	dir := t.TempDir()
	src := testmedia.Encode(t, testmedia.Music(t, dir, "m.wav", 8000, 1, 1), filepath.Join(dir, "m.ogg"), "-c:a", "libvorbis")
	weird := filepath.Join(dir, "concat:x|y.ogg")
	if err := os.Rename(src, weird); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Getwd()
	defer os.Chdir(old)
	os.Chdir(dir)
	p, err := ProbeFile(context.Background(), "concat:x|y.ogg", Vorbis, Limits{})
	if err != nil || p.Audio() == nil {
		t.Fatalf("probe %q: %v", weird, err)
	}
}

func TestLimitsStopFFmpeg(t *testing.T) {
	dir := t.TempDir()
	clip := testmedia.Video(t, dir, "clip.mkv", 320, 240, 2, "-c:v", "libvpx", "-an")
	f := Sniff(head(t, clip))
	_, err := ProbeFile(context.Background(), clip, f, Limits{Memory: 32 << 20})
	if err == nil || !strings.Contains(err.Error(), "memory limit") || !strings.Contains(err.Error(), "clip.mkv") {
		t.Errorf("32 MiB address space: %v", err)
	}
	_, err = ProbeFile(context.Background(), clip, f, Limits{Timeout: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "took longer") {
		t.Errorf("1 ms: %v", err)
	}
}

func TestParseProbe(t *testing.T) {
	p, err := ParseProbe([]byte(`{"streams":[{"index":0,"codec_type":"video","codec_name":"h264","width":1920,"height":1080,"avg_frame_rate":"30000/1001","side_data_list":[{"rotation":-90}]},
		{"index":1,"codec_type":"video","codec_name":"mjpeg","width":600,"height":600,"disposition":{"attached_pic":1}},
		{"index":2,"codec_type":"audio","codec_name":"aac","sample_rate":"48000","channels":2,"sample_fmt":"fltp"}],
		"format":{"format_name":"mov,mp4","duration":"12.5","bit_rate":"800000"}}`))
	if err != nil {
		t.Fatal(err)
	}
	v := p.Video()
	if v == nil || v.Index != 0 || v.Rotation != 270 || v.FrameRate < 29.96 || v.FrameRate > 29.98 || p.Duration != 12.5 || p.Bitrate != 800000 {
		t.Errorf("%+v %+v", p, v)
	}
	if a := p.Audio(); a == nil || a.SampleRate != 48000 || a.SampleFmt != "fltp" {
		t.Errorf("audio %+v", a)
	}
	if _, err := ParseProbe([]byte(`{"streams":[` + strings.Repeat(`{},`, MaxStreams) + `{}]}`)); err == nil {
		t.Error("too many streams accepted")
	}
	if p, err := ParseProbe([]byte(`{"streams":[{"width":"1e300","height":-5,"sample_rate":"NaN","avg_frame_rate":"1/0"}],"format":{"duration":"inf"}}`)); err != nil || p.Streams[0].Width != 0 || p.Duration != 0 {
		t.Errorf("implausible values kept: %+v %v", p, err)
	}
}

func FuzzSniff(f *testing.F) {
	for _, s := range []string{"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e\x01vorbis",
		"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "ID3\x04\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00fLaC",
		"\x1A\x45\xDF\xA3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "FORM\x00\x00\x00\x00AIFF", "\xFF\xF1\x50\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Sniff(b)
		if got.Known() && (got.Name == "" || got.Kind == "") {
			t.Fatalf("row without a name or kind: %+v", got)
		}
		if d := Describe(got, b); d == "" {
			t.Fatal("empty description")
		}
	})
}

func FuzzParseProbe(f *testing.F) {
	f.Add([]byte(`{"streams":[{"index":0,"codec_type":"audio","sample_rate":"44100","channels":2,"side_data_list":[{"rotation":"90"}],"tags":{"rotate":"x"}}],"format":{"duration":"1.5"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProbe(b)
		if err != nil {
			return
		}
		for _, s := range p.Streams {
			if s.Width < 0 || s.Height < 0 || s.Width > 1<<16 || s.Rotation%90 != 0 || s.Rotation < 0 || s.Rotation >= 360 || s.SampleRate < 0 || s.Channels < 0 {
				t.Fatalf("implausible stream kept: %+v", s)
			}
		}
		if p.Duration < 0 || p.Duration > 1e12 {
			t.Fatalf("duration %v", p.Duration)
		}
	})
}

// TestSniffFileLooksPastID3: an AAC or FLAC file whose ID3 tag (cover art,
// long comments) is longer than the sniffed head is named for its audio.
func TestSniffFileLooksPastID3(t *testing.T) {
	dir := t.TempDir()
	wav := testmedia.Music(t, dir, "m.wav", 44100, 2, 1)
	long := strings.Repeat("a long comment ", 600)
	for _, c := range []struct {
		name string
		args []string
		want Format
	}{
		{"a.aac", []string{"-c:a", "aac", "-f", "adts", "-write_id3v2", "1", "-metadata", "comment=" + long}, AAC},
		{"a.mp3", []string{"-c:a", "libmp3lame", "-metadata", "comment=" + long}, MP3},
	} {
		p := testmedia.Encode(t, wav, filepath.Join(dir, c.name), c.args...)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		got, head, err := SniffFile(f, st.Size())
		f.Close()
		if err != nil || got != c.want || string(head[:3]) != "ID3" {
			t.Errorf("%s: %+v %v (head %q)", c.name, got, err, head[:min(len(head), 3)])
		}
	}
}
