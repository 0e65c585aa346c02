package query

import (
	"math"
	"strings"
)

type pred func(r uint32) bool

// compile turns q into one predicate over rows, cheap terms first. project
// ("" = all) scopes it. Free words are looked up in the text index at once
// (unless single: the predicate is for one row). The caller holds the lock.
func (v *View) compile(q Query, project string, single bool) pred {
	p, _ := v.compileCand(q, project, single)
	return p
}

// compileCand is compile that also returns the candidate rows (a bitset, nil
// for all rows): every match is among them. Free words narrow them, so a
// query with a word only tests the rows that hold it.
func (v *View) compileCand(q Query, project string, single bool) (pred, []uint64) {
	var cand []uint64
	var ps []pred
	if project != "" {
		pid, ok := v.projID[project]
		if !ok {
			return none, nil
		}
		ps = append(ps, func(r uint32) bool { return v.proj[r] == pid })
	}
	// cheap columns first, text last
	var cheap, costly []pred
	for _, t := range q.Terms {
		var p pred
		if t.Field == FText && !single {
			bits := v.textBits(t.Values[0].Text)
			if !t.Not {
				if cand == nil {
					cand = bits
				} else {
					for i := range cand {
						cand[i] &= bits[i]
					}
				}
				continue // the candidates hold it
			}
			p = func(r uint32) bool { return bits[r>>6]&(1<<(r&63)) != 0 }
		} else {
			p = v.term(t)
		}
		if t.Not {
			inner := p
			p = func(r uint32) bool { return !inner(r) }
		}
		switch t.Field {
		case FName, FPath, FTitle, FArtist, FAlbum, FCamera:
			costly = append(costly, p)
		default:
			cheap = append(cheap, p)
		}
	}
	ps = append(ps, cheap...)
	ps = append(ps, costly...)
	if cand != nil {
		ps = append(ps, func(r uint32) bool { return cand[r>>6]&(1<<(r&63)) != 0 })
	}
	switch len(ps) {
	case 0:
		return func(uint32) bool { return true }, cand
	case 1:
		return ps[0], cand
	case 2:
		a, b := ps[0], ps[1]
		return func(r uint32) bool { return a(r) && b(r) }, cand
	}
	return func(r uint32) bool {
		for _, p := range ps {
			if !p(r) {
				return false
			}
		}
		return true
	}, cand
}

// anyOf matches when one of the values matches.
func anyOf(vals []Value, one func(Value) pred) pred {
	if len(vals) == 1 {
		return one(vals[0])
	}
	ps := make([]pred, len(vals))
	for i, x := range vals {
		ps[i] = one(x)
	}
	return func(r uint32) bool {
		for _, p := range ps {
			if p(r) {
				return true
			}
		}
		return false
	}
}

func inRange(x float64, val Value) bool {
	if math.IsNaN(x) {
		return false
	}
	return (math.IsNaN(val.Lo) || x >= val.Lo) && (math.IsNaN(val.Hi) || x <= val.Hi)
}

func none(uint32) bool { return false }

// textBits finds the rows whose text holds w.
func (v *View) textBits(w string) []uint64 {
	bits := make([]uint64, (len(v.path)+63)/64)
	v.text.search(w, func(r uint32) { bits[r>>6] |= 1 << (r & 63) })
	return bits
}

