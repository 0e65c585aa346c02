package query

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"sync"
	"time"

	"atelier/app/index"
)

// Facts are what previews and the file's own metadata tell about its
// content. Zero values mean unknown.
type Facts struct {
	Duration float64  // seconds
	LUFS     *float64 // integrated loudness
	BPM      float64
	Width    int
	Height   int
	Title    string
	Artist   string
	Album    string
	Key      string // musical key
	Comment  string
	Camera   string
	Lens     string
	Taken    time.Time
	GPS      bool
	Cover    bool // an embedded picture
}

// Marks are what the creator said about a file.
type Marks struct {
	Rating int    // 0 unrated, 1..5 stars, -1 rejected
	Label  string // colour label: red, yellow, green, blue, purple (or any word)
	Tags   []string
	Note   string
}

// Row is one file as a query answers it.
type Row struct {
	Project  string    `json:"project"`
	Path     string    `json:"path"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	Duration float64   `json:"duration,omitempty"`
	LUFS     *float64  `json:"lufs,omitempty"`
	BPM      float64   `json:"bpm,omitempty"`
	Width    int       `json:"width,omitempty"`
	Height   int       `json:"height,omitempty"`
	Title    string    `json:"title,omitempty"`
	Artist   string    `json:"artist,omitempty"`
	Album    string    `json:"album,omitempty"`
	Key      string    `json:"key,omitempty"`
	Rating   int       `json:"rating,omitempty"`
	Label    string    `json:"label,omitempty"`
	Tags     []string  `json:"tags,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Page is one window of a query's answer.
type Page struct {
	Total  int   `json:"total"` // matches in all
	Offset int   `json:"offset"`
	Rows   []Row `json:"rows"`
}

// Options scope and order a query.
type Options struct {
	Project string // "" = every project
	Sort    Sort
	Desc    bool
	Offset  int
	Limit   int // ≤ 0: DefaultLimit
}

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 200
	MaxLimit     = 5000
)

// extra holds the rarer, wider columns of a row: nil for a file without
// metadata or marks, so a plain file costs one pointer.
type extra struct {
	info *Facts // the facts beyond the numeric columns (nil: none)
	tags []uint32
	note string
	text string // lower-cased metadata, tags and note, for free words
}

func (x *extra) empty() bool {
	return x.info == nil && len(x.tags) == 0 && x.note == ""
}

var noFacts Facts

// f returns x's facts (never nil).
func (x *extra) f() *Facts {
	if x.info == nil {
		return &noFacts
	}
	return x.info
}

// View is an in-memory columnar copy of the index, with the facts and marks
// of each file, that answers queries. It is safe for concurrent use.
type View struct {
	mu sync.RWMutex

	// Now is the clock for ages in queries (tests set it).
	Now func() time.Time

	// columns, by row
	proj   []uint16
	path   []string
	lower  []string // lower-cased path (the same string as path when that is lower case)
	nameAt []uint16 // where the name starts in path
	kind   []uint8
	size   []int64
	mtime  []int64 // Unix nanoseconds
	hash   []uint64
	dur    []float32 // NaN: unknown
	lufs   []float32
	bpm    []float32
	rating []int8
	label  []uint8 // 0: none
	ext    []*extra

	free     []uint32
	live     int
	byPath   []map[string]uint32 // by project
	projects []string
	projID   map[string]uint16
	projName map[string]string // project id → display name
	labels   []string          // label id → word ("" at 0)
	labelID  map[string]uint8
	tagNames []string // tag id → as first written
	tagID    map[string]uint32

	orders [numSorts]order
	text   textIndex
}

// rowText is what free words search in row r.
func (v *View) rowText(r uint32) string {
	if x := v.ext[r]; x != nil && x.text != "" {
		return v.lower[r] + "\x00" + x.text
	}
	return v.lower[r]
}

func (v *View) retext(r uint32) { v.text.set(r, v.rowText(r), v.rowText) }

var kinds = []index.Kind{"", index.KindAudio, index.KindImage, index.KindVideo, index.KindDocument, index.KindModule, index.KindOther}

func kindCode(k index.Kind) uint8 {
	for i, x := range kinds {
		if x == k {
			return uint8(i)
		}
	}
	return uint8(len(kinds) - 1)
}

