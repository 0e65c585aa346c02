// Package query is the Library's search language and the in-memory columnar
// view of the index that answers it.
//
// A query is a list of terms, all of which must match:
//
//		kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126 modified<7d "night drive"
//
//	  - free words and "quoted phrases" match the path (name and folders), the
//	    metadata read from the file (title, artist, album, comment, camera...),
//	    its tags and its note, ignoring case;
//	  - field:value, field=value, field!=value, and for numbers and dates
//	    field<v, field<=v, field>v, field>=v, field:a..b (either end may be left
//	    open: bpm:120.., duration:..30s);
//	  - a comma lists alternatives: kind:audio,image tag:drums,perc;
//	  - a leading minus negates a term: -tag:rejected -draft.
//
// Numbers take units: durations 90, 90s, 3m, 1m30s, 1:30, 1h; sizes 500, 64k,
// 10MB, 1.5GB (powers of 1024); loudness in LUFS (negative: lufs>-14).
// Dates are either ages (modified<7d: changed within the last 7 days; units
// h, d, w, mo, y) or calendar dates (modified<2024-05-01, modified:2024-05,
// taken:2023, modified:today, modified:yesterday).
package query

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Op is a comparison.
type Op uint8

const (
	OpMatch Op = iota // field:value (equality, substring or range, by field)
	OpEq              // =
	OpNe              // !=
	OpLt              // <
	OpLe              // <=
	OpGt              // >
	OpGe              // >=
)