func (v *View) term(t Term) pred {
	switch t.Field {
	case FText:
		w := t.Values[0].Text
		return func(r uint32) bool {
			if strings.Contains(v.lower[r], w) {
				return true
			}
			x := v.ext[r]
			return x != nil && strings.Contains(x.text, w)
		}
	case FName:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return strings.Contains(v.lower[r][v.nameAt[r]:], val.Text) }
		})
	case FPath:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return strings.Contains(v.lower[r], val.Text) }
		})
	case FExt:
		return anyOf(t.Values, func(val Value) pred {
			suffix := "." + val.Text
			return func(r uint32) bool {
				l := v.lower[r][v.nameAt[r]:]
				return strings.HasSuffix(l, suffix) && len(l) > len(suffix)
			}
		})
	case FKind:
		return anyOf(t.Values, func(val Value) pred {
			k := uint8(255)
			for i, x := range kinds {
				if i > 0 && string(x) == val.Text {
					k = uint8(i)
				}
			}
			return func(r uint32) bool { return v.kind[r] == k }
		})
	case FProject:
		return anyOf(t.Values, func(val Value) pred {
			want := map[uint16]bool{}
			for id, p := range v.projID {
				if strings.ToLower(id) == val.Text || v.projName[id] == val.Text {
					want[p] = true
				}
			}
			return func(r uint32) bool { return want[v.proj[r]] }
		})
	case FLabel:
		return anyOf(t.Values, func(val Value) pred {
			id, ok := v.labelID[val.Text]
			if !ok || val.Text == "" {
				return none
			}
			return func(r uint32) bool { return v.label[r] == id }
		})
	case FTag:
		return anyOf(t.Values, func(val Value) pred {
			// tag:drums matches the tag "drums"; tag:drums* every tag starting so
			ids := map[uint32]bool{}
			if prefix, ok := strings.CutSuffix(val.Text, "*"); ok {
				for k, id := range v.tagID {
					if strings.HasPrefix(k, prefix) {
						ids[id] = true
					}
				}
			} else if id, ok := v.tagID[val.Text]; ok {
				ids[id] = true
			}
			if len(ids) == 0 {
				return none
			}
			if len(ids) == 1 {
				var one uint32
				for id := range ids {
					one = id
				}
				return func(r uint32) bool { x := v.ext[r]; return x != nil && containsU32(x.tags, one) }
			}
			return func(r uint32) bool {
				x := v.ext[r]
				if x == nil {
					return false
				}
				for _, t := range x.tags {
					if ids[t] {
						return true
					}
				}
				return false
			}
		})
	case FTitle, FArtist, FAlbum, FCamera:
		get := map[Field]func(*Facts) string{
			FTitle: func(f *Facts) string { return f.Title }, FArtist: func(f *Facts) string { return f.Artist },
			FAlbum: func(f *Facts) string { return f.Album }, FCamera: func(f *Facts) string { return f.Camera + "\x00" + f.Lens },
		}[t.Field]
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool {
				x := v.ext[r]
				return x != nil && containsFold(get(x.f()), val.Text)
			}
		})
	case FKey:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool {
				x := v.ext[r]
				return x != nil && x.f().Key != "" && sameKey(x.f().Key, val.Text)
			}
		})
	case FRating:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return inRange(float64(v.rating[r]), val) }
		})
	case FBPM:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return inRange(float64(v.bpm[r]), val) }
		})
	case FLUFS:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return inRange(float64(v.lufs[r]), val) }
		})
	case FDuration:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return inRange(float64(v.dur[r]), val) }
		})
	case FSize:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return inRange(float64(v.size[r]), val) }
		})
	case FWidth, FHeight:
		w := t.Field == FWidth
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool {
				x := v.ext[r]
				if x == nil {
					return false
				}
				n := x.f().Height
				if w {
					n = x.f().Width
				}
				return n > 0 && inRange(float64(n), val)
			}
		})
	case FModified:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool { return inRange(float64(v.mtime[r]/1e9), val) }
		})
	case FTaken:
		return anyOf(t.Values, func(val Value) pred {
			return func(r uint32) bool {
				x := v.ext[r]
				return x != nil && !x.f().Taken.IsZero() && inRange(float64(x.f().Taken.Unix()), val)
			}
		})
	case FHas:
		return anyOf(t.Values, func(val Value) pred { return v.has(val.Text) })
	}
	return none
}

func (v *View) has(what string) pred {
	withExtra := func(f func(x *extra) bool) pred {
		return func(r uint32) bool { x := v.ext[r]; return x != nil && f(x) }
	}
	switch what {
	case "tags":
		return withExtra(func(x *extra) bool { return len(x.tags) > 0 })
	case "label":
		return func(r uint32) bool { return v.label[r] != 0 }
	case "note":
		return withExtra(func(x *extra) bool { return x.note != "" })
	case "rating":
		return func(r uint32) bool { return v.rating[r] != 0 }
	case "cover":
		return withExtra(func(x *extra) bool { return x.f().Cover })
	case "gps":
		return withExtra(func(x *extra) bool { return x.f().GPS })
	case "metadata":
		return withExtra(func(x *extra) bool {
			f := x.f()
			return f.Title != "" || f.Artist != "" || f.Album != "" || f.Comment != "" || f.Camera != "" || !f.Taken.IsZero()
		})
	case "loudness":
		return func(r uint32) bool { return !math.IsNaN(float64(v.lufs[r])) }
	case "duration":
		return func(r uint32) bool { return !math.IsNaN(float64(v.dur[r])) }
	case "bpm":
		return func(r uint32) bool { return !math.IsNaN(float64(v.bpm[r])) }
	}
	return none
}

// containsFold reports whether s contains the lower-case sub, ignoring case.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	if len(s) < len(sub) {
		return false
	}
	return strings.Contains(strings.ToLower(s), sub)
}

// sameKey compares musical keys loosely: "Am" = "A minor" = "amin", "C#" = "C# major".
func sameKey(a, b string) bool {
	return normKey(a) == normKey(b)
}

func normKey(k string) string {
	k = strings.ToLower(strings.ReplaceAll(k, " ", ""))
	k = strings.ReplaceAll(k, "♯", "#")
	k = strings.ReplaceAll(k, "♭", "b")
	for _, s := range []struct{ from, to string }{{"minor", "m"}, {"min", "m"}, {"major", ""}, {"maj", ""}} {
		if strings.HasSuffix(k, s.from) {
			return strings.TrimSuffix(k, s.from) + s.to
		}
	}
	return k
}
