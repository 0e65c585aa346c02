package privacy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// FieldKind says how an event field's value is reduced to one of a few labels.
// Every field ends up as one label from a fixed list: events never carry
// names, paths, free text or exact sizes.
type FieldKind string

const (
	KindEnum     FieldKind = "enum"     // one of Values; unknown strings become "other" when listed
	KindBool     FieldKind = "bool"     // false / true
	KindSize     FieldKind = "size"     // a byte count, bucketed
	KindCount    FieldKind = "count"    // a count of things, bucketed
	KindDuration FieldKind = "duration" // milliseconds (or a time.Duration), bucketed
)

var (
	boolLabels     = []string{"false", "true"}
	sizeLabels     = []string{"<100KB", "100KB-1MB", "1-10MB", "10-100MB", "100MB-1GB", "1-10GB", ">=10GB"}
	sizeBounds     = []float64{100e3, 1e6, 10e6, 100e6, 1e9, 10e9}
	countLabels    = []string{"0", "1", "2-9", "10-99", "100-999", "1000-9999", ">=10000"}
	countBounds    = []float64{1, 2, 10, 100, 1000, 10000}
	durationLabels = []string{"<100ms", "100ms-1s", "1-10s", "10s-1min", "1-10min", ">=10min"}
	durationBounds = []float64{100, 1000, 10000, 60000, 600000}
)

// FieldDef is one allowed field of an event.
type FieldDef struct {
	Name   string    `json:"name"`
	Kind   FieldKind `json:"kind"`
	Values []string  `json:"values"` // the labels stored (for enums: the allowed values)
}

// EventDef is the allow-listed schema of one event.
type EventDef struct {
	Name        string     `json:"name"`
	Purpose     string     `json:"purpose"`
	Description string     `json:"description"`
	Fields      []FieldDef `json:"fields"`

	id     uint8
	pidx   uint8
	fieldx map[string]int
}

func enum(name string, v ...string) FieldDef { return FieldDef{Name: name, Kind: KindEnum, Values: v} }
func boolean(name string) FieldDef           { return FieldDef{Name: name, Kind: KindBool} }
func size(name string) FieldDef              { return FieldDef{Name: name, Kind: KindSize} }
func count(name string) FieldDef             { return FieldDef{Name: name, Kind: KindCount} }
func duration(name string) FieldDef          { return FieldDef{Name: name, Kind: KindDuration} }

var result3 = []string{"ok", "error", "cancelled"}

// eventDefs is the catalog. Appending is fine; the position is the stored id,
// so never reorder or remove an entry (retire it by leaving it unused).
var eventDefs = []*EventDef{
	{Name: "app.started", Description: "Atelier started", Fields: []FieldDef{
		enum("os", "linux", "darwin", "windows", "other"), enum("ui", "desktop", "browser", "cli", "daemon", "other")}},
	{Name: "view.opened", Description: "a view of the app was opened", Fields: []FieldDef{
		enum("view", "projects", "library", "modules", "privacy", "sync", "settings", "other")}},
	{Name: "project.added", Description: "a project folder was added", Fields: []FieldDef{count("files"), size("bytes")}},
	{Name: "project.removed", Description: "a project folder was removed"},
	{Name: "project.scanned", Description: "a project was scanned", Fields: []FieldDef{
		count("files"), duration("ms"), enum("result", result3...)}},
	{Name: "preview.rendered", Description: "a preview was rendered", Fields: []FieldDef{
		enum("kind", "audio", "image", "video", "other"),
		enum("format", "mp3", "wav", "flac", "ogg", "aac", "png", "jpeg", "gif", "webp", "other"),
		size("size"), duration("ms"), enum("result", result3...)}},
	{Name: "module.packed", Description: "a module was packed", Fields: []FieldDef{size("size"), count("files")}},
	{Name: "module.signed", Description: "a module was signed"},
	{Name: "module.verified", Description: "a module was verified", Fields: []FieldDef{
		enum("result", "ok", "untrusted", "invalid", "error")}},
	{Name: "module.installed", Description: "a module was installed", Fields: []FieldDef{
		enum("source", "file", "folder", "registry", "other"), boolean("signed"), size("size")}},
	{Name: "module.removed", Description: "a module was removed"},
	{Name: "sync.run", Description: "a sync ran", Fields: []FieldDef{
		enum("remote", "s3", "gs", "azblob", "file", "other"), enum("direction", "push", "pull"),
		count("files"), size("bytes"), duration("ms"), enum("result", "ok", "error", "cancelled", "conflict"), boolean("ok")}},
	{Name: "sync.conflict", Description: "a sync found a conflict"},
	{Name: "audience.imported", Description: "an audience statistics file was imported", Fields: []FieldDef{
		count("rows"), enum("platform", "spotify", "apple", "youtube", "bandcamp", "soundcloud", "distrokid", "generic", "other")}},
	{Name: "data.exported", Description: "all data was exported"},
	{Name: "search.used", Description: "a search was run", Fields: []FieldDef{count("results")}},
	// Append only: an event's id is its index.
	{Name: "module.run", Description: "a module ran in the sandbox", Fields: []FieldDef{enum("outcome", "ok", "failed", "time-limit", "memory-limit", "output-limit", "cancelled", "refused"), duration("ms")}},
}

