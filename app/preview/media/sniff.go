// Package media tells a file's format from its first bytes and runs ffmpeg,
// as a separate, resource-limited process, for the formats Atelier does not
// decode itself (Ogg Vorbis, Opus, AAC/M4A, video posters...).
//
// Sniff is a small table of magic numbers: it names what a file holds
// ("Ogg Opus", "MPEG-4 audio (M4A)", "Matroska video"...) so that an error can
// say what was found instead of guessing that the extension is wrong.
//
// Why ffmpeg and not pure-Go decoders: the module proxy serves no
// maintained pure-Go Vorbis decoder (jfreymuth/oggvorbis and vorbis are
// refused), pion/opus v0.1.0 decodes SILK only (no CELT: music Opus), and
// there is no maintained pure-Go AAC decoder nor any video decoder. ffmpeg
// is in Debian, kept up to date by its security team, decodes every one of
// these formats, and is the reference the peer tests compare against. It
// runs as a child process so that a decoder bug on a hostile file cannot
// take Atelier down: prlimit bounds its address space (1 GiB) and CPU time,
// forbids file writes and core dumps; it decodes with one thread at low
// priority, under a time-out, with the demuxer chosen by Sniff (never
// ffmpeg's own probing), the input opened as "file:" (no protocols), and
// every byte read back bounded (PCM by the duration budget, reports and
// posters by size).
package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Kind is what a format carries.
type Kind string

const (
	Audio Kind = "audio"
	Video Kind = "video" // a container that usually holds a picture (it may hold only sound: probe it)
	Image Kind = "image"
	Other Kind = "other" // documents, archives, MIDI...
)

// Format is one row of the sniffing table.
type Format struct {
	ID   string `json:"id"`   // short name: "wav", "aiff", "ogg-vorbis", "mp4", "matroska"...
	Name string `json:"name"` // for people: "Ogg Vorbis", "MPEG-4 audio (M4A)"
	Kind Kind   `json:"kind"`
	// Demuxer is the ffmpeg demuxer that reads the format; "" when ffmpeg
	// is not used for it (decoded natively, or not media at all).
	Demuxer string `json:"-"`
	// Native says Atelier decodes the format itself.
	Native bool `json:"-"`
}

// Known reports whether the bytes matched a row of the table.
func (f Format) Known() bool { return f.ID != "" }

// FFmpeg reports whether the format is read through ffmpeg.
func (f Format) FFmpeg() bool { return f.Demuxer != "" && !f.Native }

func (f Format) String() string {
	if f.ID == "" {
		return "unknown format"
	}
	return f.Name
}

// SniffLen is how many leading bytes Sniff wants (it copes with fewer).
const SniffLen = 4096

