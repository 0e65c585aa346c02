// Package meta reads the metadata creators put in their files: ID3v1/v2.3/v2.4
// tags of MP3s (with the embedded cover), Vorbis comments of FLAC and Ogg,
// RIFF INFO, Broadcast WAV bext and iXML chunks of WAVs, AIFF NAME, AUTH,
// ANNO and COMT chunks, and EXIF of JPEG, TIFF, PNG and WebP images.
//
// ID3 and Vorbis comments are read with github.com/dhowden/tag; RIFF, AIFF
// and EXIF are read here (see exif.go for why), every one of them with
// bounded reads: a file claiming a huge chunk or tag yields an error or what
// could be read, never a large allocation, a hang or a panic.
package meta

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// Version is the version of what Read extracts: a cache keyed by content
// hash reads a file again when it changes.
const Version = 1

// Limits of what is read from one file.
const (
	MaxTagBytes   = 16 << 20 // an ID3v2 tag or a FLAC metadata area
	MaxCoverBytes = 8 << 20  // an embedded picture kept for the thumbnail
	MaxChunkBytes = 1 << 20  // a RIFF/AIFF text chunk (INFO, bext, iXML, COMT)
	MaxText       = 4096     // one text value
	maxChunks     = 4096
)

// Meta is what a file says about itself. Empty fields are absent from the file.
type Meta struct {
	Format      string  `json:"format,omitempty"` // id3v2.3, id3v2.4, id3v1, vorbis, riff, aiff, exif (joined with + when several)
	Title       string  `json:"title,omitempty"`
	Artist      string  `json:"artist,omitempty"`
	Album       string  `json:"album,omitempty"`
	AlbumArtist string  `json:"albumArtist,omitempty"`
	Genre       string  `json:"genre,omitempty"`
	Year        int     `json:"year,omitempty"`
	Track       int     `json:"track,omitempty"`
	Comment     string  `json:"comment,omitempty"`
	BPM         float64 `json:"bpm,omitempty"`
	Key         string  `json:"key,omitempty"` // musical key (TKEY, INITIALKEY)
	Copyright   string  `json:"copyright,omitempty"`
	Software    string  `json:"software,omitempty"`
	Date        string  `json:"date,omitempty"` // as the file writes it (ICRD, DATE)

	// Broadcast WAV (bext) and iXML
	Description     string            `json:"description,omitempty"`
	Originator      string            `json:"originator,omitempty"`
	OriginatorRef   string            `json:"originatorRef,omitempty"`
	OriginationDate string            `json:"originationDate,omitempty"` // yyyy-mm-dd
	OriginationTime string            `json:"originationTime,omitempty"` // hh:mm:ss
	TimeReference   uint64            `json:"timeReference,omitempty"`   // samples since midnight
	IXML            map[string]string `json:"ixml,omitempty"`            // PROJECT, SCENE, TAKE, TAPE, NOTE...

	// EXIF
	Camera      string    `json:"camera,omitempty"` // make and model
	Lens        string    `json:"lens,omitempty"`
	Taken       time.Time `json:"taken,omitzero"`
	GPS         bool      `json:"gps,omitempty"` // the image records where it was taken
	Orientation int       `json:"orientation,omitempty"`

	// The embedded cover art (ID3 APIC, FLAC PICTURE): for the thumbnail,
	// never stored with the metadata.
	Cover     []byte `json:"-"`
	CoverMIME string `json:"coverMime,omitempty"`
	HasCover  bool   `json:"hasCover,omitempty"`

	Warnings []string `json:"warnings,omitempty"` // parts that could not be read
}

// ErrUnsupported means the file's type carries no metadata Read knows.
var ErrUnsupported = errors.New("no metadata reader for this file type")

// ReadFile reads the metadata of the file at path.
func ReadFile(path string) (Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, fmt.Errorf("read metadata of %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Meta{}, fmt.Errorf("read metadata of %s: %w", path, err)
	}
	m, err := Read(f, st.Size(), filepath.Base(path))
	if err != nil {
		return m, fmt.Errorf("read metadata of %s: %w", path, err)
	}
	return m, nil
}

// Read reads the metadata of a file of size bytes named name (its extension
// and first bytes choose the reader). A part that cannot be read becomes a
// warning; an error means nothing could be read.
func Read(r io.ReaderAt, size int64, name string) (m Meta, err error) {
	defer func() {
		if p := recover(); p != nil {
			slog.Warn("metadata reader panicked", "file", name, "panic", p, "stack", string(debug.Stack()))
			m, err = Meta{}, fmt.Errorf("the metadata of %s could not be read (a damaged tag); the file itself may still play", name)
		}
	}()
	return readAny(r, size, name)
}

func readAny(r io.ReaderAt, size int64, name string) (m Meta, err error) {
	var head [12]byte
	n, _ := r.ReadAt(head[:], 0)
	h := head[:n]
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case hasPrefix(h, "RIFF") && len(h) >= 12 && (string(h[8:12]) == "WAVE" || string(h[8:12]) == "WEBP"),
		hasPrefix(h, "RF64"), hasPrefix(h, "BW64"):
		if string(h[8:min(12, len(h))]) == "WEBP" {
			err = readWebPExif(r, size, &m)
		} else {
			err = readRIFF(r, size, &m)
		}
	case hasPrefix(h, "FORM") && len(h) >= 12 && (string(h[8:12]) == "AIFF" || string(h[8:12]) == "AIFC"):
		err = readAIFF(r, size, &m)
	case hasPrefix(h, "ID3"), hasPrefix(h, "fLaC"), hasPrefix(h, "OggS"), ext == ".mp3", ext == ".ogg", ext == ".opus", ext == ".oga":
		err = readTags(r, size, &m)
	case hasPrefix(h, "\xff\xd8"), hasPrefix(h, "II*\x00"), hasPrefix(h, "MM\x00*"), hasPrefix(h, "\x89PNG\r\n\x1a\n"):
		err = readImage(r, size, h, &m)
	default:
		return m, ErrUnsupported
	}
	return m, err
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// clean trims a text value: NULs and spaces at the ends, at most MaxText bytes
// of valid UTF-8.
func clean(s string) string {
	s = strings.TrimRight(s, "\x00 \r\n\t")
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxText {
		s = s[:MaxText]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func (m *Meta) addFormat(f string) {
	if m.Format == "" {
		m.Format = f
	} else if !strings.Contains(m.Format, f) {
		m.Format += "+" + f
	}
}

func (m *Meta) warn(format string, a ...any) {
	if len(m.Warnings) < 8 {
		m.Warnings = append(m.Warnings, fmt.Sprintf(format, a...))
	}
}

// set fills a field that is still empty.
func set(dst *string, v string) {
	if *dst == "" {
		*dst = clean(v)
	}
}

func (m *Meta) setCover(data []byte, mime string) {
	if len(data) == 0 || m.Cover != nil {
		return
	}
	m.HasCover = true
	m.CoverMIME = mime
	if len(data) <= MaxCoverBytes {
		m.Cover = data
	} else {
		m.warn("the embedded cover is %d MiB; covers above %d MiB are not used as the thumbnail", len(data)>>20, MaxCoverBytes>>20)
	}
}
