package meta

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tool runs a media tool the tests need (scripts/deps.sh test installs them:
// sox, lame, ffmpeg, imagemagick, libimage-exiftool-perl). A missing tool
// fails the test: it never skips.
func tool(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed by this test (scripts/deps.sh test installs it): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// media makes the test files once per test binary run.
func media(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tool(t, dir, "sox", "-n", "-r", "44100", "-c", "1", "-b", "16", "tone.wav", "synth", "0.5", "sine", "440")
	tool(t, dir, "convert", "-size", "32x32", "xc:red", "cover.jpg")
	return dir
}

func read(t *testing.T, path string) Meta {
	t.Helper()
	m, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", filepath.Base(path), err)
	}
	return m
}

func check(t *testing.T, file, field, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %s = %q, want %q", file, field, got, want)
	}
}

func TestID3(t *testing.T) {
	dir := media(t)
	cover, _ := os.ReadFile(filepath.Join(dir, "cover.jpg"))
	tool(t, dir, "lame", "--quiet", "--tt", "Night Drive", "--ta", "Mara", "--tl", "Neon", "--ty", "2024", "--tc", "best take",
		"--tg", "Synthwave", "--ti", "cover.jpg", "--tv", "TBPM=122", "--tv", "TKEY=Am", "--id3v2-only", "tone.wav", "v23.mp3")
	tool(t, dir, "ffmpeg", "-v", "error", "-i", "tone.wav", "-i", "cover.jpg", "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "copy",
		"-id3v2_version", "4", "-metadata", "title=Nacht Fahrt ü", "-metadata", "artist=Mara", "-metadata", "album=Neon",
		"-metadata", "comment=v24 comment", "-metadata", "TBPM=118", "-metadata", "TKEY=F#m", "-metadata:s:v", "comment=Cover (front)", "v24.mp3")
	tool(t, dir, "lame", "--quiet", "--tt", "Old Tag", "--ta", "Someone", "--tl", "Album1", "--tc", "v1 comment", "--id3v1-only", "tone.wav", "v1.mp3")
	tool(t, dir, "lame", "--quiet", "tone.wav", "bare.mp3")

	m := read(t, filepath.Join(dir, "v23.mp3"))
	check(t, "v23.mp3", "format", m.Format, "id3v2.3")
	check(t, "v23.mp3", "title", m.Title, "Night Drive")
	check(t, "v23.mp3", "artist", m.Artist, "Mara")
	check(t, "v23.mp3", "album", m.Album, "Neon")
	check(t, "v23.mp3", "comment", m.Comment, "best take")
	check(t, "v23.mp3", "key", m.Key, "Am")
	check(t, "v23.mp3", "genre", m.Genre, "Synthwave")
	if m.BPM != 122 || m.Year != 2024 {
		t.Errorf("v23.mp3: bpm %v year %v, want 122 2024", m.BPM, m.Year)
	}
	if !bytes.Equal(m.Cover, cover) || m.CoverMIME != "image/jpeg" || !m.HasCover {
		t.Errorf("v23.mp3: cover %d bytes %q, want the %d-byte JPEG", len(m.Cover), m.CoverMIME, len(cover))
	}

	m = read(t, filepath.Join(dir, "v24.mp3"))
	check(t, "v24.mp3", "format", m.Format, "id3v2.4")
	check(t, "v24.mp3", "title", m.Title, "Nacht Fahrt ü")
	check(t, "v24.mp3", "comment", m.Comment, "v24 comment")
	check(t, "v24.mp3", "key", m.Key, "F#m")
	if m.BPM != 118 || !bytes.Equal(m.Cover, cover) {
		t.Errorf("v24.mp3: bpm %v cover %d bytes", m.BPM, len(m.Cover))
	}

	m = read(t, filepath.Join(dir, "v1.mp3"))
	check(t, "v1.mp3", "format", m.Format, "id3v1")
	check(t, "v1.mp3", "title", m.Title, "Old Tag")
	check(t, "v1.mp3", "artist", m.Artist, "Someone")
	check(t, "v1.mp3", "album", m.Album, "Album1")
	check(t, "v1.mp3", "comment", m.Comment, "v1 comment")

	m = read(t, filepath.Join(dir, "bare.mp3"))
	if m.Format != "" || m.Title != "" {
		t.Errorf("bare.mp3: %+v, want nothing", m)
	}
}