var eventByName = map[string]*EventDef{}

func init() {
	if len(eventDefs) > 250 {
		panic("privacy: too many events for a one-byte id")
	}
	for i, d := range eventDefs {
		d.id = uint8(i)
		if d.Purpose == "" {
			d.Purpose = AnalyticsLocal
		}
		d.pidx = uint8(purposeIndex(d.Purpose))
		d.fieldx = map[string]int{}
		if len(d.Fields) > maxFields {
			panic("privacy: event " + d.Name + " has too many fields")
		}
		for j := range d.Fields {
			f := &d.Fields[j]
			switch f.Kind {
			case KindBool:
				f.Values = boolLabels
			case KindSize:
				f.Values = sizeLabels
			case KindCount:
				f.Values = countLabels
			case KindDuration:
				f.Values = durationLabels
			}
			d.fieldx[f.Name] = j
		}
		eventByName[d.Name] = d
	}
}

// Events lists the allow-listed event schemas.
func Events() []EventDef {
	out := make([]EventDef, len(eventDefs))
	for i, d := range eventDefs {
		out[i] = *d
	}
	return out
}

const (
	maxFields = 8
	unset     = 0xFF
)

// ErrNotGranted means the event's purpose is not granted: it was dropped and counted.
var ErrNotGranted = errors.New("purpose not granted: event dropped")

// ErrSchema means an event or a field is not in the allow-list.
var ErrSchema = errors.New("event does not match its allow-listed schema")

// encodeFields reduces fields to one label index per schema field.
func (d *EventDef) encodeFields(fields map[string]any, out *[maxFields]uint8) error {
	for i := range out {
		out[i] = unset
	}
	for k, v := range fields {
		j, ok := d.fieldx[k]
		if !ok {
			return fmt.Errorf("%w: %s has no field %q (allowed: %s)", ErrSchema, d.Name, k, d.fieldNames())
		}
		f := &d.Fields[j]
		x, err := f.label(v)
		if err != nil {
			return fmt.Errorf("%w: %s.%s: %v", ErrSchema, d.Name, k, err)
		}
		out[j] = x
	}
	return nil
}

func (d *EventDef) fieldNames() string {
	if len(d.Fields) == 0 {
		return "none"
	}
	n := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		n[i] = f.Name
	}
	return strings.Join(n, ", ")
}

func (f *FieldDef) label(v any) (uint8, error) {
	switch f.Kind {
	case KindEnum:
		s, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("want one of %s, got a %T", strings.Join(f.Values, ", "), v)
		}
		for i, x := range f.Values {
			if x == s {
				return uint8(i), nil
			}
		}
		for i, x := range f.Values {
			if x == "other" {
				return uint8(i), nil
			}
		}
		return 0, fmt.Errorf("value not allowed: want one of %s", strings.Join(f.Values, ", "))
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return 0, fmt.Errorf("want true or false, got a %T", v)
		}
		if b {
			return 1, nil
		}
		return 0, nil
	}
	var n float64
	switch x := v.(type) {
	case int:
		n = float64(x)
	case int32:
		n = float64(x)
	case int64:
		n = float64(x)
	case uint:
		n = float64(x)
	case uint32:
		n = float64(x)
	case uint64:
		n = float64(x)
	case float32:
		n = float64(x)
	case float64:
		n = x
	case json.Number:
		var err error
		if n, err = x.Float64(); err != nil {
			return 0, fmt.Errorf("want a number, got %q", string(x))
		}
	case time.Duration:
		if f.Kind != KindDuration {
			return 0, fmt.Errorf("want a number, got a duration")
		}
		n = float64(x.Milliseconds())
	default:
		return 0, fmt.Errorf("want a number, got a %T (text is never stored)", v)
	}
	if math.IsNaN(n) || n < 0 {
		return 0, fmt.Errorf("want a non-negative number")
	}
	var bounds []float64
	switch f.Kind {
	case KindSize:
		bounds = sizeBounds
	case KindCount:
		bounds = countBounds
	default:
		bounds = durationBounds
	}
	return uint8(sort.SearchFloat64s(bounds, math.Nextafter(n, math.Inf(1)))), nil
}