var opText = [...]string{OpMatch: ":", OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

func (o Op) String() string { return opText[o] }

// Type is what values a field takes.
type Type uint8

const (
	TText Type = iota // free text, substring match
	TWord             // a word compared whole (kind, tag, label, ext)
	TNum              // a plain number
	TDur              // a duration in seconds
	TSize             // a size in bytes
	TDate             // a point in time
	THas              // has:thing
)

// Field names a column a term filters on.
type Field uint8

const (
	FText Field = iota // free words
	FName
	FPath
	FExt
	FKind
	FTag
	FLabel
	FProject
	FTitle
	FArtist
	FAlbum
	FKey
	FCamera
	FRating
	FBPM
	FLUFS
	FDuration
	FSize
	FWidth
	FHeight
	FModified
	FTaken
	FHas
	numFields
)

type fieldInfo struct {
	name  string
	typ   Type
	alias []string
}

var fields = [numFields]fieldInfo{
	FText:     {"", TText, nil},
	FName:     {"name", TText, nil},
	FPath:     {"path", TText, []string{"in", "folder"}},
	FExt:      {"ext", TWord, []string{"type"}},
	FKind:     {"kind", TWord, []string{"is"}},
	FTag:      {"tag", TWord, []string{"tags", "keyword"}},
	FLabel:    {"label", TWord, []string{"color", "colour"}},
	FProject:  {"project", TWord, nil},
	FTitle:    {"title", TText, nil},
	FArtist:   {"artist", TText, nil},
	FAlbum:    {"album", TText, nil},
	FKey:      {"key", TWord, nil},
	FCamera:   {"camera", TText, []string{"lens"}},
	FRating:   {"rating", TNum, []string{"stars"}},
	FBPM:      {"bpm", TNum, []string{"tempo"}},
	FLUFS:     {"lufs", TNum, []string{"loudness"}},
	FDuration: {"duration", TDur, []string{"length", "dur"}},
	FSize:     {"size", TSize, nil},
	FWidth:    {"width", TNum, nil},
	FHeight:   {"height", TNum, nil},
	FModified: {"modified", TDate, []string{"date", "mtime"}},
	FTaken:    {"taken", TDate, nil},
	FHas:      {"has", THas, nil},
}

var fieldByName = map[string]Field{}

// HasValues are what has: accepts.
var HasValues = []string{"tags", "label", "note", "rating", "cover", "gps", "metadata", "loudness", "duration", "bpm"}

func init() {
	for f := Field(1); f < numFields; f++ {
		fieldByName[fields[f].name] = f
		for _, a := range fields[f].alias {
			fieldByName[a] = f
		}
	}
}

// Name is the field's name as typed in a query ("" for free words).
func (f Field) Name() string { return fields[f].name }

// Type is what values the field takes.
func (f Field) Type() Type { return fields[f].typ }

// FieldNames lists the fields a query may name, sorted.
func FieldNames() []string {
	var out []string
	for f := Field(1); f < numFields; f++ {
		out = append(out, fields[f].name)
	}
	slices.Sort(out)
	return out
}

// Value is one operand: a word (lower-cased), or a number range [Lo, Hi]
// (NaN = open end). Dates are Unix seconds. Rel marks a date given as an age.
type Value struct {
	Text   string
	Lo, Hi float64
	Rel    bool
}

// Term is one condition. Values are alternatives (any may match).
type Term struct {
	Not    bool
	Field  Field
	Op     Op
	Values []Value
	Raw    string // the term as typed
}

// Query is a parsed query: every term must match. The zero Query matches everything.
type Query struct {
	Terms []Term
	Text  string // the query as typed
}

// Error is a parse error: Pos is the byte offset of the offending term.
type Error struct {
	Pos  int
	Term string
	Msg  string
}

func (e *Error) Error() string {
	if e.Term == "" {
		return e.Msg
	}
	return fmt.Sprintf("in %q: %s", e.Term, e.Msg)
}

// MaxLen bounds a query's length, MaxTerms its terms.
const (
	MaxLen   = 4096
	MaxTerms = 64
)

// Parse reads a query. now anchors ages and calendar words (today); it is in
// the user's time zone.
func Parse(s string, now time.Time) (Query, error) {
	q := Query{Text: s}
	if len(s) > MaxLen {
		return q, &Error{Msg: fmt.Sprintf("the query is %d characters long; at most %d are allowed", len(s), MaxLen)}
	}
	if !utf8.ValidString(s) {
		return q, &Error{Msg: "the query is not valid UTF-8 text"}
	}
	toks, err := tokenize(s)
	if err != nil {
		return q, err
	}
	if len(toks) > MaxTerms {
		return q, &Error{Msg: fmt.Sprintf("the query has %d terms; at most %d are allowed", len(toks), MaxTerms)}
	}
	for _, tk := range toks {
		t, err := parseTerm(tk, now)
		if err != nil {
			return q, err
		}
		q.Terms = append(q.Terms, t)
	}
	return q, nil
}

// MustParse is Parse for queries known to be valid (tests, built-in collections).
func MustParse(s string) Query {
	q, err := Parse(s, time.Now())
	if err != nil {
		panic(err)
	}
	return q
}

type token struct {
	pos    int
	raw    string
	not    bool
	field  string // "" for free text
	op     Op
	value  string
	quoted bool
}

// tokenize splits s at spaces outside quotes; a token is [-][field op]value.
func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += w
			continue
		}
		start := i
		tk := token{pos: start}
		if s[i] == '-' && i+1 < len(s) && !isSpaceByte(s[i+1]) {
			tk.not = true
			i++
		}
		// field name: letters, followed by an operator
		j := i
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
			j++
		}
		if j > i && j < len(s) {
			if op, n := opAt(s[j:]); n > 0 {
				tk.field, tk.op = strings.ToLower(s[i:j]), op
				i = j + n
			}
		}
		// value: a quoted string or a run up to the next space
		if i < len(s) && s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, &Error{Pos: start, Term: s[start:], Msg: "a quote is not closed: add the closing \""}
			}
			tk.value, tk.quoted = s[i+1:i+1+end], true
			i += end + 2
		} else {
			j := i
			for j < len(s) {
				r, w := utf8.DecodeRuneInString(s[j:])
				if unicode.IsSpace(r) {
					break
				}
				j += w
			}
			tk.value = s[i:j]
			i = j
		}
		tk.raw = s[start:i]
		if tk.field != "" && tk.value == "" {
			return nil, &Error{Pos: start, Term: tk.raw, Msg: fmt.Sprintf("%s needs a value, e.g. %s", tk.field, example(tk.field))}
		}
		if tk.field == "" && tk.value == "" {
			continue // "" or a lone quote pair
		}
		out = append(out, tk)
	}
	return out, nil
}