func TestFLAC(t *testing.T) {
	dir := media(t)
	cover, _ := os.ReadFile(filepath.Join(dir, "cover.jpg"))
	tool(t, dir, "ffmpeg", "-v", "error", "-i", "tone.wav", "-i", "cover.jpg", "-map", "0", "-map", "1", "-c:v", "copy", "-disposition:v", "attached_pic",
		"-metadata", "title=Flac Title", "-metadata", "artist=Flac Artist", "-metadata", "BPM=90", "-metadata", "INITIALKEY=C",
		"-metadata", "comment=flac comment", "t.flac")
	m := read(t, filepath.Join(dir, "t.flac"))
	check(t, "t.flac", "format", m.Format, "vorbis")
	check(t, "t.flac", "title", m.Title, "Flac Title")
	check(t, "t.flac", "artist", m.Artist, "Flac Artist")
	check(t, "t.flac", "comment", m.Comment, "flac comment")
	check(t, "t.flac", "key", m.Key, "C")
	if m.BPM != 90 || !bytes.Equal(m.Cover, cover) {
		t.Errorf("t.flac: bpm %v, cover %d bytes (want 90, %d)", m.BPM, len(m.Cover), len(cover))
	}
}

// appendChunk adds a RIFF chunk to a WAV and fixes the RIFF size.
func appendChunk(t *testing.T, path, id string, data []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWAV(t *testing.T) {
	dir := media(t)
	tool(t, dir, "ffmpeg", "-v", "error", "-i", "tone.wav", "-metadata", "title=Wav Title", "-metadata", "artist=Wav Artist",
		"-metadata", "comment=wav comment", "-metadata", "album=Wav Album", "-write_bext", "1",
		"-metadata", "description=BWF description", "-metadata", "originator=Atelier Test", "-metadata", "originator_reference=REF123",
		"-metadata", "origination_date=2024-05-01", "-metadata", "origination_time=10:20:30", "-metadata", "time_reference=441000", "t.wav")
	// iXML as a field recorder writes it (ffmpeg does not)
	appendChunk(t, filepath.Join(dir, "t.wav"), "iXML", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<BWFXML><IXML_VERSION>1.5</IXML_VERSION><PROJECT>Night Drive</PROJECT><SCENE>12A</SCENE><TAKE>3</TAKE><TAPE>T01</TAPE>
<NOTE>wind noise</NOTE><SPEED><TIMECODE_RATE>25/1</TIMECODE_RATE></SPEED></BWFXML>`))
	m := read(t, filepath.Join(dir, "t.wav"))
	check(t, "t.wav", "format", m.Format, "riff")
	check(t, "t.wav", "title", m.Title, "Wav Title")
	check(t, "t.wav", "artist", m.Artist, "Wav Artist")
	check(t, "t.wav", "album", m.Album, "Wav Album")
	check(t, "t.wav", "comment", m.Comment, "wav comment")
	check(t, "t.wav", "description", m.Description, "BWF description")
	check(t, "t.wav", "originator", m.Originator, "Atelier Test")
	check(t, "t.wav", "originatorRef", m.OriginatorRef, "REF123")
	check(t, "t.wav", "originationDate", m.OriginationDate, "2024-05-01")
	check(t, "t.wav", "originationTime", m.OriginationTime, "10:20:30")
	if m.TimeReference != 441000 {
		t.Errorf("t.wav: time reference %d, want 441000", m.TimeReference)
	}
	want := map[string]string{"PROJECT": "Night Drive", "SCENE": "12A", "TAKE": "3", "TAPE": "T01", "NOTE": "wind noise"}
	for k, v := range want {
		check(t, "t.wav", "iXML "+k, m.IXML[k], v)
	}
	if len(m.IXML) != len(want) {
		t.Errorf("t.wav: iXML %v, want %v", m.IXML, want)
	}

}

func TestAIFF(t *testing.T) {
	dir := media(t)
	tool(t, dir, "ffmpeg", "-v", "error", "-i", "tone.wav", "-metadata", "title=Aiff Title", "-metadata", "author=Aiff Author",
		"-metadata", "comment=aiff anno", "-metadata", "copyright=2024 Mara", "t.aiff")
	m := read(t, filepath.Join(dir, "t.aiff"))
	check(t, "t.aiff", "format", m.Format, "aiff")
	check(t, "t.aiff", "title", m.Title, "Aiff Title")
	check(t, "t.aiff", "artist", m.Artist, "Aiff Author")
	check(t, "t.aiff", "comment", m.Comment, "aiff anno")
	check(t, "t.aiff", "copyright", m.Copyright, "2024 Mara")

	// an ID3 chunk (ffmpeg -write_id3v2) fills the rest
	tool(t, dir, "ffmpeg", "-v", "error", "-i", "tone.wav", "-write_id3v2", "1", "-metadata", "title=Id3 In Aiff", "-metadata", "album=Aiff Album", "-metadata", "TBPM=100", "id3.aiff")
	m = read(t, filepath.Join(dir, "id3.aiff"))
	check(t, "id3.aiff", "album", m.Album, "Aiff Album")
	if m.BPM != 100 {
		t.Errorf("id3.aiff: bpm %v, want 100", m.BPM)
	}
}

func TestEXIF(t *testing.T) {
	dir := media(t)
	for _, f := range []string{"a.jpg", "a.tif", "a.png", "a.webp"} {
		tool(t, dir, "convert", "-size", "16x16", "xc:blue", f)
		tool(t, dir, "exiftool", "-q", "-overwrite_original", "-Make=Canon", "-Model=Canon EOS R6", "-LensModel=RF35mm F1.8 MACRO IS STM",
			"-DateTimeOriginal=2024:05:01 10:20:30", "-OffsetTimeOriginal=+02:00", "-Orientation#=6",
			"-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E", f)
		m := read(t, filepath.Join(dir, f))
		check(t, f, "format", m.Format, "exif")
		check(t, f, "camera", m.Camera, "Canon EOS R6")
		check(t, f, "lens", m.Lens, "RF35mm F1.8 MACRO IS STM")
		if want := time.Date(2024, 5, 1, 8, 20, 30, 0, time.UTC); !m.Taken.Equal(want) {
			t.Errorf("%s: taken %v, want %v", f, m.Taken, want)
		}
		if !m.GPS || m.Orientation != 6 {
			t.Errorf("%s: gps %v orientation %d, want true 6", f, m.GPS, m.Orientation)
		}
	}
	// a photo without GPS, with make and model apart
	tool(t, dir, "convert", "-size", "16x16", "xc:green", "b.jpg")
	tool(t, dir, "exiftool", "-q", "-overwrite_original", "-Make=FUJIFILM", "-Model=X-T4", "-DateTimeOriginal=2023:01:02 03:04:05", "b.jpg")
	m := read(t, filepath.Join(dir, "b.jpg"))
	check(t, "b.jpg", "camera", m.Camera, "FUJIFILM X-T4")
	if m.GPS || m.Taken.Year() != 2023 {
		t.Errorf("b.jpg: gps %v taken %v", m.GPS, m.Taken)
	}
	// no EXIF at all
	m = read(t, filepath.Join(dir, "cover.jpg"))
	if m.Format != "" || m.Camera != "" {
		t.Errorf("cover.jpg: %+v, want nothing", m)
	}
}

func TestUnsupportedAndDamaged(t *testing.T) {
	if _, err := Read(bytes.NewReader([]byte("plain text")), 10, "notes.txt"); err != ErrUnsupported {
		t.Errorf("a text file: %v, want ErrUnsupported", err)
	}
	// an ID3 header claiming 256 MiB in a 110-byte file: an error, no allocation of that size
	b := append([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"), bytes.Repeat([]byte{0}, 100)...)
	_, err := Read(bytes.NewReader(b), int64(len(b)), "huge.mp3")
	if err == nil || !strings.Contains(err.Error(), "more than the file holds") {
		t.Errorf("a huge ID3 size: %v", err)
	}
	// a WAV whose chunk claims more than the file
	w := []byte("RIFF\x00\x00\x00\x00WAVELIST\xff\xff\xff\x7fINFOINAM")
	if _, err := Read(bytes.NewReader(w), int64(len(w)), "cut.wav"); err != nil {
		t.Errorf("a cut WAV: %v", err)
	}
	// a TIFF whose IFDs point at each other
	tf := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x69\x87\x04\x00\x01\x00\x00\x00\x08\x00\x00\x00\x08\x00\x00\x00")
	if _, err := Read(bytes.NewReader(tf), int64(len(tf)), "loop.tif"); err != nil {
		t.Errorf("a looping TIFF: %v", err)
	}
	if _, err := ReadFile("/nonexistent/x.mp3"); err == nil || !strings.Contains(err.Error(), "/nonexistent/x.mp3") {
		t.Errorf("a missing file: %v (want its path in the error)", err)
	}
}
