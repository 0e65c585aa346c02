package tray

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
)

// The icons are drawn here rather than shipped as files: a round badge in
// the status's colour with a white mark (a dot when idle, a ring when
// working, two bars when paused, "!" when something needs the creator), so
// the state reads at 16 px in any panel, light or dark.

var statusColour = map[Status]color.NRGBA{
	Idle:      {R: 0x3d, G: 0x5a, B: 0x80, A: 0xff}, // slate blue
	Working:   {R: 0x1f, G: 0x7a, B: 0xe0, A: 0xff}, // bright blue
	Paused:    {R: 0x80, G: 0x80, B: 0x80, A: 0xff}, // grey
	Attention: {R: 0xe0, G: 0x6c, B: 0x1f, A: 0xff}, // orange
}

const iconSize = 32

var (
	iconsOnce sync.Once
	icons     map[Status][]byte
)

// Icon is the PNG shown for a status.
func Icon(s Status) []byte {
	iconsOnce.Do(func() {
		icons = map[Status][]byte{}
		for st := range statusColour {
			icons[st] = drawIcon(st)
		}
	})
	if b, ok := icons[s]; ok {
		return b
	}
	return icons[Idle]
}

func drawIcon(s Status) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, iconSize, iconSize))
	bg := statusColour[s]
	white := color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	c := float64(iconSize) / 2
	for y := 0; y < iconSize; y++ {
		for x := 0; x < iconSize; x++ {
			px, py := float64(x)+0.5-c, float64(y)+0.5-c
			r := math.Hypot(px, py)
			// The badge, anti-aliased at its edge.
			a := clamp(c - 0.5 - r + 0.5)
			if a <= 0 {
				continue
			}
			col := bg
			if mark(s, px, py, r) {
				col = white
			}
			col.A = uint8(a * 255)
			img.SetNRGBA(x, y, col)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil // an in-memory NRGBA image always encodes; no icon beats a crash
	}
	return buf.Bytes()
}

// mark says whether a pixel at (px, py) from the centre, r away, is white.
func mark(s Status, px, py, r float64) bool {
	switch s {
	case Idle:
		return r < 5
	case Working:
		return r > 6 && r < 10
	case Paused:
		return py > -8 && py < 8 && ((px > -6 && px < -2) || (px > 2 && px < 6))
	case Attention:
		return (math.Abs(px) < 2 && py > -10 && py < 3) || (math.Abs(px) < 2 && py > 5.5 && py < 9)
	}
	return false
}

func clamp(v float64) float64 {
	return math.Max(0, math.Min(1, v))
}
