package meta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dhowden/tag"
)

// readTags reads ID3v2 (at the start), ID3v1 (the last 128 bytes), FLAC and
// Ogg Vorbis comments through github.com/dhowden/tag, each from a bounded
// copy of its region.
func readTags(r io.ReaderAt, size int64, m *Meta) error {
	var head [10]byte
	n, _ := r.ReadAt(head[:], 0)
	h := head[:n]
	var errs []error
	switch {
	case hasPrefix(h, "ID3") && n == 10:
		// syncsafe size: 4 × 7 bits, plus the header and an optional footer
		if head[6]|head[7]|head[8]|head[9] >= 0x80 {
			errs = append(errs, errors.New("the ID3v2 header is damaged (its size is not syncsafe)"))
			break
		}
		tagSize := int64(head[6])<<21 | int64(head[7])<<14 | int64(head[8])<<7 | int64(head[9])
		total := 10 + tagSize
		if head[5]&0x10 != 0 {
			total += 10
		}
		if total > size {
			errs = append(errs, fmt.Errorf("the ID3v2 tag claims %d bytes, more than the file holds (%d)", total, size))
			break
		}
		if total > MaxTagBytes {
			m.warn("the ID3v2 tag is %d MiB; tags above %d MiB are not read", total>>20, MaxTagBytes>>20)
			break
		}
		b, err := readAt(r, 0, total)
		if err != nil {
			errs = append(errs, err)
			break
		}
		t, err := tag.ReadID3v2Tags(bytes.NewReader(b))
		if err != nil {
			errs = append(errs, fmt.Errorf("the ID3v2 tag cannot be read: %w", err))
			break
		}
		fromTag(t, m)
	case hasPrefix(h, "fLaC"):
		end, err := flacMetaEnd(r, size)
		if err != nil {
			errs = append(errs, err)
			break
		}
		b, err := readAt(r, 0, end)
		if err != nil {
			errs = append(errs, err)
			break
		}
		t, err := tag.ReadFLACTags(bytes.NewReader(b))
		if err != nil {
			errs = append(errs, fmt.Errorf("the FLAC metadata cannot be read: %w", err))
			break
		}
		fromTag(t, m)
	case hasPrefix(h, "OggS"):
		// the comment header is in the first pages
		b, err := readAt(r, 0, min(size, MaxChunkBytes))
		if err != nil {
			errs = append(errs, err)
			break
		}
		t, err := tag.ReadOGGTags(bytes.NewReader(b))
		if err != nil {
			errs = append(errs, fmt.Errorf("the Ogg comments cannot be read: %w", err))
			break
		}
		fromTag(t, m)
	}
	if size >= 128 && !hasPrefix(h, "fLaC") && !hasPrefix(h, "OggS") {
		if b, err := readAt(r, size-128, 128); err == nil && string(b[:3]) == "TAG" {
			if t, err := tag.ReadID3v1Tags(bytes.NewReader(b)); err == nil {
				fromTag(t, m)
			}
		}
	}
	if m.Format == "" {
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		return nil // an MP3 without tags
	}
	for _, err := range errs {
		m.warn("%v", err)
	}
	return nil
}

// flacMetaEnd is where the FLAC metadata blocks end.
func flacMetaEnd(r io.ReaderAt, size int64) (int64, error) {
	off := int64(4)
	for i := 0; i < 1024; i++ {
		b, err := readAt(r, off, 4)
		if err != nil {
			return 0, fmt.Errorf("the FLAC metadata ends early: %w", err)
		}
		n := int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
		off += 4 + n
		if off > size {
			return 0, fmt.Errorf("a FLAC metadata block claims %d bytes, past the end of the file", n)
		}
		if off > MaxTagBytes {
			return 0, fmt.Errorf("the FLAC metadata is over %d MiB; it is not read", MaxTagBytes>>20)
		}
		if b[0]&0x80 != 0 {
			return off, nil
		}
	}
	return 0, errors.New("the FLAC file has over 1024 metadata blocks; it is not read")
}

// readAt reads n bytes at off.
func readAt(r io.ReaderAt, off, n int64) ([]byte, error) {
	if n < 0 || off < 0 {
		return nil, errors.New("a negative size or offset")
	}
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got == len(b) {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// fromTag copies what t holds into the fields of m still empty.
func fromTag(t tag.Metadata, m *Meta) {
	m.addFormat(strings.ToLower(string(t.Format())))
	set(&m.Title, t.Title())
	set(&m.Artist, t.Artist())
	set(&m.Album, t.Album())
	set(&m.AlbumArtist, t.AlbumArtist())
	set(&m.Genre, t.Genre())
	if m.Year == 0 {
		m.Year = t.Year()
	}
	if m.Track == 0 {
		m.Track, _ = t.Track()
	}
	raw := t.Raw()
	set(&m.Comment, comment(raw))
	if p := t.Picture(); p != nil {
		m.setCover(p.Data, p.MIMEType)
	}
	if m.BPM == 0 {
		for _, k := range []string{"TBPM", "TBP", "bpm", "tempo"} {
			if s, ok := raw[k].(string); ok {
				if x, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(clean(s), ",", ".")), 64); err == nil && x > 0 && x < 1000 {
					m.BPM = x
					break
				}
			}
		}
	}
	for _, k := range []string{"TKEY", "TKE", "initialkey", "key"} {
		if s, ok := raw[k].(string); ok {
			set(&m.Key, s)
		}
	}
	for _, k := range []string{"TCOP", "TCR", "copyright"} {
		if s, ok := raw[k].(string); ok {
			set(&m.Copyright, s)
		}
	}
	for _, k := range []string{"TSSE", "TSS", "encoder", "vendor"} {
		if s, ok := raw[k].(string); ok {
			set(&m.Software, s)
		}
	}
	for _, k := range []string{"TDRC", "TYER", "TYE", "date"} {
		if s, ok := raw[k].(string); ok {
			set(&m.Date, s)
		}
	}
	// TXXX frames: BPM and key as some tools write them
	for k, v := range raw {
		c, ok := v.(*tag.Comm)
		if !ok || !strings.HasPrefix(k, "TXX") {
			continue
		}
		switch strings.ToLower(c.Description) {
		case "bpm", "tempo":
			if x, err := strconv.ParseFloat(strings.TrimSpace(clean(c.Text)), 64); err == nil && x > 0 && x < 1000 && m.BPM == 0 {
				m.BPM = x
			}
		case "key", "initialkey", "initial key":
			set(&m.Key, c.Text)
		case "comment", "description": // ffmpeg writes the comment so
			set(&m.Comment, c.Text)
		}
	}
}

// comment is the first comment of an ID3v2 tag (COMM text), a Vorbis
// COMMENT or DESCRIPTION, or the ID3v1 comment.
func comment(raw map[string]any) string {
	for _, k := range []string{"COMM", "COM"} {
		if c, ok := raw[k].(*tag.Comm); ok {
			if c.Text != "" {
				return c.Text
			}
			return c.Description
		}
	}
	for _, k := range []string{"comment", "description"} {
		if s, ok := raw[k].(string); ok {
			return s
		}
	}
	return ""
}
