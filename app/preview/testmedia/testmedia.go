// Package testmedia generates short test media with sox, lame and ffmpeg and
// decodes files with ffmpeg as the peer. A missing tool fails the test: CI
// installs them (sox, lame, ffmpeg).
package testmedia

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Run runs a tool and fails the test with its output when it fails.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: install it (Debian: apt-get install %s) to run these tests", name, name)
	}
	cmd := exec.Command(path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, errb.String())
	}
	return out.Bytes()
}

// Tone writes a WAV made by sox: synth args such as
// "sine 440 sine 660" with the given rate, channels, bits and length in seconds.
// encoding is "" (signed integer) or "floating-point".
func Tone(t testing.TB, dir, name string, rate, channels, bits int, secs float64, encoding string, synth ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	args := []string{"-R", "-n", "-r", itoa(rate), "-c", itoa(channels), "-b", itoa(bits)}
	if encoding != "" {
		args = append(args, "-e", encoding)
	}
	args = append(args, p, "synth", ftoa(secs))
	args = append(args, synth...)
	Run(t, "sox", args...)
	return p
}

// Music writes a WAV with varied content: a chord with tremolo and noise, so
// loudness, peaks and MP3 bit reservoir use are realistic. Like Tone, it
// passes sox -R: the same noise on every run, so a failure reproduces.
func Music(t testing.TB, dir, name string, rate, channels int, secs float64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	Run(t, "sox", "-R", "-n", "-r", itoa(rate), "-c", itoa(channels), "-b", "16", p,
		"synth", ftoa(secs), "sine", "220-880", "sine", "330", "pinknoise",
		"tremolo", "3", "60", "vol", "0.7")
	return p
}

// Lame encodes wav to an MP3 with extra lame arguments (e.g. "-b", "192").
func Lame(t testing.TB, wav, out string, args ...string) string {
	t.Helper()
	a := append([]string{"--quiet"}, args...)
	a = append(a, wav, out)
	Run(t, "lame", a...)
	return out
}

// PCM16 decodes a file with ffmpeg to interleaved 16-bit samples with the given
// number of channels (0 keeps the file's).
func PCM16(t testing.TB, path string, channels int) []int16 {
	t.Helper()
	args := []string{"-v", "error", "-i", path}
	if channels > 0 {
		args = append(args, "-ac", itoa(channels))
	}
	args = append(args, "-f", "s16le", "-")
	raw := Run(t, "ffmpeg", args...)
	out := make([]int16, len(raw)/2)
	_ = binary.Read(bytes.NewReader(raw), binary.LittleEndian, out)
	return out
}

// Read reads a file or fails.
func Read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(i int) string { return formatInt(int64(i)) }

func formatInt(i int64) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b [24]byte
	p := len(b)
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		p--
		b[p] = '-'
	}
	return string(b[p:])
}

func ftoa(f float64) string {
	return formatInt(int64(f)) + "." + pad3(int64((f-float64(int64(f)))*1000+0.5))
}

func pad3(i int64) string {
	s := formatInt(i)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// RunStderr runs a tool and returns its standard error (ffmpeg prints reports there).
func RunStderr(t testing.TB, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: install it (Debian: apt-get install %s) to run these tests", name, name)
	}
	cmd := exec.Command(path, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, errb.String())
	}
	return errb.String()
}

// RefPeaks computes 16-bit min/max peaks from interleaved 16-bit samples the
// way audiowaveform does: the truncated mean of the channels (mixed) or each
// channel (split), zoom samples per point, the last point partial.
func RefPeaks(pcm []int16, channels, zoom int, split bool) []int16 {
	var out []int16
	lanes := 1
	if split {
		lanes = channels
	}
	cur := make([]int16, 2*lanes)
	reset := func() {
		for i := 0; i < len(cur); i += 2 {
			cur[i], cur[i+1] = 32767, -32768
		}
	}
	reset()
	n := 0
	for i := 0; i+channels <= len(pcm); i += channels {
		for l := 0; l < lanes; l++ {
			var v int16
			if split {
				v = pcm[i+l]
			} else {
				sum := 0
				for c := 0; c < channels; c++ {
					sum += int(pcm[i+c])
				}
				v = int16(sum / channels)
			}
			cur[2*l] = min(cur[2*l], v)
			cur[2*l+1] = max(cur[2*l+1], v)
		}
		n++
		if n == zoom {
			out = append(out, cur...)
			reset()
			n = 0
		}
	}
	if n > 0 {
		out = append(out, cur...)
	}
	return out
}

// Encode converts in to out with ffmpeg and extra output arguments (for
// example "-c:a", "libopus", "-b:a", "96k"), overwriting out.
func Encode(t testing.TB, in, out string, args ...string) string {
	t.Helper()
	a := append([]string{"-v", "error", "-y", "-i", in}, args...)
	Run(t, "ffmpeg", append(a, out)...)
	return out
}

// Video writes a clip made by ffmpeg: a moving test pattern of w×h at 25
// frames a second with a tone, secs long, encoded with extra output
// arguments (for example "-c:v", "libx264", "-c:a", "aac"). With no
// audio codec argument "-an" leaves the sound out.
func Video(t testing.TB, dir, name string, w, h int, secs float64, args ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	a := []string{"-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=" + itoa(w) + "x" + itoa(h) + ":rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", ftoa(secs), "-pix_fmt", "yuv420p"}
	a = append(a, args...)
	Run(t, "ffmpeg", append(a, p)...)
	return p
}