// The table's rows that other code refers to.
var (
	WAV      = Format{ID: "wav", Name: "WAV", Kind: Audio, Native: true, Demuxer: "wav"}
	AIFF     = Format{ID: "aiff", Name: "AIFF", Kind: Audio, Native: true, Demuxer: "aiff"}
	AIFC     = Format{ID: "aifc", Name: "AIFF-C", Kind: Audio, Native: true, Demuxer: "aiff"}
	FLAC     = Format{ID: "flac", Name: "FLAC", Kind: Audio, Native: true, Demuxer: "flac"}
	MP3      = Format{ID: "mp3", Name: "MP3", Kind: Audio, Native: true, Demuxer: "mp3"}
	MP2      = Format{ID: "mp2", Name: "MPEG audio layer I/II", Kind: Audio, Demuxer: "mp3"}
	AAC      = Format{ID: "aac", Name: "AAC (ADTS)", Kind: Audio, Demuxer: "aac"}
	Vorbis   = Format{ID: "ogg-vorbis", Name: "Ogg Vorbis", Kind: Audio, Demuxer: "ogg"}
	Opus     = Format{ID: "ogg-opus", Name: "Ogg Opus", Kind: Audio, Demuxer: "ogg"}
	OggFLAC  = Format{ID: "ogg-flac", Name: "Ogg FLAC", Kind: Audio, Demuxer: "ogg"}
	Speex    = Format{ID: "ogg-speex", Name: "Ogg Speex", Kind: Audio, Demuxer: "ogg"}
	Theora   = Format{ID: "ogg-theora", Name: "Ogg Theora video", Kind: Video, Demuxer: "ogg"}
	Ogg      = Format{ID: "ogg", Name: "Ogg", Kind: Audio, Demuxer: "ogg"}
	M4A      = Format{ID: "m4a", Name: "MPEG-4 audio (M4A)", Kind: Audio, Demuxer: "mov"}
	MP4      = Format{ID: "mp4", Name: "MPEG-4", Kind: Video, Demuxer: "mov"}
	MOV      = Format{ID: "mov", Name: "QuickTime movie", Kind: Video, Demuxer: "mov"}
	ThreeGP  = Format{ID: "3gp", Name: "3GPP", Kind: Video, Demuxer: "mov"}
	Matroska = Format{ID: "matroska", Name: "Matroska", Kind: Video, Demuxer: "matroska"}
	WebM     = Format{ID: "webm", Name: "WebM", Kind: Video, Demuxer: "matroska"}
	AVI      = Format{ID: "avi", Name: "AVI video", Kind: Video, Demuxer: "avi"}
	ASF      = Format{ID: "asf", Name: "Windows Media (WMA/WMV)", Kind: Video, Demuxer: "asf"}
	CAF      = Format{ID: "caf", Name: "Core Audio Format (CAF)", Kind: Audio, Demuxer: "caf"}
	WavPack  = Format{ID: "wavpack", Name: "WavPack", Kind: Audio, Demuxer: "wv"}
	APE      = Format{ID: "ape", Name: "Monkey's Audio", Kind: Audio, Demuxer: "ape"}
	AMR      = Format{ID: "amr", Name: "AMR voice", Kind: Audio, Demuxer: "amr"}
	AC3      = Format{ID: "ac3", Name: "AC-3 (Dolby Digital)", Kind: Audio, Demuxer: "ac3"}
	DSF      = Format{ID: "dsf", Name: "DSD (DSF)", Kind: Audio, Demuxer: "dsf"}
	MPEGPS   = Format{ID: "mpeg", Name: "MPEG program stream video", Kind: Video, Demuxer: "mpeg"}
	MPEGTS   = Format{ID: "mpegts", Name: "MPEG transport stream video", Kind: Video, Demuxer: "mpegts"}
	FLV      = Format{ID: "flv", Name: "Flash video (FLV)", Kind: Video, Demuxer: "flv"}
	MIDI     = Format{ID: "midi", Name: "MIDI (notes, not recorded sound)", Kind: Other}
)

// Sniff names the format of a file from its first bytes (SniffLen of them
// are enough). The zero Format means no row matched.
func Sniff(b []byte) Format {
	has := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case (has(0, "RIFF") || has(0, "RF64") || has(0, "BW64")) && has(8, "WAVE"):
		return WAV
	case has(0, "RIFF") && has(8, "AVI "):
		return AVI
	case has(0, "RIFF") && has(8, "WEBP"):
		return Format{ID: "webp", Name: "WebP image", Kind: Image}
	case has(0, "RIFF") && has(8, "RMID"):
		return MIDI
	case has(0, "FORM") && has(8, "AIFF"):
		return AIFF
	case has(0, "FORM") && has(8, "AIFC"):
		return AIFC
	case has(0, "FRM8") && has(12, "DSD "):
		return Format{ID: "dff", Name: "DSD (DSDIFF)", Kind: Audio, Demuxer: "iff"}
	case has(0, "fLaC"):
		return FLAC
	case has(0, "ID3"):
		return sniffAfterID3(b)
	case has(0, "OggS"):
		return sniffOgg(b)
	case has(4, "ftyp"):
		return sniffFtyp(b)
	case has(4, "moov") || has(4, "mdat") || has(4, "wide") || has(4, "free") || has(4, "skip") || has(4, "pnot"):
		return MOV // QuickTime files from before ftyp
	case has(0, "\x1A\x45\xDF\xA3"):
		return sniffEBML(b)
	case has(0, "\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C"):
		return ASF
	case has(0, "caff"):
		return CAF
	case has(0, "wvpk"):
		return WavPack
	case has(0, "MAC "):
		return APE
	case has(0, "#!AMR"):
		return AMR
	case has(0, "DSD ") && has(28, "fmt "):
		return DSF
	case has(0, "MPCK") || has(0, "MP+"):
		return Format{ID: "musepack", Name: "Musepack", Kind: Audio, Demuxer: map[bool]string{true: "mpc8", false: "mpc"}[has(0, "MPCK")]}
	case has(0, "MThd"):
		return MIDI
	case has(0, "FLV\x01"):
		return FLV
	case has(0, "\x00\x00\x01\xBA"):
		return MPEGPS
	case len(b) >= 377 && b[0] == 0x47 && b[188] == 0x47 && b[376] == 0x47:
		return MPEGTS
	case has(0, ".snd"):
		return Format{ID: "au", Name: "Sun/NeXT audio (.au)", Kind: Audio, Demuxer: "au"}
	}
	if f, ok := sniffMPEGAudio(b); ok {
		return f
	}
	if f := sniffOther(b); f.Known() {
		return f
	}
	if len(b) >= 2 && b[0] == 0x0B && b[1] == 0x77 {
		return AC3
	}
	return Format{}
}

