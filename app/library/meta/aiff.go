package meta

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// readAIFF reads the NAME, AUTH, (c), ANNO, COMT and ID3 chunks of an AIFF
// or AIFF-C file (big-endian IFF).
func readAIFF(r io.ReaderAt, size int64, m *Meta) error {
	cs, err := chunks(r, 12, size, binary.BigEndian)
	if err != nil && len(cs) == 0 {
		return fmt.Errorf("the AIFF chunks cannot be read: %w", err)
	}
	if err != nil {
		m.warn("%v", err)
	}
	found := false
	var annos []string
	for _, c := range cs {
		switch c.id {
		case "NAME", "AUTH", "(c) ", "ANNO":
			b, err := chunkData(r, c)
			if err != nil {
				m.warn("%v", err)
				continue
			}
			v := clean(string(b))
			switch c.id {
			case "NAME":
				set(&m.Title, v)
			case "AUTH":
				set(&m.Artist, v)
			case "(c) ":
				set(&m.Copyright, v)
			case "ANNO":
				if v != "" && len(annos) < 16 {
					annos = append(annos, v)
				}
			}
			found = true
		case "COMT":
			b, err := chunkData(r, c)
			if err != nil {
				m.warn("%v", err)
				continue
			}
			annos = append(annos, readCOMT(b)...)
			found = true
		case "ID3 ", "id3 ":
			if readID3Chunk(r, c, m) {
				found = true
			}
		}
	}
	if len(annos) > 0 {
		set(&m.Comment, strings.Join(annos, "\n"))
	}
	if found {
		m.addFormat("aiff")
	}
	return nil
}

// readCOMT reads the comments of a COMT chunk: a count, then per comment a
// timestamp (4), a marker id (2), a length (2) and the text, padded to even.
func readCOMT(b []byte) []string {
	if len(b) < 2 {
		return nil
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	var out []string
	for i := 0; i < n && len(b) >= 8 && len(out) < 16; i++ {
		l := int(binary.BigEndian.Uint16(b[6:8]))
		b = b[8:]
		l = min(l, len(b))
		if v := clean(string(b[:l])); v != "" {
			out = append(out, v)
		}
		l += l & 1
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return out
}
