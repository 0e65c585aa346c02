package meta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// EXIF is read here rather than with a library: github.com/rwcarlsen/goexif
// (unchanged since 2019) reads a whole TIFF into memory and loops forever on
// an IFD chain A→B→A (it only checks that an IFD does not point to itself);
// github.com/dsoprea/go-exif/v3 brings a logging and errors stack and uses
// panics for control flow. The Library needs seven tags from three IFDs;
// this reader visits each IFD once, reads at most maxIFDEntries entries and
// maxExifValue bytes per value, and is fuzzed (FuzzRead).

const (
	maxIFDEntries = 1024
	maxExifValue  = 64 << 10
	maxSegments   = 512
)

// readImage finds the EXIF block of a JPEG (APP1), TIFF (the file) or PNG (eXIf).
func readImage(r io.ReaderAt, size int64, head []byte, m *Meta) error {
	switch {
	case hasPrefix(head, "\xff\xd8"):
		off := int64(2)
		for i := 0; i < maxSegments && off+4 <= size; i++ {
			var h [4]byte
			if _, err := r.ReadAt(h[:], off); err != nil {
				return nil
			}
			if h[0] != 0xFF {
				return nil // not at a marker: damaged, or past the headers
			}
			marker := h[1]
			switch {
			case marker == 0xFF: // fill byte
				off++
				continue
			case marker == 0xD8 || marker == 0x01 || marker >= 0xD0 && marker <= 0xD7:
				off += 2
				continue
			case marker == 0xDA || marker == 0xD9: // start of scan, end of image: no EXIF
				return nil
			}
			n := int64(binary.BigEndian.Uint16(h[2:]))
			if n < 2 {
				return errors.New("a JPEG segment has a length below 2: the file is damaged")
			}
			if marker == 0xE1 && n >= 8 {
				var id [6]byte
				if _, err := r.ReadAt(id[:], off+4); err == nil && string(id[:]) == "Exif\x00\x00" {
					start := off + 10
					end := min(off+2+n, size)
					return readExif(io.NewSectionReader(r, start, end-start), end-start, m)
				}
			}
			off += 2 + n
		}
		return nil
	case hasPrefix(head, "II*\x00"), hasPrefix(head, "MM\x00*"):
		return readExif(r, size, m)
	case hasPrefix(head, "\x89PNG\r\n\x1a\n"):
		off := int64(8)
		for i := 0; i < maxSegments*8 && off+8 <= size; i++ {
			var h [8]byte
			if _, err := r.ReadAt(h[:], off); err != nil {
				return nil
			}
			n := int64(binary.BigEndian.Uint32(h[:4]))
			switch string(h[4:]) {
			case "eXIf":
				end := min(off+8+n, size)
				return readExif(io.NewSectionReader(r, off+8, end-off-8), end-off-8, m)
			case "IDAT", "IEND":
				return nil
			}
			off += 12 + n
		}
	}
	return nil
}

// tiffReader reads a TIFF structure (the EXIF block) with bounds.
type tiffReader struct {
	r     io.ReaderAt
	size  int64
	order binary.ByteOrder
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	raw      [4]byte // the value, or its offset
}

var exifTypeSize = map[uint16]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// ifd reads the entries of the IFD at off.
func (t *tiffReader) ifd(off int64) ([]ifdEntry, error) {
	if off < 8 || off+2 > t.size {
		return nil, fmt.Errorf("an EXIF directory at byte %d is outside the block", off)
	}
	var nb [2]byte
	if _, err := t.r.ReadAt(nb[:], off); err != nil {
		return nil, err
	}
	n := int64(t.order.Uint16(nb[:]))
	if n > maxIFDEntries {
		return nil, fmt.Errorf("an EXIF directory claims %d entries", n)
	}
	n = min(n, (t.size-off-2)/12)
	b := make([]byte, n*12)
	if _, err := t.r.ReadAt(b, off+2); err != nil {
		return nil, err
	}
	out := make([]ifdEntry, n)
	for i := range out {
		e := b[i*12:]
		out[i] = ifdEntry{tag: t.order.Uint16(e), typ: t.order.Uint16(e[2:]), count: t.order.Uint32(e[4:])}
		copy(out[i].raw[:], e[8:12])
	}
	return out, nil
}

// value returns the bytes of e's value (nil when out of bounds or too large).
func (t *tiffReader) value(e ifdEntry) []byte {
	sz, ok := exifTypeSize[e.typ]
	if !ok {
		return nil
	}
	n := sz * int64(e.count)
	if n <= 4 {
		return e.raw[:n]
	}
	if n > maxExifValue {
		return nil
	}
	off := int64(t.order.Uint32(e.raw[:]))
	if off+n > t.size {
		return nil
	}
	b := make([]byte, n)
	if _, err := t.r.ReadAt(b, off); err != nil {
		return nil
	}
	return b
}