// sniffAfterID3 looks past an ID3v2 tag: FLAC and AAC files carry them too.
func sniffAfterID3(b []byte) Format {
	if len(b) < 10 {
		return MP3
	}
	size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
	if b[5]&0x10 != 0 {
		size += 10 // footer
	}
	rest := b[min(10+size, len(b)):]
	if len(rest) >= 4 {
		if string(rest[:4]) == "fLaC" {
			return FLAC
		}
		if f, ok := sniffMPEGAudio(rest); ok {
			return f
		}
	}
	return MP3 // the tag is longer than what was read: trust the tag
}

// sniffMPEGAudio recognises an MPEG audio or ADTS frame header at b[0].
func sniffMPEGAudio(b []byte) (Format, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return Format{}, false
	}
	layer := b[1] >> 1 & 3
	if layer == 0 {
		// ADTS: sync is 12 bits, MPEG version 1 bit, layer 00.
		if b[1]&0xF0 == 0xF0 && b[2]>>2&0xF < 13 {
			return AAC, true
		}
		return Format{}, false
	}
	if b[1]>>3&3 == 1 || b[2]>>4 == 0xF || b[2]>>2&3 == 3 {
		return Format{}, false // reserved version, bad bitrate or bad sample rate
	}
	if layer == 1 {
		return MP3, true
	}
	return MP2, true
}

// sniffOgg names the codec of an Ogg stream from its first packet.
func sniffOgg(b []byte) Format {
	if len(b) < 27 {
		return Ogg
	}
	nseg := int(b[26])
	p := b[min(27+nseg, len(b)):]
	has := func(magic string) bool { return bytes.HasPrefix(p, []byte(magic)) }
	switch {
	case has("\x01vorbis"):
		return Vorbis
	case has("OpusHead"):
		return Opus
	case has("\x7FFLAC"):
		return OggFLAC
	case has("Speex   "):
		return Speex
	case has("\x80theora"):
		return Theora
	case has("fishead\x00"):
		// A skeleton stream comes first: look at the next page's packet.
		if next := bytes.Index(p, []byte("OggS")); next >= 0 {
			if f := sniffOgg(p[next:]); f != Ogg {
				return f
			}
		}
	}
	return Ogg
}

