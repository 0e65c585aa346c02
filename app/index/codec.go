package index

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"time"
)

// recordCodec is a compact binary encoding of FileRecord: a no-change restart
// decodes every record of a project, and this is ~10× cheaper than JSON.
// Layout: version byte, uvarint-prefixed project, path, kind; varint size,
// unix nanos; uvarint mode, inode; 32-byte hash.
type recordCodec struct{}

const recordCodecVersion = 1

func (recordCodec) Encode(r FileRecord) ([]byte, error) {
	b := make([]byte, 0, 64+len(r.Project)+len(r.Path))
	b = append(b, recordCodecVersion)
	for _, s := range []string{string(r.Project), r.Path, string(r.Kind)} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, r.Size)
	b = binary.AppendVarint(b, r.ModTime.UnixNano())
	b = binary.AppendUvarint(b, uint64(r.Mode))
	b = binary.AppendUvarint(b, r.Inode)
	b = append(b, r.SHA256[:]...)
	return b, nil
}

var errBadRecord = errors.New("malformed file record")

func (recordCodec) Decode(b []byte) (FileRecord, error) {
	var r FileRecord
	if len(b) < 1 || b[0] != recordCodecVersion {
		return r, errBadRecord
	}
	b = b[1:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	proj, ok1 := str()
	p, ok2 := str()
	kind, ok3 := str()
	if !ok1 || !ok2 || !ok3 {
		return r, errBadRecord
	}
	size, k := binary.Varint(b)
	if k <= 0 {
		return r, errBadRecord
	}
	b = b[k:]
	nanos, k := binary.Varint(b)
	if k <= 0 {
		return r, errBadRecord
	}
	b = b[k:]
	mode, k := binary.Uvarint(b)
	if k <= 0 {
		return r, errBadRecord
	}
	b = b[k:]
	ino, k := binary.Uvarint(b)
	if k <= 0 {
		return r, errBadRecord
	}
	b = b[k:]
	if len(b) != 32 {
		return r, errBadRecord
	}
	r = FileRecord{Project: ProjectID(proj), Path: p, Kind: Kind(kind), Size: size,
		ModTime: time.Unix(0, nanos), Mode: fs.FileMode(mode), Inode: ino}
	copy(r.SHA256[:], b)
	return r, nil
}
