package frame

import (
	"errors"
	"fmt"

	"atelier/app/preview/mp3/internal/gomp3/internal/bits"
	"atelier/app/preview/mp3/internal/gomp3/internal/consts"
	"atelier/app/preview/mp3/internal/gomp3/internal/frameheader"
	"atelier/app/preview/mp3/internal/gomp3/internal/maindata"
	"atelier/app/preview/mp3/internal/gomp3/internal/sideinfo"
)

// Decoder decodes Layer III frames handed to it one at a time as byte slices
// (Atelier). The caller knows the frame boundaries, so go-mp3's frame size
// arithmetic (wrong for padded MPEG-2 frames) is never used; the bit
// reservoir is kept here; nothing is allocated per frame.
type Decoder struct {
	f   Frame
	si  sideinfo.SideInfo
	md  maindata.MainData
	st  state
	buf []byte // main data of this frame preceded by the reservoir it borrows
	m   bits.Bits
}

// Decode decodes one whole frame (header included) into out, Samples × outCh
// interleaved values (outCh 1 or 2), and returns the samples per channel. A
// frame that borrows more main data than earlier frames supplied decodes to
// silence (as at the start of a stream cut out of a longer one).
func (d *Decoder) Decode(fr []byte, out []int16, outCh int) (int, error) {
	if len(fr) < 4 {
		return 0, errors.New("mp3: frame shorter than its header")
	}
	h := frameheader.FrameHeader(uint32(fr[0])<<24 | uint32(fr[1])<<16 | uint32(fr[2])<<8 | uint32(fr[3]))
	if !h.IsValid() || h.Layer() != consts.Layer3 {
		return 0, fmt.Errorf("mp3: not a Layer III frame header (%08x)", uint32(h))
	}
	off := 4
	if h.ProtectionBit() == 0 {
		off += 2
	}
	siz := h.SideInfoSize()
	if len(fr) < off+siz {
		return 0, fmt.Errorf("mp3: frame of %d bytes too short for its side information", len(fr))
	}
	sideinfo.Parse(fr[off:off+siz], h, &d.si)
	main := fr[off+siz:]

	// The borrowed tail moves to the front of buf, this frame's main data
	// follows. A starved frame keeps all there is (at most 511 bytes can be
	// borrowed) and decodes to silence.
	begin := d.si.MainDataBegin
	if begin > len(d.buf) {
		begin = min(len(d.buf), 511)
		for gr := range d.si.Part2_3Length {
			d.si.Part2_3Length[gr] = [2]int{}
		}
	}
	n := copy(d.buf, d.buf[len(d.buf)-begin:])
	d.buf = append(d.buf[:n], main...)
	d.m.Reset(d.buf)
	if err := maindata.Decode(&d.m, h, &d.si, &d.md); err != nil {
		return 0, err
	}
	d.f = Frame{header: h, sideInfo: &d.si, mainData: &d.md, st: &d.st}
	ns := d.f.Samples()
	if len(out) < ns*outCh {
		return 0, errors.New("mp3: output buffer too small")
	}
	d.f.DecodeInto(out, outCh)
	return ns, nil
}
