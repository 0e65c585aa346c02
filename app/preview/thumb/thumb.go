// Package thumb makes image thumbnails: JPEG (EXIF orientation honoured), PNG,
// GIF, WebP, BMP and TIFF. Dimensions are read from the header first and
// images that would need huge memory are refused before any pixel is decoded.
package thumb

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"atelier/app/preview/thumb/internal/jpegscale"
	"atelier/humanize"
)

// Sizes of the two cached thumbnails (longest side, pixels).
const (
	Small = 192
	Large = 768
)

// Budgets.
const (
	DefaultMaxPixels   = 100_000_000 // 100 MP: a large panorama; a 50,000² PNG bomb is refused
	DefaultMaxFileSize = 512 << 20
	// DefaultMaxBytes caps the memory of the decoded image: width × height ×
	// bytes per pixel of the form the decoder produces (a 16-bit RGBA PNG
	// takes 8 bytes a pixel, twice an 8-bit one). 100 MP of 8-bit RGBA fit.
	DefaultMaxBytes = 400 << 20
)

// Info describes an image.
type Info struct {
	Format      string `json:"format"` // jpeg, png, gif, webp, bmp, tiff
	Width       int    `json:"width"`  // as displayed (after EXIF orientation)
	Height      int    `json:"height"`
	Orientation int    `json:"orientation,omitempty"` // EXIF orientation 1..8 (JPEG, TIFF)
	Alpha       bool   `json:"alpha,omitempty"`
}

// Thumb is one encoded thumbnail.
type Thumb struct {
	Size   int    `json:"size"` // requested longest side
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Ext    string `json:"ext"` // ".jpg" or ".png" (when the image has transparency)
	Data   []byte `json:"-"`
}

// Options bound the work.
type Options struct {
	MaxPixels   int64 // 0 = DefaultMaxPixels
	MaxFileSize int64 // 0 = DefaultMaxFileSize
	MaxBytes    int64 // decoded size, 0 = DefaultMaxBytes
	Quality     int   // JPEG quality, 0 = 82
	// Ext forces the thumbnails' format: ".jpg" (an image with transparency
	// is flattened onto white) or ".png". "" chooses: PNG when the image has
	// transparency, JPEG otherwise.
	Ext string
}

// ErrTooLarge is returned for images whose declared size exceeds the budget.
var ErrTooLarge = errors.New("image too large")

// ErrUnknownFormat means the content is no supported image.
var ErrUnknownFormat = errors.New("not a supported image (JPEG, PNG, GIF, WebP, BMP or TIFF)")

// Sniff tells the image format from its first bytes.
func Sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "jpeg"
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "png"
	case len(b) >= 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return "gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case len(b) >= 2 && string(b[:2]) == "BM":
		return "bmp"
	case len(b) >= 4 && (string(b[:4]) == "II*\x00" || string(b[:4]) == "MM\x00*"):
		return "tiff"
	}
	return ""
}

// codec is one format's decoders. Formats are chosen from the file's magic
// bytes (sniff), never from image.RegisterFormat's global table.
type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[string]codec{
	"jpeg": {jpegscale.DecodeConfig, jpegscale.Decode},
	"png":  {png.DecodeConfig, png.Decode},
	"gif":  {gif.DecodeConfig, gif.Decode},
	"webp": {webp.DecodeConfig, webp.Decode},
	"bmp":  {bmp.DecodeConfig, bmp.Decode},
	"tiff": {tiff.DecodeConfig, tiff.Decode},
}

func decodeConfig(format string, r io.Reader) (image.Config, error) {
	c, ok := codecs[format]
	if !ok {
		return image.Config{}, ErrUnknownFormat
	}
	return c.config(r)
}

func decode(format string, r io.Reader) (image.Image, error) {
	c, ok := codecs[format]
	if !ok {
		return nil, ErrUnknownFormat
	}
	return c.decode(r)
}