func isSpaceByte(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func opAt(s string) (Op, int) {
	switch {
	case strings.HasPrefix(s, "<="):
		return OpLe, 2
	case strings.HasPrefix(s, ">="):
		return OpGe, 2
	case strings.HasPrefix(s, "!="):
		return OpNe, 2
	case strings.HasPrefix(s, ":"):
		return OpMatch, 1
	case strings.HasPrefix(s, "="):
		return OpEq, 1
	case strings.HasPrefix(s, "<"):
		return OpLt, 1
	case strings.HasPrefix(s, ">"):
		return OpGt, 1
	}
	return 0, 0
}

func example(field string) string {
	f, ok := fieldByName[field]
	if !ok {
		return "tag:vocals"
	}
	switch f {
	case FKind:
		return "kind:audio (audio, image, video, document, module, other)"
	case FRating:
		return "rating>=4 (0 to 5 stars)"
	case FLUFS:
		return "lufs>-14 (integrated loudness in LUFS)"
	case FDuration:
		return "duration<3m or duration:1m..2m30s"
	case FBPM:
		return "bpm:118..126"
	case FSize:
		return "size>10MB"
	case FModified, FTaken:
		return f.Name() + "<7d (within 7 days) or " + f.Name() + ":2024-05"
	case FHas:
		return "has:" + strings.Join(HasValues, ", has:")
	case FLabel:
		return "label:red (red, yellow, green, blue, purple)"
	}
	return f.Name() + ":" + "word"
}

func parseTerm(tk token, now time.Time) (Term, error) {
	t := Term{Not: tk.not, Op: tk.op, Raw: tk.raw}
	bad := func(format string, a ...any) error {
		return &Error{Pos: tk.pos, Term: tk.raw, Msg: fmt.Sprintf(format, a...)}
	}
	if tk.field == "" {
		t.Field = FText
		t.Values = []Value{{Text: strings.ToLower(tk.value)}}
		return t, nil
	}
	f, ok := fieldByName[tk.field]
	if !ok {
		return t, bad("there is no field %q; fields are %s (or put the words in quotes to search for them)", tk.field, strings.Join(FieldNames(), ", "))
	}
	t.Field = f
	typ := f.Type()
	if (typ == TText || typ == TWord || typ == THas) && t.Op != OpMatch && t.Op != OpEq && t.Op != OpNe {
		return t, bad("%s compares words: use %s:value or %s!=value", f.Name(), f.Name(), f.Name())
	}
	if t.Op == OpNe {
		t.Op, t.Not = OpMatch, !t.Not
	}
	parts := []string{tk.value}
	if !tk.quoted && strings.Contains(tk.value, ",") {
		parts = strings.Split(tk.value, ",")
	}
	for _, p := range parts {
		if p == "" {
			continue
		}
		v, err := parseValue(f, t.Op, p, now)
		if err != nil {
			return t, bad("%v", err)
		}
		t.Values = append(t.Values, v)
	}
	if len(t.Values) == 0 {
		return t, bad("%s needs a value, e.g. %s", f.Name(), example(f.Name()))
	}
	return t, nil
}

var errRange = errors.New("a range is written low..high")

func parseValue(f Field, op Op, s string, now time.Time) (Value, error) {
	nan := math.NaN()
	switch f.Type() {
	case TText, TWord:
		v := strings.ToLower(s)
		if f == FKind {
			switch v {
			case "audio", "image", "video", "document", "module", "other":
			case "sound", "sample", "music":
				v = "audio"
			case "photo", "picture":
				v = "image"
			case "doc", "text":
				v = "document"
			default:
				return Value{}, fmt.Errorf("kind is one of audio, image, video, document, module, other (not %q)", s)
			}
		}
		if f == FExt {
			v = strings.TrimPrefix(v, ".")
		}
		return Value{Text: v}, nil
	case THas:
		v := strings.ToLower(s)
		if !slices.Contains(HasValues, v) {
			return Value{}, fmt.Errorf("has: takes one of %s", strings.Join(HasValues, ", "))
		}
		return Value{Text: v}, nil
	}
	// numbers and dates
	if lo, hi, ok := strings.Cut(s, ".."); ok {
		if op != OpMatch && op != OpEq {
			return Value{}, fmt.Errorf("a range goes with ':' (%s:%s)", f.Name(), s)
		}
		if lo == "" && hi == "" {
			return Value{}, errRange
		}
		v := Value{Lo: nan, Hi: nan}
		var loRel, hiRel bool
		if lo != "" {
			a, _, rel, err := scalar(f, lo, now)
			if err != nil {
				return Value{}, err
			}
			v.Lo, loRel = a, rel
		}
		if hi != "" {
			a, b, rel, err := scalar(f, hi, now)
			if err != nil {
				return Value{}, err
			}
			v.Hi, hiRel = b, rel
			if rel {
				v.Hi = a
			}
		}
		if lo != "" && hi != "" && loRel != hiRel {
			return Value{}, errors.New("write both ends of a date range as ages (1d..7d) or as dates (2024-01..2024-03)")
		}
		if loRel || hiRel {
			// ages count backwards: 1d..7d is from 7 days ago to 1 day ago
			v.Lo, v.Hi, v.Rel = v.Hi, v.Lo, true
		}
		if !math.IsNaN(v.Lo) && !math.IsNaN(v.Hi) && v.Lo > v.Hi {
			v.Lo, v.Hi = v.Hi, v.Lo
		}
		return v, nil
	}
	a, b, rel, err := scalar(f, s, now)
	if err != nil {
		return Value{}, err
	}
	v := Value{Rel: rel}
	switch {
	case rel:
		// an age: modified<7d is "newer than 7 days ago", i.e. time > now-7d
		switch op {
		case OpLt, OpLe:
			v.Lo, v.Hi = a, nan
		case OpGt, OpGe:
			v.Lo, v.Hi = nan, a
		default: // modified:3d is modified<3d
			v.Lo, v.Hi = a, nan
		}
		return v, nil
	case op == OpLt:
		v.Lo, v.Hi = nan, math.Nextafter(a, math.Inf(-1))
	case op == OpLe:
		v.Lo, v.Hi = nan, b
	case op == OpGt:
		v.Lo, v.Hi = math.Nextafter(b, math.Inf(1)), nan
	case op == OpGe:
		v.Lo, v.Hi = a, nan
	case f != FRating && (f.Type() == TNum || f.Type() == TDur):
		// bpm:120, lufs:-14, duration:90s: the value as it would be rounded
		v.Lo, v.Hi = a-0.5, b+0.5
	default:
		v.Lo, v.Hi = a, b
	}
	return v, nil
}

// scalar reads one number or date of field f as the interval [lo, hi] it
// stands for (a calendar month is its first to last second; a number its
// exact value, or ±0.5 for rounded fields). rel marks ages.
func scalar(f Field, s string, now time.Time) (lo, hi float64, rel bool, err error) {
	switch f.Type() {
	case TNum:
		x, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToLower(s), "lufs"), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, 0, false, fmt.Errorf("%s takes a number, e.g. %s", f.Name(), example(f.Name()))
		}
		if f == FRating && (x < -1 || x > 5) {
			return 0, 0, false, errors.New("ratings go from 0 to 5 stars (-1: rejected)")
		}
		return x, x, false, nil
	case TDur:
		x, err := parseDuration(s)
		if err != nil {
			return 0, 0, false, err
		}
		return x, x, false, nil
	case TSize:
		x, err := parseSize(s)
		if err != nil {
			return 0, 0, false, err
		}
		return x, x, false, nil
	case TDate:
		return parseDate(s, now)
	}
	return 0, 0, false, fmt.Errorf("%s takes no number", f.Name())
}

