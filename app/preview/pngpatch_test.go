package preview

import (
	"encoding/binary"
	"hash/crc32"
)

// patchIHDR rewrites a PNG's declared size, keeping the chunk CRC valid.
func patchIHDR(b []byte, w, h uint32) []byte {
	out := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(out[16:], w)
	binary.BigEndian.PutUint32(out[20:], h)
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}