// NewView returns an empty view.
func NewView() *View {
	v := &View{Now: time.Now, projID: map[string]uint16{}, projName: map[string]string{},
		labels: []string{""}, labelID: map[string]uint8{"": 0}, tagID: map[string]uint32{}}
	for i := range v.orders {
		v.orders[i] = order{sort: Sort(i), dirty: true}
	}
	return v
}

// Len is the number of files in the view.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.live
}

// SetProjectName lets project:NAME find the project id.
func (v *View) SetProjectName(id, name string) {
	v.mu.Lock()
	v.projName[id] = strings.ToLower(name)
	v.mu.Unlock()
}

func (v *View) project(id string) uint16 {
	if p, ok := v.projID[id]; ok {
		return p
	}
	p := uint16(len(v.projects))
	v.projects = append(v.projects, id)
	v.projID[id] = p
	v.byPath = append(v.byPath, map[string]uint32{})
	return p
}

func (v *View) find(project, p string) (uint32, bool) {
	pid, ok := v.projID[project]
	if !ok {
		return 0, false
	}
	r, ok := v.byPath[pid][p]
	return r, ok
}

// Change is an index change with what is known of the file's content (facts
// of its hash, when the cache has them).
type Change struct {
	index.Change
	Facts *Facts // nil: keep what the row had if the content did not change
}

// Apply brings the view up to date with index changes. A file whose content
// changed loses its facts (until SetFacts); its marks stay.
func (v *View) Apply(cs []Change) {
	v.mu.Lock()
	defer v.mu.Unlock()
	bulk := len(cs) > 64 // one sort beats many inserts into 100,000 rows
	if bulk {
		for i := range v.orders {
			v.orders[i].dirty = true
		}
	}
	for _, c := range cs {
		v.apply(c)
	}
}

func (v *View) apply(c Change) {
	rec := c.Record
	project := string(rec.Project)
	var carried *extra
	var carriedRating int8
	var carriedLabel uint8
	var carriedNums [3]float32
	moved := false
	if c.Op == index.OpRename && c.From != "" {
		if r, ok := v.find(project, c.From); ok {
			carried, carriedRating, carriedLabel = v.ext[r], v.rating[r], v.label[r]
			carriedNums = [3]float32{v.dur[r], v.lufs[r], v.bpm[r]}
			moved = true
			v.remove(r)
		}
	}
	if c.Op == index.OpDelete {
		if r, ok := v.find(project, rec.Path); ok {
			v.remove(r)
		}
		return
	}
	h := binary.LittleEndian.Uint64(rec.SHA256[:8])
	if r, ok := v.find(project, rec.Path); ok {
		changed := v.hash[r] != h
		v.unorder(r, sortDate, sortSize)
		v.size[r], v.mtime[r], v.kind[r], v.hash[r] = rec.Size, rec.ModTime.UnixNano(), kindCode(rec.Kind), h
		v.reorder(r, sortDate, sortSize)
		if c.Facts != nil {
			v.setFacts(r, *c.Facts)
		} else if changed {
			v.setFacts(r, Facts{})
		}
		return
	}
	r := v.insert(project, rec, h)
	if moved {
		v.ext[r] = carried
		v.rating[r], v.label[r] = carriedRating, carriedLabel
		v.dur[r], v.lufs[r], v.bpm[r] = carriedNums[0], carriedNums[1], carriedNums[2]
	}
	if c.Facts != nil {
		v.ext[r] = v.withFacts(v.ext[r], *c.Facts)
		v.dur[r], v.lufs[r], v.bpm[r] = factNums(*c.Facts)
	}
	v.orderAll(r)
	v.retext(r)
}

func factNums(f Facts) (d, l, b float32) {
	nan := float32(math.NaN())
	d, l, b = nan, nan, nan
	if f.Duration > 0 {
		d = float32(f.Duration)
	}
	if f.LUFS != nil && !math.IsNaN(*f.LUFS) && !math.IsInf(*f.LUFS, 0) {
		l = float32(*f.LUFS)
	}
	if f.BPM > 0 {
		b = float32(f.BPM)
	}
	return
}

