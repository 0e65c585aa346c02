package sandbox

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"atelier/app/modules/sandbox/measurewire"
	"atelier/app/preview/audio"
	"atelier/app/preview/media"
	"atelier/signing/manifest"
)

// The measure host function gives a module granted project:read the audio
// measurements Atelier computes natively (format and EBU R128 loudness), for
// a file the module can see:
//
//	//go:wasmimport atelier measure
//	func measure(path *byte, pathLen uint32, buf *byte, bufCap uint32, resultLen *uint32) uint32
//
// path is a guest path under /project. The file is opened through the
// project's mount (os.Root: no link out of the project, only the selection
// when there is one) and decoded by Atelier's own decoders (WAV, FLAC, MP3,
// AIFF: never an external program). The answer is a Measurement in the form
// of package measurewire, copied into buf, its length stored at resultLen. It returns MeasureOK,
// MeasureRefused (not a file the module can see), MeasureShort (buf is too
// small: resultLen holds the size needed) or MeasureBadArgs.
//
// Why: decoding and filtering audio inside WebAssembly costs 20-30× the
// native work; measured on the host, a loudness report in the sandbox costs
// what it costs in Atelier.
const (
	MeasureOK      = 0
	MeasureRefused = 1
	MeasureShort   = 2
	MeasureBadArgs = 3
)

// Measurement is what a measure call answers (package measurewire).
type Measurement = measurewire.Measurement

// measureKey carries the project mount of a run into the host function.
type measureKey struct{}

// MeasureAudio measures one audio file natively: what the measure host
// function answers, and what a module's native twin computes.
func MeasureAudio(ctx context.Context, file string) Measurement {
	var m Measurement
	var meter *audio.Meter
	info, err := audio.Decode(ctx, file, audio.Options{Workers: 1, OnFormat: func(i audio.Info) { meter = audio.NewMeter(i.SampleRate) }}, func(s []int32, ch int) error {
		return meter.Add(s, ch)
	})
	if err != nil {
		m.Error = err.Error()
		return m
	}
	m.Info = info
	if meter != nil {
		m.Loudness = meter.Result()
	}
	return m
}

// nativeAudio are the formats the host decodes for a module: in process,
// never through ffmpeg.
var nativeAudio = map[media.Format]bool{media.WAV: true, media.FLAC: true, media.MP3: true, media.AIFF: true, media.AIFC: true}

// measureFile opens guest path p through the project mount and measures it.
func (r *rootFS) measureFile(ctx context.Context, p string) (Measurement, error) {
	rel, ok := strings.CutPrefix(path.Clean(p), ProjectMount+"/")
	if !ok || !fs.ValidPath(rel) {
		r.run.deny("measure %s: only files under %s can be measured", p, ProjectMount)
		return Measurement{}, fs.ErrPermission
	}
	if e := r.visible("measure", rel); e != 0 {
		return Measurement{}, fs.ErrPermission
	}
	f, err := r.root.Open(rel)
	if err != nil {
		r.errno("measure", rel, err) // a path leading out is recorded as refused
		return Measurement{}, fs.ErrPermission
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Measurement{}, err
	}
	if !fi.Mode().IsRegular() {
		return Measurement{Error: fmt.Sprintf("%s is not a regular file", rel)}, nil
	}
	r.run.use(r.perm)
	format, _, err := media.SniffFile(f, fi.Size())
	if err != nil {
		return Measurement{Error: fmt.Sprintf("read %s: %v", rel, err)}, nil
	}
	if !nativeAudio[format] {
		return Measurement{Error: fmt.Sprintf("%s is %s: the sandbox measures WAV, FLAC, MP3 and AIFF", path.Base(rel), media.Describe(format, nil))}, nil
	}
	// Decode reopens the file the root resolved (its descriptor), not the
	// name: a link swapped in meanwhile leads nowhere.
	fd := fdPath(f)
	m := MeasureAudio(ctx, fd)
	if m.Error != "" {
		m.Error = nameErrors(m.Error, fd, rel)
	}
	return m, nil
}

// nameErrors puts the file's project path back into a decoder's message,
// which names the descriptor's path or its last element.
func nameErrors(msg, fd, rel string) string {
	msg = strings.ReplaceAll(msg, fd, rel)
	base := path.Base(fd)
	for _, pre := range []string{"decode " + base + ":", base + " ", base + ":"} {
		if i := strings.Index(msg, pre); i == 0 || (i > 0 && strings.HasPrefix(pre, "decode ")) {
			return msg[:i] + strings.Replace(pre, base, rel, 1) + msg[i+len(pre):]
		}
	}
	return msg
}

func fdPath(f *os.File) string {
	if runtime.GOOS == "linux" {
		return fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	}
	return fmt.Sprintf("/dev/fd/%d", f.Fd())
}

func measureHost(ctx context.Context, mod api.Module, stack []uint64) {
	ret := func(code uint32) { stack[0] = uint64(code) }
	r, _ := ctx.Value(measureKey{}).(*rootFS)
	mem := mod.Memory()
	pPtr, pLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	bufPtr, bufCap := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	resPtr := api.DecodeU32(stack[4])
	if r == nil {
		ret(MeasureRefused)
		return
	}
	raw, ok := mem.Read(pPtr, pLen)
	if !ok || pLen > 4096 {
		ret(MeasureBadArgs)
		return
	}
	if _, ok := mem.Read(bufPtr, bufCap); !ok {
		ret(MeasureBadArgs)
		return
	}
	if _, ok := mem.Read(resPtr, 4); !ok {
		ret(MeasureBadArgs)
		return
	}
	m, err := r.measureFile(ctx, string(raw))
	if err != nil {
		ret(MeasureRefused)
		return
	}
	b := measurewire.Append(nil, m)
	mem.WriteUint32Le(resPtr, uint32(len(b)))
	if uint32(len(b)) > bufCap {
		ret(MeasureShort)
		return
	}
	mem.Write(bufPtr, b)
	ret(MeasureOK)
}

// hostGrant says which effective permission makes a host function reachable.
func hostGrant(name string, perms []string, hosts []string) (need string, ok bool) {
	switch name {
	case "http_get":
		return "net:HOST", len(hosts) > 0
	case "measure":
		return manifest.PermProjectRead, has(perms, manifest.PermProjectRead)
	}
	return "", false
}
