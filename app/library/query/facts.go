package query

import "atelier/app/library/meta"

// FactsOf gathers what the Library knows of a file's content: the metadata
// read from it and what its preview measured (duration in seconds, loudness
// in LUFS, nil when unknown, and pixel size).
func FactsOf(m meta.Meta, duration float64, lufs *float64, width, height int) Facts {
	f := Facts{Duration: duration, LUFS: lufs, BPM: m.BPM, Width: width, Height: height,
		Title: m.Title, Artist: m.Artist, Album: m.Album, Key: m.Key, Comment: m.Comment,
		Camera: m.Camera, Lens: m.Lens, Taken: m.Taken, GPS: m.GPS, Cover: m.HasCover}
	if f.Comment == "" {
		f.Comment = m.Description
	}
	if f.Title == "" && m.IXML["SCENE"] != "" { // a field recording: scene and take
		f.Title = "Scene " + m.IXML["SCENE"]
		if t := m.IXML["TAKE"]; t != "" {
			f.Title += " take " + t
		}
	}
	return f
}