func (v *View) insert(project string, rec index.FileRecord, h uint64) uint32 {
	pid := v.project(project)
	lower := strings.ToLower(rec.Path)
	nameAt := strings.LastIndexByte(rec.Path, '/') + 1
	if nameAt > math.MaxUint16 {
		nameAt = 0
	}
	nan := float32(math.NaN())
	var r uint32
	if n := len(v.free); n > 0 {
		r = v.free[n-1]
		v.free = v.free[:n-1]
		v.proj[r], v.path[r], v.lower[r], v.nameAt[r] = pid, rec.Path, lower, uint16(nameAt)
		v.kind[r], v.size[r], v.mtime[r], v.hash[r] = kindCode(rec.Kind), rec.Size, rec.ModTime.UnixNano(), h
		v.dur[r], v.lufs[r], v.bpm[r], v.rating[r], v.label[r], v.ext[r] = nan, nan, nan, 0, 0, nil
	} else {
		r = uint32(len(v.path))
		v.proj = append(v.proj, pid)
		v.path = append(v.path, rec.Path)
		v.lower = append(v.lower, lower)
		v.nameAt = append(v.nameAt, uint16(nameAt))
		v.kind = append(v.kind, kindCode(rec.Kind))
		v.size = append(v.size, rec.Size)
		v.mtime = append(v.mtime, rec.ModTime.UnixNano())
		v.hash = append(v.hash, h)
		v.dur = append(v.dur, nan)
		v.lufs = append(v.lufs, nan)
		v.bpm = append(v.bpm, nan)
		v.rating = append(v.rating, 0)
		v.label = append(v.label, 0)
		v.ext = append(v.ext, nil)
	}
	v.byPath[pid][rec.Path] = r
	v.live++
	return r
}

func (v *View) remove(r uint32) {
	for i := range v.orders {
		v.orders[i].remove(v, r)
	}
	v.text.drop(r)
	delete(v.byPath[v.proj[r]], v.path[r])
	v.path[r], v.lower[r], v.ext[r] = "", "", nil
	v.free = append(v.free, r)
	v.live--
}

// SetFacts records what is known of a file's content.
func (v *View) SetFacts(project, p string, f Facts) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.find(project, p)
	if ok {
		v.setFacts(r, f)
	}
	return ok
}

func (v *View) setFacts(r uint32, f Facts) {
	v.unorder(r, sortDuration, sortLoudness)
	v.ext[r] = v.withFacts(v.ext[r], f)
	v.dur[r], v.lufs[r], v.bpm[r] = factNums(f)
	v.reorder(r, sortDuration, sortLoudness)
	v.retext(r)
}

func (v *View) withFacts(x *extra, f Facts) *extra {
	if x == nil {
		x = &extra{}
	}
	// the numbers live in columns; the rest only when there is any
	f.Duration, f.LUFS, f.BPM = 0, nil, 0
	x.info = nil
	if f != (Facts{}) {
		x.info = &f
	}
	return v.settle(x)
}

// settle recomputes x's search text; it returns nil for an empty x.
func (v *View) settle(x *extra) *extra {
	if x.empty() {
		return nil
	}
	var b strings.Builder
	f := x.f()
	for _, s := range []string{f.Title, f.Artist, f.Album, f.Key, f.Comment, f.Camera, f.Lens, x.note} {
		if s != "" {
			b.WriteString(strings.ToLower(s))
			b.WriteByte(0)
		}
	}
	for _, t := range x.tags {
		b.WriteString(strings.ToLower(v.tagNames[t]))
		b.WriteByte(0)
	}
	x.text = b.String()
	return x
}

// SetMarks records the creator's rating, label, tags and note of a file.
func (v *View) SetMarks(project, p string, m Marks) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.find(project, p)
	if !ok {
		return false
	}
	v.unorder(r, sortRating)
	v.rating[r] = int8(max(-1, min(5, m.Rating)))
	v.reorder(r, sortRating)
	v.label[r] = v.labelCode(m.Label)
	x := v.ext[r]
	if x == nil {
		x = &extra{}
	}
	x.tags = x.tags[:0]
	for _, t := range m.Tags {
		if id, ok := v.tagCode(t); ok && !containsU32(x.tags, id) {
			x.tags = append(x.tags, id)
		}
	}
	if len(x.tags) == 0 {
		x.tags = nil
	}
	x.note = m.Note
	v.ext[r] = v.settle(x)
	v.retext(r)
	return true
}