// Probe reads an image's format and size from its header.
func Probe(data []byte, opt Options) (info Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the image header is damaged (decoder crashed: %v)", r)
		}
	}()
	if len(data) == 0 {
		return info, errors.New("the file is empty (0 bytes)")
	}
	info.Format = Sniff(data)
	if info.Format == "" {
		return info, fmt.Errorf("%w; its first bytes match no image format — is the extension wrong?", ErrUnknownFormat)
	}
	cfg, err := decodeConfig(info.Format, bytes.NewReader(data))
	if err != nil {
		return info, fmt.Errorf("read %s header: %w", info.Format, err)
	}
	maxPx := opt.MaxPixels
	if maxPx <= 0 {
		maxPx = DefaultMaxPixels
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return info, fmt.Errorf("the %s header declares an empty image (%d×%d)", info.Format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPx {
		return info, fmt.Errorf("%w: the header declares %d×%d pixels (%.0f MP), over the %d MP limit", ErrTooLarge, cfg.Width, cfg.Height, float64(cfg.Width)*float64(cfg.Height)/1e6, maxPx/1_000_000)
	}
	maxBytes := opt.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	bpp, depth := pixelBytes(cfg.ColorModel)
	if need := int64(cfg.Width) * int64(cfg.Height) * bpp; need > maxBytes {
		return info, fmt.Errorf("%w: %d×%d pixels of %s take %s to decode, over the %s limit (save a smaller or 8-bit copy for the preview)",
			ErrTooLarge, cfg.Width, cfg.Height, depth, humanize.Bytes(need), humanize.Bytes(maxBytes))
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if info.Format == "jpeg" || info.Format == "tiff" {
		info.Orientation = exifOrientation(data)
		if info.Orientation >= 5 {
			info.Width, info.Height = info.Height, info.Width
		}
	}
	return info, nil
}

// pixelBytes is how many bytes a pixel of the given color model takes once
// decoded (the image type Go's decoders return for it), and a name for it.
func pixelBytes(m color.Model) (int64, string) {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8, "16-bit RGBA"
	case color.RGBAModel, color.NRGBAModel:
		return 4, "8-bit RGBA"
	case color.CMYKModel:
		return 4, "CMYK"
	case color.YCbCrModel:
		return 3, "YCbCr" // 4:4:4 at worst
	case color.Gray16Model:
		return 2, "16-bit gray"
	case color.GrayModel, color.AlphaModel:
		return 1, "8-bit gray"
	case color.Alpha16Model:
		return 2, "16-bit alpha"
	}
	if _, ok := m.(color.Palette); ok {
		return 1, "palette"
	}
	return 8, "pixels" // unknown: assume the widest
}

// DecodeCost estimates the memory (bytes) decoding the image file at path
// takes, from its header alone; 0 when the header cannot be read.
func DecodeCost(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	head := make([]byte, 256<<10) // JPEG's size follows its EXIF block
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	format := Sniff(head)
	if format == "" {
		return 0
	}
	var cfg image.Config
	func() {
		defer func() { recover() }()
		cfg, err = decodeConfig(format, bytes.NewReader(head))
	}()
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0
	}
	bpp, _ := pixelBytes(cfg.ColorModel)
	return int64(cfg.Width) * int64(cfg.Height) * bpp
}

// Make decodes the image in data and returns a thumbnail for each size.
func Make(data []byte, sizes []int, opt Options) (info Info, thumbs []Thumb, err error) {
	info, err = Probe(data, opt)
	if err != nil {
		return info, nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the %s data is damaged (decoder crashed: %v)", info.Format, r)
		}
	}()
	dec := codecs[info.Format].decode
	if info.Format == "jpeg" && len(sizes) > 0 {
		// When an eighth, a quarter or a half of the photo still covers the largest
		// thumbnail, decode at that scale (block means from a reduced
		// inverse DCT: a box filter for free) — a fraction of the time
		// and 1/64 or 1/16 of the memory of a full-size decode.
		// DecodeScaled has the data in memory: large scans are entropy
		// decoded on two goroutines.
		scale := 1
		switch side, want := max(info.Width, info.Height), slices.Max(sizes); {
		case side/8 >= want:
			scale = 8
		case side/4 >= want:
			scale = 4
		case side/2 >= want:
			scale = 2
		}
		dec = func(io.Reader) (image.Image, error) { return jpegscale.DecodeScaled(data, scale) }
	}
	img, err := dec(bytes.NewReader(data))
	if err != nil {
		return info, nil, fmt.Errorf("decode %s: %w (the file is damaged or truncated)", info.Format, err)
	}
	info.Alpha = hasAlpha(img)
	q := opt.Quality
	if q == 0 {
		q = 82
	}
	ext := opt.Ext
	switch ext {
	case "":
		ext = ".jpg"
		if info.Alpha {
			ext = ".png"
		}
	case ".jpg", ".png":
	default:
		return info, nil, fmt.Errorf("thumbnail format %q: use .jpg or .png", opt.Ext)
	}
	var src image.Image = img
	for i, size := range sortedDesc(sizes) {
		t := resize(src, size, info.Orientation)
		if i == 0 {
			src = unorient(t, info.Orientation) // smaller sizes start from the first thumbnail
		}
		th := Thumb{Size: size, Width: t.Bounds().Dx(), Height: t.Bounds().Dy()}
		var buf bytes.Buffer
		th.Ext = ext
		if ext == ".png" {
			err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, t)
		} else {
			if info.Alpha {
				t = onWhite(t)
			}
			// Opaque NRGBA pixels are valid RGBA ones: the encoder's RGBA
			// fast path instead of its per-pixel At (an allocation each).
			err = jpeg.Encode(&buf, &image.RGBA{Pix: t.Pix, Stride: t.Stride, Rect: t.Rect}, &jpeg.Options{Quality: q})
		}
		if err != nil {
			return info, nil, fmt.Errorf("encode thumbnail: %w", err)
		}
		th.Data = buf.Bytes()
		thumbs = append(thumbs, th)
	}
	return info, thumbs, nil
}

