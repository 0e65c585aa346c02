package thumb

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// deepPNG builds a w×h PNG of the given bit depth and color type whose first
// rows rows are present (zeros); the rest is missing, which a decoder only
// notices after allocating the whole image.
func deepPNG(w, h uint32, depth, ctype byte, rows int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, ctype
	chunk("IHDR", ihdr)
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[ctype]
	row := make([]byte, 1+int(w)*channels*int(depth)/8)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for range rows {
		zw.Write(row)
	}
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// A 16-bit RGBA PNG of 10,000 × 10,000 (100 MP, within the pixel cap) takes
// 800 MB decoded: it is refused from its header, naming the file, the size
// and the cap, while memory stays bounded (issue 11, item 12: 874 MB).
func TestDeepPNGRefusedByBytes(t *testing.T) {
	data := deepPNG(10_000, 10_000, 16, 6, 64)
	p := filepath.Join(t.TempDir(), "deep.png")
	if err := writeFile(p, data); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := MakeFile(p, []int{Small, Large}, Options{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a 800 MB decode was not refused: %v", err)
	}
	for _, want := range []string{"deep.png", "10000×10000", "16-bit RGBA", "762.9 MiB", "400.0 MiB limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("refusing it allocated %d MB", grew>>20)
	}
	if c := DecodeCost(p); c != 800_000_000 {
		t.Fatalf("DecodeCost %d", c)
	}
	// the same size in 8-bit RGBA (400 MB) is within the cap; 8-bit gray
	// (100 MB) too, and a smaller cap refuses it by bytes, not pixels
	if _, err := Probe(deepPNG(10_000, 10_000, 8, 6, 1), Options{}); err != nil {
		t.Fatalf("8-bit RGBA: %v", err)
	}
	if _, err := Probe(deepPNG(10_000, 10_000, 8, 0, 1), Options{MaxBytes: 150 << 20}); err != nil {
		t.Fatalf("8-bit gray: %v", err)
	}
	if _, err := Probe(deepPNG(10_000, 10_000, 16, 0, 1), Options{MaxBytes: 150 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("16-bit gray over a 150 MiB cap: %v", err)
	}
}