func containsU32(s []uint32, x uint32) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func (v *View) labelCode(l string) uint8 {
	l = strings.TrimSpace(l)
	k := strings.ToLower(l)
	if id, ok := v.labelID[k]; ok {
		return id
	}
	if len(v.labels) >= math.MaxUint8 {
		return 0 // more than 254 distinct labels: the rest are not searchable
	}
	id := uint8(len(v.labels))
	v.labels = append(v.labels, l) // as first written
	v.labelID[k] = id
	return id
}

func (v *View) tagCode(t string) (uint32, bool) {
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, false
	}
	k := strings.ToLower(t)
	if id, ok := v.tagID[k]; ok {
		return id, true
	}
	id := uint32(len(v.tagNames))
	v.tagNames = append(v.tagNames, t)
	v.tagID[k] = id
	return id, true
}

// Tags lists every tag the view has seen with how many files carry it.
func (v *View) Tags() map[string]int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]int{}
	for r, x := range v.ext {
		if x == nil || v.path[r] == "" {
			continue
		}
		for _, t := range x.tags {
			out[v.tagNames[t]]++
		}
	}
	return out
}

func (v *View) row(r uint32) Row {
	p := v.path[r]
	out := Row{Project: v.projects[v.proj[r]], Path: p, Name: p[v.nameAt[r]:], Kind: string(kinds[v.kind[r]]),
		Size: v.size[r], ModTime: time.Unix(0, v.mtime[r]), Rating: int(v.rating[r]), Label: v.labels[v.label[r]]}
	if d := v.dur[r]; d == d {
		out.Duration = math.Round(float64(d)*1000) / 1000
	}
	if l := v.lufs[r]; l == l {
		x := math.Round(float64(l)*100) / 100
		out.LUFS = &x
	}
	if b := v.bpm[r]; b == b {
		out.BPM = math.Round(float64(b)*100) / 100
	}
	if x := v.ext[r]; x != nil {
		f := x.f()
		out.Width, out.Height = f.Width, f.Height
		out.Title, out.Artist, out.Album, out.Key, out.Note = f.Title, f.Artist, f.Album, f.Key, x.note
		for _, t := range x.tags {
			out.Tags = append(out.Tags, v.tagNames[t])
		}
	}
	return out
}

// Get returns the row of one file.
func (v *View) Get(project, p string) (Row, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.find(project, p)
	if !ok {
		return Row{}, false
	}
	return v.row(r), true
}

// Match reports whether the file matches q (for smart collections, which
// learn of each changed file whether it joined or left them).
func (v *View) Match(q Query, project, p string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r, ok := v.find(project, p)
	if !ok {
		return false
	}
	return v.compile(q, "", true)(r)
}

// sortAllAbove is how many matches are sorted on their own rather than
// picked from a kept order (a variable for tests).
var sortAllAbove = 4096

// Query answers q: the page of matching files in the asked order, and how
// many match in all.
func (v *View) Query(q Query, o Options) Page {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	o.Limit = min(o.Limit, MaxLimit)
	o.Offset = max(0, o.Offset)
	if o.Sort >= numSorts {
		o.Sort = SortName
	}
	v.mu.RLock()
	p, ok := v.query(q, o)
	v.mu.RUnlock()
	if ok {
		return p
	}
	// many matches and the order is stale: rebuild it (once, for every later query)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.orders[o.Sort].rebuild(v)
	p, _ = v.query(q, o)
	return p
}

