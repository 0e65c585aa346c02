// Package demo generates the demo project that `make run` opens: a few short
// audio sketches, cover art and notes, made on the spot (nothing large is
// shipped in the repository).
package demo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
)

// Generate writes the demo project into dir (created if needed) and returns
// the files it wrote. Existing files are left as they are.
func Generate(dir string) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "stems"), 0o755); err != nil {
		return nil, err
	}
	var wrote []string
	write := func(rel string, data []byte) error {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		wrote = append(wrote, rel)
		return nil
	}
	songs := []struct {
		name  string
		notes []float64
		secs  float64
	}{
		{"01 Morning Sketch.wav", []float64{261.63, 329.63, 392.00, 523.25}, 12},
		{"02 Night Drive.wav", []float64{220.00, 261.63, 329.63, 293.66}, 16},
		{"stems/bass.wav", []float64{55, 65.41, 73.42, 82.41}, 8},
	}
	for i, s := range songs {
		if err := write(s.name, WAV(Melody(s.notes, s.secs, 44100, i), 44100, 2)); err != nil {
			return wrote, err
		}
	}
	if lame, err := exec.LookPath("lame"); err == nil {
		mp3 := filepath.Join(dir, "03 Teaser.mp3")
		if _, err := os.Stat(mp3); err != nil {
			src := filepath.Join(dir, "02 Night Drive.wav")
			if exec.Command(lame, "--quiet", "-b", "192", src, mp3).Run() == nil {
				wrote = append(wrote, "03 Teaser.mp3")
			}
		}
	}
	var cover bytes.Buffer
	if err := png.Encode(&cover, Art(800, 800, 0)); err != nil {
		return wrote, err
	}
	if err := write("cover.png", cover.Bytes()); err != nil {
		return wrote, err
	}
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, Art(1200, 800, 1), &jpeg.Options{Quality: 85}); err != nil {
		return wrote, err
	}
	if err := write("studio.jpg", photo.Bytes()); err != nil {
		return wrote, err
	}
	if err := write("notes.md", []byte("# EP notes\n\n- Morning Sketch: tighten the intro\n- Night Drive: master to -14 LUFS for streaming\n")); err != nil {
		return wrote, err
	}
	if err := write("lyrics.txt", []byte("Headlights on the empty road\nhumming what the radio won't play\n")); err != nil {
		return wrote, err
	}
	return wrote, nil
}

// Melody renders notes as a soft plucked stereo tone, seconds long.
func Melody(notes []float64, seconds float64, rate, seed int) []int16 {
	n := int(seconds * float64(rate))
	out := make([]int16, 2*n)
	per := n / len(notes)
	for i := 0; i < n; i++ {
		k := min(i/per, len(notes)-1)
		t := float64(i-k*per) / float64(rate)
		env := math.Exp(-3*t) * (1 - math.Exp(-200*t))
		f := notes[k]
		v := env * (0.6*math.Sin(2*math.Pi*f*t) + 0.25*math.Sin(4*math.Pi*f*t) + 0.1*math.Sin(6*math.Pi*f*t+float64(seed)))
		l := v * (0.8 + 0.2*math.Sin(2*math.Pi*0.25*float64(i)/float64(rate)))
		r := v * (0.8 - 0.2*math.Sin(2*math.Pi*0.25*float64(i)/float64(rate)))
		out[2*i] = int16(l * 0.7 * math.MaxInt16)
		out[2*i+1] = int16(r * 0.7 * math.MaxInt16)
	}
	return out
}

// WAV wraps interleaved 16-bit samples in a RIFF/WAVE header.
func WAV(samples []int16, rate, channels int) []byte {
	var b bytes.Buffer
	data := len(samples) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*channels*2))
	binary.Write(&b, binary.LittleEndian, uint16(channels*2))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, samples)
	return b.Bytes()
}

// Art draws a warm abstract gradient with circles, as stand-in cover art.
func Art(w, h, variant int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 180 + 60*fx
			g := 72 + 80*fy*float64(1+variant)/2
			bl := 40 + 120*(1-fx)*fy
			cx, cy := fx-0.6, fy-0.4
			if d := math.Hypot(cx, cy); d < 0.25 {
				r, g, bl = 250-100*d, 220-200*d, 160
			}
			img.Set(x, y, color.RGBA{uint8(math.Min(r, 255)), uint8(math.Min(g, 255)), uint8(math.Min(bl, 255)), 255})
		}
	}
	return img
}

// Describe is a one-line summary for the CLI.
func Describe(dir string, wrote []string) string {
	if len(wrote) == 0 {
		return fmt.Sprintf("Demo project at %s (already there)", dir)
	}
	return fmt.Sprintf("Demo project at %s: wrote %d files", dir, len(wrote))
}
