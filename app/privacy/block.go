package privacy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Raw events are stored in blocks: one key holds up to blockEvents events of
// one purpose within one hour, in time order, delta-encoded and compressed.
// Writing a block instead of a key per event is what makes ingest cheap
// (hundreds of thousands of events a second), and a block expires as a whole
// (Badger TTL) once its newest event is past the purpose's retention.
//
// Key:   priv/ev/<purpose>/<8-byte time of the first event><4-byte sequence>
// Value: version (1) | codec (0 raw, 1 zstd) | payload
// Payload: uvarint count, then per event: uvarint nanoseconds since the
// previous event (the first: since the key's time), event id, one byte per
// field of the event's schema (0xFF: not set).
const (
	blockEvents  = 4096
	blockVersion = 1
	codecRaw     = 0
	codecZstd    = 1
	maxBlockRaw  = blockEvents * (binary.MaxVarintLen64 + 1 + maxFields)
)

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBlockRaw))
	zbuf    = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
)

// RawEvent is one stored event, decoded.
type RawEvent struct {
	Time    time.Time         `json:"time"`
	Purpose string            `json:"purpose"`
	Event   string            `json:"event"`
	Fields  map[string]string `json:"fields"`
}

// encodeBlock packs events (time-ordered, one purpose) after the key time base.
func encodeBlock(base int64, evs []pending) []byte {
	bp := zbuf.Get().(*[]byte)
	raw := (*bp)[:0]
	raw = binary.AppendUvarint(raw, uint64(len(evs)))
	prev := base
	for i := range evs {
		p := &evs[i]
		raw = binary.AppendUvarint(raw, uint64(p.t-prev))
		prev = p.t
		raw = append(raw, p.ev)
		raw = append(raw, p.vals[:len(eventDefs[p.ev].Fields)]...)
	}
	out := make([]byte, 2, 2+len(raw)/3)
	out[0] = blockVersion
	out[1] = codecZstd
	out = zenc.EncodeAll(raw, out)
	*bp = raw
	zbuf.Put(bp)
	return out
}

var errBlock = errors.New("damaged event block")

// decodeBlock unpacks a block stored under a key whose time base is base.
func decodeBlock(purpose string, base int64, val []byte, fn func(RawEvent)) (int, error) {
	if len(val) < 2 || val[0] != blockVersion {
		return 0, fmt.Errorf("%w: unknown format", errBlock)
	}
	payload := val[2:]
	switch val[1] {
	case codecRaw:
	case codecZstd:
		var err error
		payload, err = zdec.DecodeAll(payload, nil)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errBlock, err)
		}
	default:
		return 0, fmt.Errorf("%w: unknown codec %d", errBlock, val[1])
	}
	n, k := binary.Uvarint(payload)
	if k <= 0 || n > blockEvents {
		return 0, fmt.Errorf("%w: bad event count", errBlock)
	}
	payload = payload[k:]
	t := base
	for i := uint64(0); i < n; i++ {
		dt, k := binary.Uvarint(payload)
		if k <= 0 || dt > uint64(24*time.Hour) || len(payload) < k+1 {
			return int(i), fmt.Errorf("%w: event %d is truncated", errBlock, i)
		}
		payload = payload[k:]
		t += int64(dt)
		id := payload[0]
		if int(id) >= len(eventDefs) {
			return int(i), fmt.Errorf("%w: event %d has unknown id %d", errBlock, i, id)
		}
		d := eventDefs[id]
		if len(payload) < 1+len(d.Fields) {
			return int(i), fmt.Errorf("%w: event %d is truncated", errBlock, i)
		}
		ev := RawEvent{Time: time.Unix(0, t).UTC(), Purpose: purpose, Event: d.Name, Fields: map[string]string{}}
		for j, f := range d.Fields {
			v := payload[1+j]
			if v == unset {
				continue
			}
			if int(v) >= len(f.Values) {
				return int(i), fmt.Errorf("%w: event %d field %s has unknown value %d", errBlock, i, f.Name, v)
			}
			ev.Fields[f.Name] = f.Values[v]
		}
		payload = payload[1+len(d.Fields):]
		if fn != nil {
			fn(ev)
		}
	}
	if len(payload) != 0 {
		return int(n), fmt.Errorf("%w: %d trailing bytes", errBlock, len(payload))
	}
	return int(n), nil
}

// blockKeyTime reads the time base from a raw event block key.
func blockKeyTime(key []byte) (purpose string, base int64, err error) {
	rest := key[len(evPrefix):]
	if len(rest) < 13 {
		return "", 0, fmt.Errorf("%w: short key", errBlock)
	}
	purpose = string(rest[:len(rest)-13])
	if rest[len(rest)-13] != '/' {
		return "", 0, fmt.Errorf("%w: bad key", errBlock)
	}
	base = int64(binary.BigEndian.Uint64(rest[len(rest)-12:]) ^ (1 << 63))
	return purpose, base, nil
}
