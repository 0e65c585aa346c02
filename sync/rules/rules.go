// Package rules decides which files of a project sync: gitignore-syntax
// include and exclude patterns, file kinds and size bounds.
package rules

import (
	"fmt"
	"path"
	"strings"

	ignore "github.com/sabhiram/go-gitignore"
)

// Rules select files. The zero value selects everything.
//
// A file syncs when it matches Include (or Include is empty), does not match
// Exclude, its kind is in Kinds (or Kinds is empty), and its size is within
// [MinSize, MaxSize] (MaxSize 0 = no limit). Patterns use gitignore syntax:
// "*.wav", "exports/", "/mixes/**/*.mp3", "!keep.wav".
type Rules struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
	Kinds   []string `json:"kinds"`
	MinSize int64    `json:"minSize"`
	MaxSize int64    `json:"maxSize"`
}

// Matcher is compiled Rules.
type Matcher struct {
	r       Rules
	include *ignore.GitIgnore
	exclude *ignore.GitIgnore
	kinds   map[string]bool
}

// Compile checks and compiles r.
func Compile(r Rules) (*Matcher, error) {
	m := &Matcher{r: r}
	clean := func(ps []string, what string) ([]string, error) {
		var out []string
		for _, p := range ps {
			p = strings.TrimSpace(p)
			if p == "" || strings.HasPrefix(p, "#") {
				continue
			}
			if strings.Contains(p, "\x00") {
				return nil, fmt.Errorf("%s pattern %q contains a NUL byte", what, p)
			}
			out = append(out, p)
		}
		return out, nil
	}
	inc, err := clean(r.Include, "include")
	if err != nil {
		return nil, err
	}
	exc, err := clean(r.Exclude, "exclude")
	if err != nil {
		return nil, err
	}
	if len(inc) > 0 {
		m.include = ignore.CompileIgnoreLines(inc...)
	}
	if len(exc) > 0 {
		m.exclude = ignore.CompileIgnoreLines(exc...)
	}
	if len(r.Kinds) > 0 {
		m.kinds = map[string]bool{}
		for _, k := range r.Kinds {
			m.kinds[strings.ToLower(strings.TrimSpace(k))] = true
		}
	}
	if r.MinSize < 0 || r.MaxSize < 0 || (r.MaxSize > 0 && r.MinSize > r.MaxSize) {
		return nil, fmt.Errorf("size bounds %d..%d make no sense: use 0 for no limit and keep the minimum below the maximum", r.MinSize, r.MaxSize)
	}
	return m, nil
}

// MustCompile is Compile that panics, for tests and constants.
func MustCompile(r Rules) *Matcher {
	m, err := Compile(r)
	if err != nil {
		panic(err)
	}
	return m
}

// Rules returns the rules m was compiled from.
func (m *Matcher) Rules() Rules { return m.r }

// Match reports whether the file at p (slash-separated, relative to the
// project root) of the given kind and size syncs.
func (m *Matcher) Match(p, kind string, size int64) bool {
	if m == nil {
		return true
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if m.include != nil && !m.include.MatchesPath(p) {
		return false
	}
	if m.exclude != nil && m.exclude.MatchesPath(p) {
		return false
	}
	if m.kinds != nil && !m.kinds[kind] {
		return false
	}
	if size < m.r.MinSize || (m.r.MaxSize > 0 && size > m.r.MaxSize) {
		return false
	}
	return true
}

// Empty reports whether the rules select everything.
func (r Rules) Empty() bool {
	return len(r.Include) == 0 && len(r.Exclude) == 0 && len(r.Kinds) == 0 && r.MinSize == 0 && r.MaxSize == 0
}
