package audio

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DatHeaderSize is the size of an audiowaveform .dat version 2 header.
const DatHeaderSize = 24

// WriteDat writes w in audiowaveform's binary format, version 2, with 8- or
// 16-bit values (8-bit values are the 16-bit ones divided by 256, truncated).
func WriteDat(out io.Writer, w *Waveform, bits int) error {
	if bits != 8 && bits != 16 {
		return fmt.Errorf("bits must be 8 or 16, not %d", bits)
	}
	bw := bufio.NewWriter(out)
	var h [DatHeaderSize]byte
	flags := uint32(0)
	if bits == 8 {
		flags = 1
	}
	binary.LittleEndian.PutUint32(h[0:], 2)
	binary.LittleEndian.PutUint32(h[4:], flags)
	binary.LittleEndian.PutUint32(h[8:], uint32(w.SampleRate))
	binary.LittleEndian.PutUint32(h[12:], uint32(w.SamplesPerPixel))
	binary.LittleEndian.PutUint32(h[16:], uint32(w.Length()))
	binary.LittleEndian.PutUint32(h[20:], uint32(w.Channels))
	bw.Write(h[:])
	if bits == 8 {
		for _, v := range w.Data {
			bw.WriteByte(byte(int8(v / 256)))
		}
	} else {
		var b [2]byte
		for _, v := range w.Data {
			binary.LittleEndian.PutUint16(b[:], uint16(v))
			bw.Write(b[:])
		}
	}
	return bw.Flush()
}

// ReadDat parses an audiowaveform .dat file (version 1 or 2). Values of 8-bit
// files are returned as they are stored (-128..127).
func ReadDat(data []byte) (w *Waveform, bits int, err error) {
	if len(data) < 20 {
		return nil, 0, errors.New("dat: shorter than a header")
	}
	le := binary.LittleEndian
	version := int32(le.Uint32(data[0:]))
	flags := le.Uint32(data[4:])
	w = &Waveform{SampleRate: int(int32(le.Uint32(data[8:]))), SamplesPerPixel: int(int32(le.Uint32(data[12:]))), Channels: 1}
	length := int64(le.Uint32(data[16:]))
	off := 20
	switch version {
	case 1:
	case 2:
		if len(data) < 24 {
			return nil, 0, errors.New("dat: truncated version 2 header")
		}
		w.Channels = int(int32(le.Uint32(data[20:])))
		off = 24
	default:
		return nil, 0, fmt.Errorf("dat: unknown version %d", version)
	}
	if w.Channels < 1 || w.Channels > MaxChannels {
		return nil, 0, fmt.Errorf("dat: %d channels", w.Channels)
	}
	bits = 16
	if flags&1 != 0 {
		bits = 8
	}
	n := length * int64(w.Channels) * 2
	if n*int64(bits/8) > int64(len(data)-off) {
		return nil, 0, fmt.Errorf("dat: header declares %d points but the file is shorter", length)
	}
	w.Data = make([]int16, n)
	for i := range w.Data {
		if bits == 8 {
			w.Data[i] = int16(int8(data[off+i]))
		} else {
			w.Data[i] = int16(le.Uint16(data[off+2*i:]))
		}
	}
	return w, bits, nil
}

// datJSON is audiowaveform's JSON format.
type datJSON struct {
	Version         int     `json:"version"`
	Channels        int     `json:"channels"`
	SampleRate      int     `json:"sample_rate"`
	SamplesPerPixel int     `json:"samples_per_pixel"`
	Bits            int     `json:"bits"`
	Length          int     `json:"length"`
	Data            []int16 `json:"data"`
}

// WriteJSON writes w in audiowaveform's JSON format with 8- or 16-bit values.
func WriteJSON(out io.Writer, w *Waveform, bits int) error {
	if bits != 8 && bits != 16 {
		return fmt.Errorf("bits must be 8 or 16, not %d", bits)
	}
	j := datJSON{Version: 2, Channels: w.Channels, SampleRate: w.SampleRate, SamplesPerPixel: w.SamplesPerPixel, Bits: bits, Length: w.Length(), Data: w.Data}
	if bits == 8 {
		j.Data = make([]int16, len(w.Data))
		for i, v := range w.Data {
			j.Data[i] = v / 256
		}
	}
	if j.Data == nil {
		j.Data = []int16{}
	}
	return json.NewEncoder(out).Encode(j)
}