// query runs under the lock; it returns false when it needs the order of
// o.Sort and that order is stale.
func (v *View) query(q Query, o Options) (Page, bool) {
	match, cand := v.compileCand(q, o.Project, false)
	n := len(v.path)
	hit := make([]uint64, (n+63)/64)
	var hits []uint32
	total := 0
	test := func(r int) {
		if v.path[r] == "" || !match(uint32(r)) {
			return
		}
		hit[r>>6] |= 1 << (r & 63)
		if total < sortAllAbove {
			hits = append(hits, uint32(r))
		}
		total++
	}
	if cand != nil { // only the rows holding the free words
		for w, word := range cand {
			for word != 0 {
				test(w<<6 | bits.TrailingZeros64(word))
				word &= word - 1
			}
		}
	} else {
		for r := range n {
			test(r)
		}
	}
	page := Page{Offset: o.Offset, Total: total, Rows: []Row{}}
	if o.Offset >= total {
		return page, true
	}
	ord := &v.orders[o.Sort]
	if total <= sortAllAbove {
		tmp := order{sort: o.Sort, perm: hits}
		tmp.sortPerm(v)
		v.pick(&tmp, o, &page, nil)
		return page, true
	}
	if ord.dirty {
		return page, false
	}
	v.pick(ord, o, &page, hit)
	return page, true
}

// pick fills page from ord's rows (those set in bits, when given), in the
// asked direction: unknown keys last either way.
func (v *View) pick(ord *order, o Options, page *Page, bits []uint64) {
	skip := o.Offset
	visit := func(r uint32) bool {
		if bits != nil && bits[r>>6]&(1<<(r&63)) == 0 {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		page.Rows = append(page.Rows, v.row(r))
		return len(page.Rows) < o.Limit
	}
	known := ord.known(v)
	if !o.Desc {
		for _, r := range ord.perm {
			if !visit(r) {
				return
			}
		}
		return
	}
	for i := known - 1; i >= 0; i-- {
		if !visit(ord.perm[i]) {
			return
		}
	}
	for _, r := range ord.perm[known:] {
		if !visit(r) {
			return
		}
	}
}

// Count is how many files of project ("" = all) match q.
func (v *View) Count(q Query, project string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	match := v.compile(q, project, false)
	n := 0
	for r := range v.path {
		if v.path[r] != "" && match(uint32(r)) {
			n++
		}
	}
	return n
}

// Paths returns the project-relative paths of the matching files of a
// project in path order (for batch edits: tag or rate every match).
func (v *View) Paths(q Query, project string, limit int) []string {
	p := v.Query(q, Options{Project: project, Sort: SortPath, Limit: limit})
	out := make([]string, len(p.Rows))
	for i, r := range p.Rows {
		out[i] = r.Path
	}
	return out
}

// FileKey names a file of a project.
type FileKey struct {
	Project string `json:"project"`
	Path    string `json:"path"`
}

// Delta says a file joined or left a saved query (a smart collection).
type Delta struct {
	Collection string  `json:"collection"`
	File       FileKey `json:"file"`
	Joined     bool    `json:"joined"` // false: it left
}

// Around runs mutate (an Apply, SetMarks or SetFacts of the files in keys)
// and reports which of the files joined or left each saved query of qs (by
// collection id): how a smart collection in the sidebar updates live.
func (v *View) Around(keys []FileKey, qs map[string]Query, mutate func()) []Delta {
	before := make([]map[string]bool, len(keys))
	for i, k := range keys {
		before[i] = map[string]bool{}
		for id, q := range qs {
			before[i][id] = v.Match(q, k.Project, k.Path)
		}
	}
	mutate()
	var out []Delta
	for i, k := range keys {
		for id, q := range qs {
			if after := v.Match(q, k.Project, k.Path); after != before[i][id] {
				out = append(out, Delta{Collection: id, File: k, Joined: after})
			}
		}
	}
	return out
}

// Keys lists the files a batch of changes touches (both ends of a rename).
func Keys(cs []Change) []FileKey {
	out := make([]FileKey, 0, len(cs))
	for _, c := range cs {
		if c.From != "" {
			out = append(out, FileKey{string(c.Record.Project), c.From})
		}
		out = append(out, FileKey{string(c.Record.Project), c.Record.Path})
	}
	return out
}

// Has reports whether the view holds the file.
func (v *View) Has(project, p string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.find(project, p)
	return ok
}

// InDir lists the names of the files directly in folder dir ("" or "." =
// the project's root) of a project.
func (v *View) InDir(project, dir string) []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	pid, ok := v.projID[project]
	if !ok {
		return nil
	}
	prefix := ""
	if dir != "" && dir != "." {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	}
	var out []string
	for p := range v.byPath[pid] {
		if strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, p[len(prefix):])
		}
	}
	return out
}
