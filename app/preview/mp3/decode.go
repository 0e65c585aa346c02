package mp3

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	gomp3 "atelier/app/preview/mp3/internal/gomp3"
)

// Options tune Decode. The zero value decodes on all cores.
type Options struct {
	Workers     int   // parallel segments decoding at once; 0 = GOMAXPROCS, 1 = sequential
	ChunkFrames int   // frames per segment; 0 = 1200 (about 30 s at 44.1 kHz)
	Preroll     int   // frames decoded and discarded before a segment; 0 = 10
	MaxSamples  int64 // stop after this many samples per channel (0 = all); the rest is reported as a warning

	wholeStream bool // tests: one segment, no pre-roll at all (the reference decode)
}

// Result tells what Decode delivered.
type Result struct {
	Samples  int64    // samples per channel delivered to the sink
	Partial  bool     // stopped early at MaxSamples
	Warnings []string // damaged frames replaced by silence, and the like
}

const maxRestarts = 64

// Decode decodes the audio frames of st (scanned from data) and calls sink in
// order with interleaved 16-bit samples, st.Channels per sample frame, with
// the encoder delay and padding trimmed (what a gapless player plays). The
// slice sink gets is reused afterwards: it is valid only during the call.
//
// Segments of ChunkFrames frames decode in parallel, each after Preroll frames
// whose output is discarded; the first frames of a pre-roll have their side
// information neutralised so they decode to silence while filling go-mp3's bit
// reservoir. The output equals a sequential decode. Panics inside go-mp3 are
// recovered: the damaged frames become silence and a warning.
func Decode(ctx context.Context, data []byte, st *Stream, opt Options, sink func(pcm []int16) error) (Result, error) {
	var res Result
	if st == nil || len(st.Frames) == 0 {
		return res, ErrNoFrames
	}
	if st.Layer != 3 {
		return res, fmt.Errorf("%w: MPEG-%s Layer %d", ErrUnsupported, st.Version, st.Layer)
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.ChunkFrames <= 0 {
		opt.ChunkFrames = 1200
	}
	if opt.Preroll <= 0 {
		opt.Preroll = 10
	}
	n := len(st.Frames)
	if opt.wholeStream {
		opt.Workers, opt.ChunkFrames = 1, n
	}
	skip, keep := st.Trim()
	if opt.MaxSamples > 0 && keep > opt.MaxSamples {
		keep = opt.MaxSamples
		res.Partial = true
	}
	spf := int64(st.SamplesPerFrame)
	lastFrame := int((skip + keep + spf - 1) / spf)
	if lastFrame > n {
		lastFrame = n
	}
	nChunks := (lastFrame + opt.ChunkFrames - 1) / opt.ChunkFrames

	type result struct {
		pcm  []int16
		warn []string
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan result, nChunks)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// Segment buffers go back to free once the sink has seen them (at most
	// Workers+1 are in flight): no 5 MB allocation per segment.
	free := make(chan []int16, opt.Workers+2)
	buffer := func(n int) []int16 {
		select {
		case b := <-free:
			if cap(b) >= n {
				b = b[:n]
				clear(b) // damaged frames stay silent
				return b
			}
		default:
		}
		return make([]int16, n)
	}
	jobs := make(chan int)
	window := make(chan struct{}, opt.Workers+1) // bounds decoded segments held in memory
	go func() {
		defer close(jobs)
		for i := 0; i < nChunks; i++ {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for w := 0; w < opt.Workers && w < nChunks; w++ {
		go func() {
			for i := range jobs {
				a := i * opt.ChunkFrames
				b := min(a+opt.ChunkFrames, lastFrame)
				pcm, warn := decodeRange(ctx, data, st, a, b, opt.Preroll, buffer((b-a)*st.SamplesPerFrame*st.Channels))
				results[i] <- result{pcm, warn}
			}
		}()
	}

	pos := int64(0) // sample position (per channel) of the next chunk's first sample
	end := skip + keep
	nch := int64(st.Channels)
	for i := 0; i < nChunks; i++ {
		var r result
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		<-window
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Warnings = append(res.Warnings, r.warn...)
		cs := pos
		ce := pos + int64(len(r.pcm))/nch
		pos = ce
		lo, hi := max(cs, skip), min(ce, end)
		if lo >= hi {
			continue
		}
		res.Samples += hi - lo
		if err := sink(r.pcm[(lo-cs)*nch : (hi-cs)*nch]); err != nil {
			return res, err
		}
		select {
		case free <- r.pcm:
		default:
		}
	}
	if len(res.Warnings) > maxWarnings {
		extra := len(res.Warnings) - maxWarnings
		res.Warnings = append(res.Warnings[:maxWarnings], fmt.Sprintf("%d more damaged sections", extra))
	}
	return res, nil
}

// reservoir is the most main data a Layer III frame can borrow from earlier frames.
func (s *Stream) reservoir() int {
	if s.Version == "1" {
		return 511
	}
	return 255
}

// mainDataSize is the main data capacity of frame i.
func (s *Stream) mainDataSize(data []byte, i int) int {
	f := s.Frames[i]
	h, _ := parseHeader(data[f.Off:])
	n := int(f.Size) - 4 - h.sideInfoSize()
	if h.crc {
		n -= 2
	}
	return n
}

// prerollStart returns the frame to start decoding at so that frame a decodes
// exactly: preroll frames before it, preceded by enough neutralised frames to
// refill the bit reservoir (zero of them).
func (s *Stream) prerollStart(data []byte, a, preroll int) (start, zero int) {
	s0 := a - preroll
	if s0 <= 0 {
		return 0, 0
	}
	need := s.reservoir()
	j := s0
	for need > 0 {
		if j == 0 {
			return 0, 0
		}
		j--
		need -= s.mainDataSize(data, j)
	}
	return j, s0 - j
}

// decodeRange decodes frames [a, b) into out (zeroed, room for b-a frames
// of st.Channels interleaved channels). Damaged frames become silence and a
// warning.
func decodeRange(ctx context.Context, data []byte, st *Stream, a, b, preroll int, out []int16) ([]int16, []string) {
	var warns []string
	start, zero := st.prerollStart(data, a, preroll)
	cursor := a
	for restarts := 0; cursor < b; restarts++ {
		if restarts > maxRestarts {
			warns = append(warns, fmt.Sprintf("gave up decoding at %s: too many damaged frames; the rest of that section is silent", st.timeOf(cursor)))
			break
		}
		failed, err := runDecoder(ctx, data, st, start, zero, cursor, a, b, out)
		if err == nil || failed >= b {
			break
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			break
		}
		warns = append(warns, fmt.Sprintf("damaged frame at %s (%v): replaced by silence", st.timeOf(failed), err))
		if failed >= cursor {
			cursor = failed + 1
		}
		start = failed + 1
		if start >= b {
			break
		}
		// Neutralise the frames needed to refill the reservoir after the gap:
		// they decode as silence, which is what a player does too.
		zero = 0
		for need, j := st.reservoir(), start; need > 0 && j < b; j++ {
			need -= st.mainDataSize(data, j)
			zero++
		}
	}
	return out, warns
}

func (s *Stream) timeOf(frame int) string {
	d := time.Duration(float64(frame*s.SamplesPerFrame) / float64(s.SampleRate) * float64(time.Second))
	return d.Truncate(time.Millisecond).String()
}

// runDecoder decodes frames [start, b) with the first zero frames neutralised
// and stores the output of frames [keepFrom, b) into out (which starts at frame
// a). It returns b on success, or the first frame that failed. Frames go to
// the decoder as the slices Scan found, so nothing is copied but the
// neutralised frames, into one scratch buffer.
func runDecoder(ctx context.Context, data []byte, st *Stream, start, zero, keepFrom, a, b int, out []int16) (failed int, err error) {
	spf := st.SamplesPerFrame
	done := 0 // frames fully decoded
	defer func() {
		if r := recover(); r != nil {
			failed = start + done
			err = fmt.Errorf("decoder crashed: %v", r)
		}
	}()
	var dec gomp3.SliceDecoder
	nch := st.Channels
	scratch := make([]int16, spf*nch)
	var neutral []byte
	for j := start; j < b; j++ {
		if done%64 == 0 && ctx.Err() != nil {
			return j, ctx.Err()
		}
		f := st.Frames[j]
		fr := data[f.Off : f.Off+int64(f.Size)]
		if j-start < zero {
			neutral = append(neutral[:0], fr...)
			neutralise(neutral, st)
			fr = neutral
		}
		o := scratch
		if j >= keepFrom {
			o = out[(j-a)*spf*nch : (j-a+1)*spf*nch]
		}
		n, err := dec.Decode(fr, o, nch)
		if err == nil && n != spf {
			err = fmt.Errorf("frame of %d samples in a stream of %d", n, spf)
		}
		if err != nil {
			return j, err
		}
		done++
	}
	return b, nil
}

// neutralise rewrites a frame's side information so it decodes to silence
// while its main data still enters the bit reservoir: main_data_begin is set
// to the maximum (so go-mp3 keeps accumulating earlier main data) and every
// granule has zero bits of Huffman data.
func neutralise(fr []byte, st *Stream) {
	h, _ := parseHeader(fr)
	off := 4
	if h.crc {
		off += 2
	}
	si := fr[off : off+h.sideInfoSize()]
	clear(si)
	si[0] = 0xFF
	if h.version == 1 {
		si[1] = 0x80 // 9-bit main_data_begin
	}
}