// MakeFile is Make for a file on disk.
func MakeFile(path string, sizes []int, opt Options) (Info, []Thumb, error) {
	maxSize := opt.MaxFileSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	st, err := os.Stat(path)
	if err != nil {
		return Info{}, nil, err
	}
	if st.Size() > maxSize {
		return Info{}, nil, fmt.Errorf("%w: %s is %d MiB, over the %d MiB limit", ErrTooLarge, filepath.Base(path), st.Size()>>20, maxSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, nil, err
	}
	info, th, err := Make(data, sizes, opt)
	if err != nil {
		return info, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return info, th, nil
}

func sortedDesc(s []int) []int {
	out := append([]int(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] > out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func hasAlpha(img image.Image) bool {
	switch m := img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return false
	case *image.Paletted:
		for _, c := range m.Palette {
			if _, _, _, a := c.RGBA(); a != 0xFFFF {
				return true
			}
		}
		return false
	case interface{ Opaque() bool }:
		return !m.Opaque()
	}
	return true
}

// onWhite returns m composited onto white: opaque, for JPEG.
func onWhite(m *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(m.Rect)
	for i := 0; i+3 < len(m.Pix); i += 4 {
		a := uint32(m.Pix[i+3])
		for c := 0; c < 3; c++ {
			out.Pix[i+c] = uint8((uint32(m.Pix[i+c])*a + 255*(255-a) + 127) / 255)
		}
		out.Pix[i+3] = 255
	}
	return out
}

// resize scales img so its longest displayed side is size (never enlarging)
// and applies the EXIF orientation.
func resize(img image.Image, size, orientation int) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	scale := float64(size) / float64(max(w, h))
	if scale > 1 {
		scale = 1
	}
	tw, th := max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5))
	src := img
	// Shrink in two steps when the source is over twice the target: a fast
	// bilinear pass to twice the target, then Catmull-Rom for quality.
	// Catmull-Rom straight from a large source widens its kernel with the
	// ratio and was half of a thumbnail's time.
	if w > 2*tw && h > 2*th {
		// RGBA, not NRGBA: x/image/draw has fast paths from YCbCr and
		// RGBA sources into RGBA, and the generic path was most of the
		// time (premultiplied is also the right space to interpolate in).
		mid := image.NewRGBA(image.Rect(0, 0, 2*tw, 2*th))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), img, b, draw.Src, nil)
		src = mid
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		// Opaque JPEG (YCbCr) and shrunk (RGBA) sources: Atelier's
		// fixed-point Catmull-Rom (resample.go), several times faster
		// than x/image/draw's.
		switch m := src.(type) {
		case *image.YCbCr:
			dst := shrinkOpaque(w, h, tw, th, ycbcrRows(m))
			return orient(&image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}, orientation)
		case *image.RGBA, *image.NRGBA: // opaque: the same bytes
			var r *image.RGBA
			if n, ok := m.(*image.NRGBA); ok {
				r = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
			} else {
				r = m.(*image.RGBA)
			}
			sb := r.Bounds()
			dst := shrinkOpaque(sb.Dx(), sb.Dy(), tw, th, rgbaRows(r))
			return orient(&image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}, orientation)
		}
		// Opaque pixels are the same in RGBA and NRGBA: scale into RGBA,
		// which x/image/draw has fast paths for (into NRGBA it goes pixel
		// by pixel through the generic RGBA64 path).
		dst := image.NewRGBA(image.Rect(0, 0, tw, th))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		return orient(&image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: dst.Rect}, orientation)
	}
	dst := image.NewNRGBA(image.Rect(0, 0, tw, th))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return orient(dst, orientation)
}

// orient applies EXIF orientation o (1..8) to m.
func orient(m *image.NRGBA, o int) *image.NRGBA {
	if o <= 1 || o > 8 {
		return m
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	out := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			out.SetNRGBA(dx, dy, m.NRGBAAt(x, y))
		}
	}
	return out
}

// unorient undoes orient, so a thumbnail can be the source of a smaller one.
func unorient(m *image.NRGBA, o int) *image.NRGBA {
	inv := map[int]int{2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
	if o <= 1 || o > 8 {
		return m
	}
	return orient(m, inv[o])
}

var _ color.Color = color.NRGBA{}
