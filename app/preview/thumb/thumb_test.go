package thumb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"atelier/app/preview/testmedia"
)

// quadrants is a w×h image: red top-left, green top-right, blue bottom-left, white bottom-right.
func quadrants(w, h int, alpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{255, 255, 255, 255}
			switch {
			case x < w/2 && y < h/2:
				c = color.NRGBA{255, 0, 0, 255}
			case y < h/2:
				c = color.NRGBA{0, 255, 0, 255}
			case x < w/2:
				c = color.NRGBA{0, 0, 255, 255}
			}
			if alpha && x < w/4 {
				c.A = 0
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// withOrientation inserts an EXIF APP1 segment with the orientation tag after SOI.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiffb bytes.Buffer
	tiffb.WriteString("MM\x00*")
	binary.Write(&tiffb, binary.BigEndian, uint32(8))
	binary.Write(&tiffb, binary.BigEndian, uint16(1))
	binary.Write(&tiffb, binary.BigEndian, []uint16{0x0112, 3})
	binary.Write(&tiffb, binary.BigEndian, uint32(1))
	binary.Write(&tiffb, binary.BigEndian, []uint16{o, 0})
	binary.Write(&tiffb, binary.BigEndian, uint32(0))
	seg := append([]byte("Exif\x00\x00"), tiffb.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

func encode(t testing.TB, format string, m image.Image) []byte {
	var b bytes.Buffer
	var err error
	switch format {
	case "jpeg":
		err = jpeg.Encode(&b, m, &jpeg.Options{Quality: 90})
	case "png":
		err = png.Encode(&b, m)
	case "gif":
		err = gif.Encode(&b, m, nil)
	case "bmp":
		err = bmp.Encode(&b, m)
	case "tiff":
		err = tiff.Encode(&b, m, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is a PNG whose IHDR declares w×h, with a tiny IDAT: a decompression bomb's header.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { x := int(a>>8) - int(b); return x > -60 && x < 60 }
	return d(cr, r) && d(cg, g) && d(cb, b)
}

func TestFormatsAndSizes(t *testing.T) {
	src := quadrants(400, 300, false)
	cases := map[string][]byte{
		"jpeg": encode(t, "jpeg", src),
		"png":  encode(t, "png", src),
		"gif":  encode(t, "gif", src),
		"bmp":  encode(t, "bmp", src),
		"tiff": encode(t, "tiff", src),
	}
	dir := t.TempDir()
	webp := filepath.Join(dir, "q.webp")
	png0 := filepath.Join(dir, "q.png")
	if err := writeFile(png0, cases["png"]); err != nil {
		t.Fatal(err)
	}
	testmedia.Run(t, "ffmpeg", "-v", "error", "-i", png0, "-c:v", "libwebp", "-lossless", "1", webp)
	cases["webp"] = testmedia.Read(t, webp)
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			info, th, err := Make(data, []int{Small, 200}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != name || info.Width != 400 || info.Height != 300 {
				t.Fatalf("info %+v", info)
			}
			if len(th) != 2 || th[0].Size != 200 || th[0].Width != 200 || th[0].Height != 150 || th[1].Width != Small {
				t.Fatalf("thumbs %+v", th)
			}
			img, _, err := image.Decode(bytes.NewReader(th[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			if !near(img.At(10, 10), 255, 0, 0) || !near(img.At(190, 140), 255, 255, 255) {
				t.Errorf("thumbnail content wrong: %v %v", img.At(10, 10), img.At(190, 140))
			}
		})
	}
}

func TestEXIFOrientation(t *testing.T) {
	jpg := withOrientation(encode(t, "jpeg", quadrants(400, 300, false)), 6)
	info, th, err := Make(jpg, []int{Large, Small}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Orientation != 6 || info.Width != 300 || info.Height != 400 {
		t.Fatalf("info %+v", info)
	}
	for _, x := range th {
		img, err := jpeg.Decode(bytes.NewReader(x.Data))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		if b.Dx() >= b.Dy() {
			t.Fatalf("size %d: %v is not portrait", x.Size, b)
		}
		// Rotated 90° clockwise: blue top-left, red top-right.
		if !near(img.At(5, 5), 0, 0, 255) || !near(img.At(b.Dx()-5, 5), 255, 0, 0) {
			t.Errorf("size %d: orientation not applied: %v %v", x.Size, img.At(5, 5), img.At(b.Dx()-5, 5))
		}
	}
}

func TestAlphaMakesPNG(t *testing.T) {
	_, th, err := Make(encode(t, "png", quadrants(100, 80, true)), []int{64}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if th[0].Ext != ".png" {
		t.Fatalf("ext %s, want .png for a transparent image", th[0].Ext)
	}
}

func TestHostileImages(t *testing.T) {
	jpg := encode(t, "jpeg", quadrants(64, 64, false))
	cases := map[string]struct {
		data []byte
		want error
	}{
		"empty":          {nil, nil},
		"garbage":        {[]byte("this is not an image at all, just words"), ErrUnknownFormat},
		"png-bomb":       {pngHeader(50000, 50000), ErrTooLarge},
		"png-zero":       {pngHeader(0, 10), nil},
		"jpeg-truncated": {jpg[:len(jpg)/2], nil},
		"png-truncated":  {encode(t, "png", quadrants(64, 64, false))[:60], nil},
		"exif-loop":      {withOrientation(jpg, 99), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Make(c.data, []int{Small}, Options{})
			if name == "exif-loop" {
				if err != nil {
					t.Fatalf("bad orientation value should be ignored: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			t.Logf("%s: %v", name, err)
		})
	}
}

func FuzzThumb(f *testing.F) {
	for _, format := range []string{"jpeg", "png", "gif", "bmp", "tiff"} {
		f.Add(encode(f, format, quadrants(24, 16, format == "png")))
	}
	f.Add(withOrientation(encode(f, "jpeg", quadrants(16, 16, false)), 8))
	f.Add(pngHeader(50000, 50000))
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		f.Fatal("ffmpeg is not installed: install it to build the WebP seed")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = Make(data, []int{32}, Options{MaxPixels: 1 << 16})
	})
}