// parseDuration reads 90, 90s, 1.5m, 3m, 1m30s, 1h2m, 1:30, 1:02:03 as seconds.
func parseDuration(s string) (float64, error) {
	bad := fmt.Errorf("%q is not a duration: write 90s, 3m, 1m30s or 1:30", s)
	ls := strings.ToLower(s)
	if strings.Contains(ls, ":") {
		parts := strings.Split(ls, ":")
		if len(parts) > 3 {
			return 0, bad
		}
		var sec float64
		for _, p := range parts {
			x, err := strconv.ParseFloat(p, 64)
			if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
				return 0, bad
			}
			sec = sec*60 + x
		}
		return sec, nil
	}
	if x, err := strconv.ParseFloat(ls, 64); err == nil {
		if math.IsInf(x, 0) || math.IsNaN(x) || x < 0 {
			return 0, bad
		}
		return x, nil
	}
	var sec float64
	rest := ls
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, bad
		}
		x, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, bad
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		switch unit {
		case "ms":
			sec += x / 1000
		case "s", "sec", "secs":
			sec += x
		case "m", "min", "mins":
			sec += x * 60
		case "h", "hr", "hrs":
			sec += x * 3600
		default:
			return 0, bad
		}
	}
	if math.IsInf(sec, 0) || math.IsNaN(sec) {
		return 0, bad
	}
	return sec, nil
}

