// Package jpegscale is Go's image/jpeg decoder (Go 1.26, BSD license, see
// LICENSE; copyright The Go Authors) with one addition by Atelier (2026):
// DecodeEighth decodes at 1/8 scale from the DC coefficients alone, the way
// libjpeg's scale_denom=8 does, so thumbnails of large photographs skip the
// inverse DCT and never allocate the full-size image. Changes are marked
// "Atelier" in reader.go, scan.go and huffman.go; dct.go is unchanged.
// Sequential scans go through fastscan.go (Atelier): a 64-bit bit
// accumulator, 9-bit Huffman lookup tables, and at 1/8 scale the AC
// coefficients skipped without being materialised. DecodeScaled (data in
// memory, parallel.go) decodes a large sequential scan at 1/4 and 1/8 on two
// goroutines: the second starts mid-data and meets the first where their
// block boundaries (bit position and MCU phase) agree, or after a restart
// marker; the result is the serial decode's, bit for bit.
// The encoder and format registration are left out.
package jpegscale