// sniffFtyp reads an ISO base media file's brands.
func sniffFtyp(b []byte) Format {
	if len(b) < 12 {
		return MP4
	}
	size := int(binary.BigEndian.Uint32(b))
	if size < 16 || size > len(b) {
		size = min(len(b), 64)
	}
	brands := []string{string(b[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	switch brands[0] {
	case "M4A ", "M4B ", "M4P ", "F4A ", "F4B ":
		return M4A
	case "qt  ":
		return MOV
	case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
		return Format{ID: "heif", Name: "HEIF/HEIC image", Kind: Image}
	case "avif", "avis":
		return Format{ID: "avif", Name: "AVIF image", Kind: Image}
	case "crx ":
		return Format{ID: "cr3", Name: "Canon CR3 raw photo", Kind: Image}
	case "jp2 ", "jpx ":
		return Format{ID: "jp2", Name: "JPEG 2000 image", Kind: Image}
	}
	if strings.HasPrefix(brands[0], "3gp") || strings.HasPrefix(brands[0], "3g2") {
		return ThreeGP
	}
	for _, br := range brands[1:] {
		if br == "M4A " {
			return M4A
		}
	}
	return MP4
}

// sniffEBML tells WebM from Matroska by the EBML header's DocType.
func sniffEBML(b []byte) Format {
	head := b[:min(len(b), 64)]
	if bytes.Contains(head, []byte("\x42\x82\x84webm")) || bytes.Contains(head, []byte("webm")) {
		return WebM
	}
	return Matroska
}

// sniffOther names common files that are not audio or video, so an error
// can say what the file is.
func sniffOther(b []byte) Format {
	has := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	img := func(id, name string) Format { return Format{ID: id, Name: name, Kind: Image} }
	doc := func(id, name string) Format { return Format{ID: id, Name: name, Kind: Other} }
	switch {
	case has(0, "\xFF\xD8\xFF"):
		return img("jpeg", "JPEG image")
	case has(0, "\x89PNG\r\n\x1a\n"):
		return img("png", "PNG image")
	case has(0, "GIF87a") || has(0, "GIF89a"):
		return img("gif", "GIF image")
	case has(0, "II*\x00") || has(0, "MM\x00*"):
		return img("tiff", "TIFF image")
	case has(0, "8BPS"):
		return img("psd", "Photoshop document")
	case has(0, "\xFF\x0A") || has(4, "JXL "):
		return img("jxl", "JPEG XL image")
	case has(0, "BM") && len(b) >= 26 && binary.LittleEndian.Uint32(b[14:]) >= 12 && binary.LittleEndian.Uint32(b[14:]) <= 124:
		return img("bmp", "BMP image")
	case has(0, "%PDF-"):
		return doc("pdf", "PDF document")
	case has(0, "PK\x03\x04") || has(0, "PK\x05\x06"):
		return doc("zip", "ZIP archive")
	case has(0, "\x1F\x8B"):
		return doc("gzip", "gzip archive")
	case has(0, "7z\xBC\xAF\x27\x1C"):
		return doc("7z", "7-Zip archive")
	case has(0, "Rar!\x1A\x07"):
		return doc("rar", "RAR archive")
	case has(0, "\x7FELF"):
		return doc("elf", "ELF program")
	case has(0, "\x00asm"):
		return doc("wasm", "WebAssembly module")
	case has(0, "SQLite format 3\x00"):
		return doc("sqlite", "SQLite database")
	case has(0, "<?xml") || has(0, "<svg") || has(0, "\xEF\xBB\xBF<?xml"):
		return doc("xml", "XML or SVG")
	}
	return Format{}
}

// Describe says what the bytes were found to be, for an error message:
// "an Ogg Opus file" or "bytes of no known format (first bytes 3f 2a ...)".
func Describe(f Format, head []byte) string {
	if f.Known() {
		name := f.Name
		switch name[strings.LastIndexByte(name, ' ')+1:] {
		case "image", "document", "archive", "video", "program", "database", "text", "movie", "stream":
			return article(name) + " " + name
		}
		return article(name) + " " + name + " file"
	}
	n := min(len(head), 8)
	return fmt.Sprintf("no format Atelier knows (it starts % x)", head[:n])
}

func article(s string) string {
	if s == "" {
		return "a"
	}
	switch s[0] {
	case 'A', 'E', 'I', 'O', 'a', 'e', 'i', 'o':
		return "an"
	case 'M', 'F', 'X', 'S', 'R':
		// Spelled-out acronyms: "an MP3", "an MPEG-4", "an FLV"... but "a
		// Matroska", "a MIDI", "a SQLite".
		if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' && !strings.HasPrefix(s, "MIDI") && !strings.HasPrefix(s, "FLAC") && !strings.HasPrefix(s, "SQL") && !strings.HasPrefix(s, "RAR") {
			return "an"
		}
	}
	return "a"
}

// SniffFile reads the first bytes of r (size bytes long) and names its
// format. An ID3v2 tag longer than SniffLen (cover art) is looked past, so
// FLAC and AAC files carrying one are named for what follows it.
func SniffFile(r io.ReaderAt, size int64) (Format, []byte, error) {
	head := make([]byte, min(size, SniffLen))
	n, err := r.ReadAt(head, 0)
	if n < len(head) && err != nil && err != io.EOF {
		return Format{}, nil, err
	}
	head = head[:n]
	f := Sniff(head)
	if len(head) >= 10 && string(head[:3]) == "ID3" {
		end := 10 + (int64(head[6]&0x7F)<<21 | int64(head[7]&0x7F)<<14 | int64(head[8]&0x7F)<<7 | int64(head[9]&0x7F))
		if head[5]&0x10 != 0 {
			end += 10
		}
		if end > int64(len(head)) && end < size {
			var after [16]byte
			if m, _ := r.ReadAt(after[:], end); m >= 4 {
				if string(after[:4]) == "fLaC" {
					return FLAC, head, nil
				}
				if g, ok := sniffMPEGAudio(after[:m]); ok {
					return g, head, nil
				}
			}
		}
	}
	return f, head, nil
}
