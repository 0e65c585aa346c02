package meta

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// tiffBlock is a small EXIF block: IFD0 (make, model, EXIF and GPS
// pointers), the EXIF IFD (date taken, lens) and the GPS IFD (latitude).
func tiffBlock() []byte {
	le := binary.LittleEndian
	var b []byte
	b = append(b, "II*\x00"...)
	b = le.AppendUint32(b, 8)
	entry := func(tag, typ uint16, count, val uint32) {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, count)
		b = le.AppendUint32(b, val)
	}
	strs := []byte("Canon\x00Canon EOS R6\x00" + "2024:05:01 10:20:30\x00" + "RF35mm\x00")
	ifd0 := 8
	exifIFD := ifd0 + 2 + 4*12 + 4
	gpsIFD := exifIFD + 2 + 2*12 + 4
	data := gpsIFD + 2 + 1*12 + 4
	b = le.AppendUint16(b, 4)
	entry(0x010F, 2, 6, uint32(data))
	entry(0x0110, 2, 13, uint32(data+6))
	entry(0x8769, 4, 1, uint32(exifIFD))
	entry(0x8825, 4, 1, uint32(gpsIFD))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 2)
	entry(0x9003, 2, 20, uint32(data+19))
	entry(0xA434, 2, 7, uint32(data+39))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 1)
	entry(0x0002, 5, 3, uint32(data))
	b = le.AppendUint32(b, 0)
	return append(b, strs...)
}

func seeds() map[string][]byte {
	le, be := binary.LittleEndian, binary.BigEndian
	out := map[string][]byte{}
	// ID3v2.3 with a title and a TXXX frame
	frame := func(id, text string) []byte {
		f := []byte(id)
		f = be.AppendUint32(f, uint32(len(text)+1))
		f = append(f, 0, 0, 0)
		return append(f, text...)
	}
	body := append(frame("TIT2", "Night Drive"), frame("TXXX", "BPM\x00122")...)
	id3 := append([]byte("ID3\x03\x00\x00"), 0, 0, byte(len(body)>>7), byte(len(body)&0x7f))
	out["a.mp3"] = append(append(id3, body...), 0xff, 0xfb, 0x90, 0x00)
	// ID3v1
	v1 := make([]byte, 128)
	copy(v1, "TAGOld Title")
	out["b.mp3"] = append([]byte{0xff, 0xfb, 0x90, 0x00}, v1...)
	// FLAC with a Vorbis comment block
	vc := le.AppendUint32(nil, 4)
	vc = append(vc, "test"...)
	vc = le.AppendUint32(vc, 1)
	vc = le.AppendUint32(vc, uint32(len("TITLE=Flac")))
	vc = append(vc, "TITLE=Flac"...)
	flac := append([]byte("fLaC\x84"), byte(len(vc)>>16), byte(len(vc)>>8), byte(len(vc)))
	out["c.flac"] = append(flac, vc...)
	// WAV with INFO and bext
	info := []byte("INFOINAM\x05\x00\x00\x00Title\x00")
	bext := make([]byte, 602)
	copy(bext, "A description")
	wav := []byte("RIFF\x00\x00\x00\x00WAVE")
	wav = append(wav, "LIST"...)
	wav = le.AppendUint32(wav, uint32(len(info)))
	wav = append(wav, info...)
	wav = append(wav, "bext"...)
	wav = le.AppendUint32(wav, uint32(len(bext)))
	wav = append(wav, bext...)
	ixml := []byte("<BWFXML><PROJECT>P</PROJECT></BWFXML>")
	wav = append(wav, "iXML"...)
	wav = le.AppendUint32(wav, uint32(len(ixml)))
	wav = append(wav, ixml...)
	le.PutUint32(wav[4:], uint32(len(wav)-8))
	out["d.wav"] = wav
	// AIFF with NAME and COMT
	comt := []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 'h', 'i', '!', 0}
	aiff := []byte("FORM\x00\x00\x00\x00AIFFNAME\x00\x00\x00\x04NameCOMT")
	aiff = be.AppendUint32(aiff, uint32(len(comt)))
	aiff = append(aiff, comt...)
	be.PutUint32(aiff[4:], uint32(len(aiff)-8))
	out["e.aiff"] = aiff
	// JPEG with EXIF, a TIFF, a PNG with eXIf
	tb := tiffBlock()
	jpg := []byte{0xff, 0xd8, 0xff, 0xe1}
	jpg = be.AppendUint16(jpg, uint16(len(tb)+8))
	jpg = append(jpg, "Exif\x00\x00"...)
	jpg = append(jpg, tb...)
	out["f.jpg"] = append(jpg, 0xff, 0xd9)
	out["g.tif"] = tb
	png := []byte("\x89PNG\r\n\x1a\n")
	png = be.AppendUint32(png, uint32(len(tb)))
	png = append(png, "eXIf"...)
	png = append(png, tb...)
	out["h.png"] = append(png, 0, 0, 0, 0)
	return out
}

func TestSeedsRead(t *testing.T) {
	for name, b := range seeds() {
		m, err := Read(bytes.NewReader(b), int64(len(b)), name)
		if err != nil || m.Format == "" {
			t.Errorf("%s: %+v %v", name, m, err)
		}
	}
	m, _ := Read(bytes.NewReader(seeds()["g.tif"]), int64(len(seeds()["g.tif"])), "g.tif")
	if m.Camera != "Canon EOS R6" || m.Lens != "RF35mm" || !m.GPS || m.Taken.Year() != 2024 {
		t.Errorf("the EXIF seed: %+v", m)
	}
}

var fuzzNames = []string{"a.mp3", "a.flac", "a.wav", "a.aiff", "a.jpg", "a.tif", "a.png", "a.webp", "a.ogg"}

// FuzzRead feeds every reader damaged files: an error or a result, never a
// panic (the readers run without Read's recover here), a hang or a value
// past the limits.
func FuzzRead(f *testing.F) {
	for name, b := range seeds() {
		for i, n := range fuzzNames {
			if n[1:] == name[1:] {
				f.Add(b, uint8(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		name := fuzzNames[int(which)%len(fuzzNames)]
		m, err := readAny(bytes.NewReader(data), int64(len(data)), name) // no recover: the fuzzer sees panics
		if err != nil {
			return
		}
		if len(m.Cover) > MaxCoverBytes || len(m.Title) > MaxText || len(m.Comment) > MaxText*17 {
			t.Fatalf("%s: a value over its limit", name)
		}
	})
}
