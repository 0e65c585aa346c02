package privacy

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode"
)

// FuzzParseAudience: any bytes give rows or errors, never a panic, and every
// value that comes out is clean (a known metric name, no control characters,
// a plausible day, a finite number).
func FuzzParseAudience(f *testing.F) {
	for _, s := range []string{
		"date,song,streams\n2026-11-01,A,10\n",
		"Date;Song;Streams\n01/02/2026;\"A;B\";1.234,5\n",
		"date,track,streams\n2026-11-01,\"unterminated,5\n",
		"\ufeffReporting Date,Store,Title,Quantity,Earnings (USD)\n2026-11-05,Spotify,Song,100,(0.30)\n",
		"date\tvideo title\tviews\n2026-11\tX\t1e3\n",
		"\xff\xfeD\x00a\x00t\x00e\x00",
		"date,streams\n\n\n2026-01-01,\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		m := AudienceMapping{}
		switch mode % 4 {
		case 1:
			m = AudienceMapping{Platform: "generic", Date: "date", Item: "song", Metrics: map[string]string{"streams": "plays"}}
		case 2:
			m.DateFormat = "DD/MM/YYYY"
		case 3:
			m.Platform = "distrokid"
		}
		_, rows, errs, nerr, _ := parseAudience(bytes.NewReader(data), m, func(row int, v audRow) error {
			if !validMetric(v.metric) {
				t.Fatalf("metric %q", v.metric)
			}
			for _, r := range v.item + v.platform {
				if unicode.IsControl(r) {
					t.Fatalf("control character in %q / %q", v.item, v.platform)
				}
			}
			if v.day.Year() < 1990 || v.day.Year() > 2200 || v.value != v.value {
				t.Fatalf("value %+v", v)
			}
			if strings.ContainsRune(v.metric+v.platform, 0) {
				t.Fatal("NUL in key")
			}
			return nil
		})
		if int64(len(errs)) > nerr || len(errs) > MaxRowErrors || nerr > rows+1 {
			t.Fatalf("errors %d of %d, rows %d", len(errs), nerr, rows)
		}
	})
}

// FuzzDecodeBlock: a damaged event block yields an error, never a panic or a
// huge allocation; a block that decodes re-encodes to the same events.
func FuzzDecodeBlock(f *testing.F) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	evs := []pending{{t: base, ev: 5}, {t: base + 1e9, ev: 0}}
	for i := range evs {
		for j := range evs[i].vals {
			evs[i].vals[j] = unset
		}
	}
	evs[0].vals[0] = 1
	f.Add(encodeBlock(base, evs))
	f.Add([]byte{1, 0, 1, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{1, 1, 0x28, 0xb5, 0x2f, 0xfd})
	f.Add(encodeStageBlock([]stagedVal{{key: "plays/2026-11-01/spotify\x00Song", value: 3}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if vs, err := decodeStageBlock(data); err == nil {
			if b := encodeStageBlock(vs); !bytes.Equal(b, data) && len(vs) > 0 && len(b) > len(data) {
				t.Fatalf("staged block re-encodes larger: %d > %d", len(b), len(data))
			}
		}
		var got []RawEvent
		n, err := decodeBlock(AnalyticsLocal, base, data, func(e RawEvent) { got = append(got, e) })
		if err != nil {
			return
		}
		if n != len(got) {
			t.Fatalf("decoded %d, reported %d", len(got), n)
		}
		for _, e := range got {
			d := eventByName[e.Event]
			if d == nil {
				t.Fatalf("unknown event %q", e.Event)
			}
			for k, v := range e.Fields {
				f := d.Fields[d.fieldx[k]]
				ok := false
				for _, x := range f.Values {
					ok = ok || x == v
				}
				if !ok {
					t.Fatalf("value %q of %s.%s not allow-listed", v, e.Event, k)
				}
			}
		}
	})
}

// FuzzKeys: key parsers never panic.
func FuzzKeys(f *testing.F) {
	f.Add("priv/roll/analytics.local/d/view.opened/view=library\x002026-11-01")
	f.Add("streams/2026-11-01/spotify\x00Song")
	f.Fuzz(func(t *testing.T, k string) {
		splitRollupKey(k)
		parseRowKey(k)
		rollGran(rollPrefix + k)
		if len(k) >= len(evPrefix) {
			blockKeyTime([]byte(evPrefix + k))
		}
	})
}

func TestBlockRoundTrip(t *testing.T) {
	base := time.Now().UnixNano()
	var evs []pending
	for i := 0; i < 3000; i++ {
		p := pending{t: base + int64(i)*1e6, ev: uint8(i % len(eventDefs))}
		for j := range p.vals {
			p.vals[j] = unset
		}
		if len(eventDefs[p.ev].Fields) > 0 {
			p.vals[0] = 0
		}
		evs = append(evs, p)
	}
	b := encodeBlock(base, evs)
	var got []RawEvent
	n, err := decodeBlock(AnalyticsLocal, base, b, func(e RawEvent) { got = append(got, e) })
	if err != nil || n != len(evs) {
		t.Fatalf("%d %v", n, err)
	}
	for i, e := range got {
		if e.Time.UnixNano() != evs[i].t || e.Event != eventDefs[evs[i].ev].Name {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	if len(b) > 3000*4 {
		t.Fatalf("block of %d bytes for 3000 events", len(b))
	}
}

// FuzzLineLimitReader: the reader passes the bytes through unchanged when no
// line is longer than the cap, and otherwise fails on the first such line.
func FuzzLineLimitReader(f *testing.F) {
	f.Add([]byte("ab\ncdef\n\ngh"), uint8(3), uint8(2))
	f.Add([]byte("abcdefgh"), uint8(4), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, max, chunk uint8) {
		m := int(max%16) + 1
		r := &lineLimitReader{r: iotest.OneByteReader(bytes.NewReader(data)), max: m}
		if chunk%2 == 1 {
			r.r = bytes.NewReader(data)
		}
		got, err := io.ReadAll(r)
		want, first := -1, int64(0)
		for i, l := range bytes.Split(data, []byte("\n")) {
			if len(l) > m {
				want, first = i, int64(i+1)
				break
			}
		}
		if want < 0 {
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("max %d: %v %q", m, err, got)
			}
			return
		}
		ll, ok := errors.AsType[*LineTooLongError](err)
		if !ok || ll.Line != first || !bytes.HasPrefix(data, got) {
			t.Fatalf("max %d: line %d: %v %q", m, first, err, got)
		}
	})
}