// parseSize reads 500, 64k, 64kb, 10MB, 1.5GB (powers of 1024) as bytes.
func parseSize(s string) (float64, error) {
	ls := strings.ToLower(s)
	i := 0
	for i < len(ls) && (ls[i] >= '0' && ls[i] <= '9' || ls[i] == '.') {
		i++
	}
	x, err := strconv.ParseFloat(ls[:i], 64)
	if err != nil || i == 0 {
		return 0, fmt.Errorf("%q is not a size: write 500k, 10MB or 1.5GB", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
		"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}[ls[i:]]
	if mult == 0 {
		return 0, fmt.Errorf("%q is not a size: the unit is one of B, KB, MB, GB, TB", s)
	}
	return math.Round(x * mult), nil
}

// parseDate reads an age (7d) or a calendar date (2024, 2024-05, 2024-05-01,
// today, yesterday) as the span of Unix seconds it covers. For an age, lo is
// the moment that long ago and hi the end of that day-sized step.
func parseDate(s string, now time.Time) (lo, hi float64, rel bool, err error) {
	ls := strings.ToLower(s)
	day := func(t time.Time) (float64, float64) {
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		return float64(d.Unix()), float64(d.AddDate(0, 0, 1).Unix() - 1)
	}
	switch ls {
	case "today":
		a, b := day(now)
		return a, b, false, nil
	case "yesterday":
		a, b := day(now.AddDate(0, 0, -1))
		return a, b, false, nil
	}
	for _, layout := range []struct {
		l    string
		step func(time.Time) time.Time
	}{
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	} {
		if len(ls) != len(layout.l) {
			continue
		}
		if t, err := time.ParseInLocation(layout.l, ls, now.Location()); err == nil {
			return float64(t.Unix()), float64(layout.step(t).Unix() - 1), false, nil
		}
	}
	// an age: a number and a unit
	i := 0
	for i < len(ls) && (ls[i] >= '0' && ls[i] <= '9' || ls[i] == '.') {
		i++
	}
	x, perr := strconv.ParseFloat(ls[:i], 64)
	unit := map[string]float64{"h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400, "y": 365 * 86400}[ls[i:]]
	if i == 0 || perr != nil || unit == 0 || x > 1e6 {
		return 0, 0, false, fmt.Errorf("%q is not a date or an age: write 7d, 2w, 3mo, 1y, 2024-05-01, 2024-05 or today", s)
	}
	at := float64(now.Unix()) - x*unit
	return at, at + unit, true, nil
}

// String writes the query back in a canonical form (fields by their main name).
func (q Query) String() string {
	var b strings.Builder
	for i, t := range q.Terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Raw)
	}
	return b.String()
}
