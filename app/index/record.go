// Package index keeps the file index of a project: it scans, hashes and
// reconciles disk against the database, and reports what changed.
package index

import (
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"time"
)

// ProjectID names a registered project.
type ProjectID string

// Kind is a coarse file type.
type Kind string

const (
	KindAudio    Kind = "audio"
	KindImage    Kind = "image"
	KindVideo    Kind = "video"
	KindDocument Kind = "document"
	KindModule   Kind = "module"
	KindOther    Kind = "other"
)

// Digest is a SHA-256, JSON-encoded as hex.
type Digest [32]byte

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether the digest is unset.
func (d Digest) IsZero() bool { return d == Digest{} }

func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Digest{}
		return nil
	}
	_, err := hex.Decode(d[:], b)
	return err
}

// FileRecord is what the index knows of one file.
type FileRecord struct {
	Project ProjectID   `json:"project"`
	Path    string      `json:"path"` // slash-separated, relative to the project root
	Size    int64       `json:"size"`
	ModTime time.Time   `json:"modTime"`
	Mode    fs.FileMode `json:"mode"`
	Inode   uint64      `json:"inode"`
	SHA256  Digest      `json:"sha256"`
	Kind    Kind        `json:"kind"`
}

// Op is what happened to a file.
type Op string

const (
	OpCreate Op = "create"
	OpModify Op = "modify"
	OpDelete Op = "delete"
	OpRename Op = "rename"
)

// Change is one index update, as delivered to the engine's consumers.
type Change struct {
	Op     Op         `json:"op"`
	Record FileRecord `json:"record"`
	From   string     `json:"from,omitempty"` // the old path, for renames
	// PrevSize is the size the record had before a modify or rename, so
	// consumers can keep totals without reading the old record.
	PrevSize int64 `json:"-"`
}

var kindByExt = map[string]Kind{}

func init() {
	for kind, exts := range map[Kind]string{
		KindAudio:    "mp3 wav wave bwf flac ogg oga opus spx m4a m4b aac aif aiff aifc wma alac caf wv ape amr ac3 mka weba au mp2",
		KindImage:    "jpg jpeg png gif webp bmp tif tiff heic heif svg psd",
		KindVideo:    "mp4 mov qt mkv webm avi m4v mpg mpeg mts m2ts 3gp 3g2 flv ogv wmv",
		KindDocument: "txt md pdf doc docx odt rtf csv json xml yaml yml html htm srt vtt lrc",
		KindModule:   "atmod",
	} {
		for _, e := range strings.Fields(exts) {
			kindByExt["."+e] = kind
		}
	}
}

// KindOf classifies a path by its extension (or its name, for module manifests).
func KindOf(p string) Kind {
	base := path.Base(p)
	if base == "atelier-module.json" {
		return KindModule
	}
	if k, ok := kindByExt[strings.ToLower(path.Ext(base))]; ok {
		return k
	}
	return KindOther
}
