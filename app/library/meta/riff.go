package meta

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dhowden/tag"
)

// chunk is one RIFF or IFF chunk: its id, where its data starts and its size.
type chunk struct {
	id   string
	off  int64
	size int64
}

// chunks lists the chunks from off to end (sizes little-endian for RIFF,
// big-endian for IFF), padded to even sizes. A size past the end is cut to
// the end (a file still being written, or RF64's 0xFFFFFFFF) and ends the walk.
func chunks(r io.ReaderAt, off, end int64, order binary.ByteOrder) ([]chunk, error) {
	var out []chunk
	for off+8 <= end && len(out) < maxChunks {
		var h [8]byte
		if _, err := r.ReadAt(h[:], off); err != nil {
			return out, fmt.Errorf("chunk header at byte %d: %w", off, err)
		}
		c := chunk{id: string(h[:4]), off: off + 8, size: int64(order.Uint32(h[4:]))}
		if c.off+c.size > end {
			c.size = end - c.off
			out = append(out, c)
			return out, nil
		}
		out = append(out, c)
		off = c.off + c.size + c.size&1
	}
	return out, nil
}

// readRIFF reads the LIST INFO, bext, iXML and id3 chunks of a WAV (RIFF,
// RF64 or BW64).
func readRIFF(r io.ReaderAt, size int64, m *Meta) error {
	cs, err := chunks(r, 12, size, binary.LittleEndian)
	if err != nil && len(cs) == 0 {
		return fmt.Errorf("the WAV chunks cannot be read: %w", err)
	}
	if err != nil {
		m.warn("%v", err)
	}
	found := false
	for _, c := range cs {
		switch c.id {
		case "LIST":
			b, err := chunkData(r, c)
			if err != nil || len(b) < 4 || string(b[:4]) != "INFO" {
				continue
			}
			readINFO(b[4:], m)
			found = true
		case "bext":
			b, err := chunkData(r, c)
			if err != nil {
				m.warn("the bext chunk cannot be read: %v", err)
				continue
			}
			readBext(b, m)
			found = true
		case "iXML":
			b, err := chunkData(r, c)
			if err != nil {
				m.warn("the iXML chunk cannot be read: %v", err)
				continue
			}
			if err := readIXML(b, m); err != nil {
				m.warn("the iXML chunk is not valid XML: %v", err)
				continue
			}
			found = true
		case "id3 ", "ID3 ":
			if readID3Chunk(r, c, m) {
				found = true
			}
		}
	}
	if m.Comment == "" && m.Description != "" {
		m.Comment = m.Description
	}
	if found {
		m.addFormat("riff")
	}
	return nil
}

// chunkData reads a chunk of at most MaxChunkBytes.
func chunkData(r io.ReaderAt, c chunk) ([]byte, error) {
	if c.size > MaxChunkBytes {
		return nil, fmt.Errorf("the %q chunk is %d KiB, more than the %d KiB read", c.id, c.size>>10, MaxChunkBytes>>10)
	}
	return readAt(r, c.off, c.size)
}

// readID3Chunk reads an ID3v2 tag stored in a WAV or AIFF chunk.
func readID3Chunk(r io.ReaderAt, c chunk, m *Meta) bool {
	if c.size > MaxTagBytes {
		m.warn("the ID3 chunk is %d MiB; it is not read", c.size>>20)
		return false
	}
	b, err := readAt(r, c.off, c.size)
	if err != nil {
		return false
	}
	t, err := tag.ReadID3v2Tags(bytes.NewReader(b))
	if err != nil {
		m.warn("the ID3 chunk cannot be read: %v", err)
		return false
	}
	fromTag(t, m)
	return true
}

// readINFO reads the subchunks of a LIST INFO chunk.
func readINFO(b []byte, m *Meta) {
	for len(b) >= 8 {
		id := string(b[:4])
		n := int(binary.LittleEndian.Uint32(b[4:8]))
		b = b[8:]
		if n > len(b) {
			n = len(b)
		}
		v := string(b[:n])
		switch id {
		case "INAM":
			set(&m.Title, v)
		case "IART":
			set(&m.Artist, v)
		case "IPRD":
			set(&m.Album, v)
		case "ICMT":
			set(&m.Comment, v)
		case "IGNR":
			set(&m.Genre, v)
		case "ICRD":
			set(&m.Date, v)
		case "ICOP":
			set(&m.Copyright, v)
		case "ISFT":
			set(&m.Software, v)
		case "IKEY":
			set(&m.Key, v)
		case "ISBJ":
			set(&m.Description, v)
		}
		n += n & 1
		if n > len(b) {
			return
		}
		b = b[n:]
	}
}

// readBext reads a Broadcast WAV extension chunk (EBU Tech 3285): fixed-size
// ASCII fields, then the time reference.
func readBext(b []byte, m *Meta) {
	field := func(off, n int) string {
		if off >= len(b) {
			return ""
		}
		return clean(string(b[off:min(off+n, len(b))]))
	}
	set(&m.Description, field(0, 256))
	set(&m.Originator, field(256, 32))
	set(&m.OriginatorRef, field(288, 32))
	set(&m.OriginationDate, field(320, 10))
	set(&m.OriginationTime, field(330, 8))
	if len(b) >= 346 {
		m.TimeReference = uint64(binary.LittleEndian.Uint32(b[338:])) | uint64(binary.LittleEndian.Uint32(b[342:]))<<32
	}
}

// ixmlFields are the iXML elements kept (the production sound report).
var ixmlFields = map[string]bool{"PROJECT": true, "SCENE": true, "TAKE": true, "TAPE": true, "NOTE": true,
	"CIRCLED": true, "FILE_UID": true, "UBITS": true, "NO_GOOD": true, "FALSE_START": true, "WILD_TRACK": true}

// readIXML keeps the top-level production fields of an iXML document.
func readIXML(b []byte, m *Meta) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	depth := 0
	var path []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if len(m.IXML) > 0 {
				return nil // keep what was read before the damage
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 32 {
				return errors.New("nested too deeply")
			}
			path = append(path, strings.ToUpper(t.Name.Local))
		case xml.EndElement:
			depth--
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		case xml.CharData:
			if len(path) == 2 && path[0] == "BWFXML" && ixmlFields[path[1]] {
				if v := clean(string(t)); v != "" {
					if m.IXML == nil {
						m.IXML = map[string]string{}
					}
					m.IXML[path[1]] = v
				}
			}
		}
	}
}

// readWebPExif reads the EXIF chunk of a WebP file.
func readWebPExif(r io.ReaderAt, size int64, m *Meta) error {
	cs, _ := chunks(r, 12, size, binary.LittleEndian)
	for _, c := range cs {
		if c.id != "EXIF" {
			continue
		}
		b, err := chunkData(r, c)
		if err != nil {
			return err
		}
		b = bytes.TrimPrefix(b, []byte("Exif\x00\x00"))
		return readExif(bytes.NewReader(b), int64(len(b)), m)
	}
	return nil
}
