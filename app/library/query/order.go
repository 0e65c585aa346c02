package query

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Sort is an order of the Library.
type Sort uint8

const (
	SortName Sort = iota
	SortPath
	SortDate
	SortSize
	SortDuration
	SortLoudness
	SortRating
	numSorts

	sortDate     = SortDate
	sortSize     = SortSize
	sortDuration = SortDuration
	sortLoudness = SortLoudness
	sortRating   = SortRating
)

var sortNames = [numSorts]string{"name", "path", "date", "size", "duration", "loudness", "rating"}

func (s Sort) String() string {
	if s < numSorts {
		return sortNames[s]
	}
	return "name"
}

// ParseSort reads "name", "date", "-size" (descending), "rating desc"... An
// empty string is name, ascending.
func ParseSort(s string) (Sort, bool, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	desc := false
	if strings.HasPrefix(s, "-") {
		desc, s = true, s[1:]
	}
	if f, ok := strings.CutSuffix(s, " desc"); ok {
		desc, s = true, f
	}
	s = strings.TrimSuffix(s, " asc")
	if s == "" {
		return SortName, desc, nil
	}
	switch s {
	case "modified", "mtime":
		s = "date"
	case "lufs":
		s = "loudness"
	case "length":
		s = "duration"
	}
	for i, n := range sortNames {
		if n == s {
			return Sort(i), desc, nil
		}
	}
	return SortName, false, fmt.Errorf("cannot sort by %q: sort by %s (a leading - sorts descending)", s, strings.Join(sortNames[:], ", "))
}

// order is the rows sorted by one key, ties by lower-cased path then row. Rows
// whose key is unknown (NaN) come last.
type order struct {
	sort  Sort
	perm  []uint32
	dirty bool
}

// cmpRows compares rows a and b by o's key.
func (o *order) cmpRows(v *View, a, b uint32) int {
	c := 0
	switch o.sort {
	case SortName:
		c = strings.Compare(v.lower[a][v.nameAt[a]:], v.lower[b][v.nameAt[b]:])
	case SortPath:
	case SortDate:
		c = cmp.Compare(v.mtime[a], v.mtime[b])
	case SortSize:
		c = cmp.Compare(v.size[a], v.size[b])
	case SortDuration:
		c = cmpNaNLast(v.dur[a], v.dur[b])
	case SortLoudness:
		c = cmpNaNLast(v.lufs[a], v.lufs[b])
	case SortRating:
		c = cmp.Compare(v.rating[a], v.rating[b])
	}
	if c != 0 {
		return c
	}
	if c = strings.Compare(v.lower[a], v.lower[b]); c != 0 {
		return c
	}
	if c = cmp.Compare(v.proj[a], v.proj[b]); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

func cmpNaNLast(a, b float32) int {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

// unknown reports whether row r's key is unknown.
func (o *order) unknown(v *View, r uint32) bool {
	switch o.sort {
	case SortDuration:
		return math.IsNaN(float64(v.dur[r]))
	case SortLoudness:
		return math.IsNaN(float64(v.lufs[r]))
	}
	return false
}

// known is how many rows at the front of perm have a known key.
func (o *order) known(v *View) int {
	return sort.Search(len(o.perm), func(i int) bool { return o.unknown(v, o.perm[i]) })
}

func (o *order) sortPerm(v *View) {
	slices.SortFunc(o.perm, func(a, b uint32) int { return o.cmpRows(v, a, b) })
}

func (o *order) rebuild(v *View) {
	if !o.dirty {
		return
	}
	o.perm = o.perm[:0]
	for r := range v.path {
		if v.path[r] != "" {
			o.perm = append(o.perm, uint32(r))
		}
	}
	o.sortPerm(v)
	o.dirty = false
}

// pos is where row r is, or would be inserted, in perm.
func (o *order) pos(v *View, r uint32) int {
	return sort.Search(len(o.perm), func(i int) bool { return o.cmpRows(v, o.perm[i], r) >= 0 })
}

func (o *order) remove(v *View, r uint32) {
	if o.dirty {
		return
	}
	i := o.pos(v, r)
	if i < len(o.perm) && o.perm[i] == r {
		o.perm = slices.Delete(o.perm, i, i+1)
		return
	}
	o.dirty = true // not where its key says: start over
}

func (o *order) add(v *View, r uint32) {
	if o.dirty {
		return
	}
	o.perm = slices.Insert(o.perm, o.pos(v, r), r)
}

// unorder takes row r out of the orders by keys, before the keys change;
// reorder puts it back after.
func (v *View) unorder(r uint32, keys ...Sort) {
	for _, k := range keys {
		v.orders[k].remove(v, r)
	}
}

func (v *View) reorder(r uint32, keys ...Sort) {
	for _, k := range keys {
		v.orders[k].add(v, r)
	}
}

// orderAll adds a new row to every order.
func (v *View) orderAll(r uint32) {
	for i := range v.orders {
		v.orders[i].add(v, r)
	}
}
