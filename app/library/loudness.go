package library

import (
	"math"

	"atelier/app/preview/audio"
)

// Report compares a loudness measurement with the usual delivery targets.
func Report(l audio.Loudness) *LoudnessReport {
	rep := &LoudnessReport{Loudness: l}
	for _, t := range []struct {
		name string
		lufs float64
		note string
	}{
		{"Streaming", -14, "Spotify, YouTube, Tidal and Amazon normalise to about −14 LUFS; Apple Music to −16"},
		{"Podcast", -16, "Apple Podcasts and most podcast hosts recommend −16 LUFS (−19 for mono)"},
		{"Broadcast (EBU R128)", -23, "European TV and radio deliver at −23 LUFS"},
	} {
		lt := LoudnessTarget{Name: t.name, LUFS: t.lufs, Note: t.note, Verdict: "ok"}
		if l.NotMeasurable != "" {
			lt.Verdict = "not measurable"
			rep.Targets = append(rep.Targets, lt)
			continue
		}
		if l.Silent {
			lt.Verdict = "silent"
			rep.Targets = append(rep.Targets, lt)
			continue
		}
		lt.GainDB = math.Round((t.lufs-l.Integrated)*10) / 10
		lt.PeakDB = math.Round((l.SamplePeak+lt.GainDB)*10) / 10
		switch {
		case lt.GainDB < -1:
			lt.Verdict = "loud"
		case lt.GainDB > 1:
			lt.Verdict = "quiet"
		}
		rep.Targets = append(rep.Targets, lt)
	}
	return rep
}