func (t *tiffReader) str(e ifdEntry) string {
	if e.typ != 2 && e.typ != 7 {
		return ""
	}
	return clean(string(t.value(e)))
}

func (t *tiffReader) uint(e ifdEntry) (uint32, bool) {
	b := t.value(e)
	switch {
	case e.typ == 3 && len(b) >= 2:
		return uint32(t.order.Uint16(b)), true
	case e.typ == 4 && len(b) >= 4:
		return t.order.Uint32(b), true
	}
	return 0, false
}

// readExif reads camera, lens, date taken, orientation and GPS presence from
// a TIFF-structured EXIF block of size bytes.
func readExif(r io.ReaderAt, size int64, m *Meta) error {
	var h [8]byte
	if size < 8 {
		return errors.New("the EXIF block is too short")
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("the EXIF block cannot be read: %w", err)
	}
	t := &tiffReader{r: r, size: size}
	switch string(h[:4]) {
	case "II*\x00":
		t.order = binary.LittleEndian
	case "MM\x00*":
		t.order = binary.BigEndian
	default:
		return errors.New("the EXIF block does not start with a TIFF header")
	}
	ifd0, err := t.ifd(int64(t.order.Uint32(h[4:])))
	if err != nil {
		return fmt.Errorf("the EXIF block is damaged: %w", err)
	}
	m.addFormat("exif")
	var make_, model, dateTime, original, offset, lensMake, lens string
	var exifAt, gpsAt uint32
	for _, e := range ifd0 {
		switch e.tag {
		case 0x010F:
			make_ = t.str(e)
		case 0x0110:
			model = t.str(e)
		case 0x0131:
			set(&m.Software, t.str(e))
		case 0x0132:
			dateTime = t.str(e)
		case 0x0112:
			if v, ok := t.uint(e); ok && v >= 1 && v <= 8 {
				m.Orientation = int(v)
			}
		case 0x8298:
			set(&m.Copyright, t.str(e))
		case 0x010E:
			set(&m.Description, t.str(e))
		case 0x013B:
			set(&m.Artist, t.str(e))
		case 0x8769:
			exifAt, _ = t.uint(e)
		case 0x8825:
			gpsAt, _ = t.uint(e)
		}
	}
	if exifAt != 0 {
		entries, err := t.ifd(int64(exifAt))
		if err != nil {
			m.warn("the EXIF sub-directory is damaged: %v", err)
		}
		for _, e := range entries {
			switch e.tag {
			case 0x9003:
				original = t.str(e)
			case 0x9011:
				offset = t.str(e)
			case 0xA433:
				lensMake = t.str(e)
			case 0xA434:
				lens = t.str(e)
			}
		}
	}
	if gpsAt != 0 && gpsAt != exifAt {
		entries, err := t.ifd(int64(gpsAt))
		if err != nil {
			m.warn("the GPS directory is damaged: %v", err)
		}
		for _, e := range entries {
			if e.tag == 0x0002 && e.count > 0 { // GPSLatitude
				m.GPS = true
			}
		}
	}
	switch {
	case model == "":
		set(&m.Camera, make_)
	case make_ == "" || strings.HasPrefix(strings.ToLower(model), strings.ToLower(make_)):
		set(&m.Camera, model)
	default:
		set(&m.Camera, make_+" "+model)
	}
	if lens != "" && lensMake != "" && !strings.HasPrefix(strings.ToLower(lens), strings.ToLower(lensMake)) {
		lens = lensMake + " " + lens
	}
	set(&m.Lens, lens)
	if original == "" {
		original = dateTime
	}
	if ts, ok := exifTime(original, offset); ok {
		m.Taken = ts
	}
	return nil
}

// exifTime reads "2006:01:02 15:04:05" with an optional "+01:00" offset
// (without one, the time is the camera's local time, read as this machine's).
func exifTime(s, offset string) (time.Time, bool) {
	if len(s) < 19 {
		return time.Time{}, false
	}
	s = s[:19]
	if offset != "" {
		if ts, err := time.Parse("2006:01:02 15:04:05-07:00", s+offset); err == nil {
			return ts, true
		}
	}
	ts, err := time.ParseInLocation("2006:01:02 15:04:05", s, time.Local)
	if err != nil || ts.Year() < 1900 {
		return time.Time{}, false
	}
	return ts, true
}
