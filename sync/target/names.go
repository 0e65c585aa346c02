package target

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// LocalName is the name under which the slash path p can be written on
// goos: p itself when that platform can hold it, else a safe name (each
// forbidden character replaced by "_") and the reason. Linux and macOS hold
// every name but "/" and NUL (a backslash or a colon is an ordinary
// character there); Windows forbids \ / : * ? " < > |, control characters,
// a trailing dot or space and device names such as CON or NUL.
func LocalName(p, goos string) (string, string) {
	if goos != "windows" {
		return p, ""
	}
	els := strings.Split(p, "/")
	var why []string
	for i, el := range els {
		safe := strings.Map(func(r rune) rune {
			if r < 32 || strings.ContainsRune(`\:*?"<>|`, r) {
				return '_'
			}
			return r
		}, el)
		if safe != el {
			why = append(why, fmt.Sprintf("%q has a character Windows does not allow in a file name (\\ : * ? \" < > | or a control character)", el))
		}
		if t := strings.TrimRight(safe, ". "); t != safe {
			safe = t + strings.Repeat("_", len(safe)-len(t))
			why = append(why, fmt.Sprintf("%q ends with a dot or a space, which Windows drops", el))
		}
		stem := strings.ToUpper(strings.TrimSpace(strings.SplitN(safe, ".", 2)[0]))
		if reservedWindows(stem) {
			safe = "_" + safe
			why = append(why, fmt.Sprintf("%q is a device name on Windows", el))
		}
		els[i] = safe
	}
	if len(why) == 0 {
		return p, ""
	}
	return strings.Join(els, "/"), strings.Join(why, "; ")
}

func reservedWindows(s string) bool {
	switch s {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(s) == 4 && (strings.HasPrefix(s, "COM") || strings.HasPrefix(s, "LPT")) {
		return s[3] >= '0' && s[3] <= '9'
	}
	return false
}

// Names maps every path a restore writes to the name it gets on goos:
// itself where possible; else a safe name that collides with no other
// path of the restore (" (2)", " (3)"... before the extension when the plain
// safe name is taken). renamed lists the paths that got another name.
func Names(paths []string, goos string) (names map[string]string, renamed []Renamed) {
	names = make(map[string]string, len(paths))
	taken := make(map[string]bool, len(paths))
	key := func(s string) string {
		if goos == "windows" || goos == "darwin" {
			return strings.ToLower(s) // case-insensitive by default there
		}
		return s
	}
	var odd []string
	caseOf := map[string]string{} // odd path -> the path it differs from only in case
	sorted := append([]string{}, paths...)
	sort.Strings(sorted)
	for _, p := range sorted {
		if n, _ := LocalName(p, goos); n != p {
			odd = append(odd, p)
		} else if other, ok := taken[key(p)]; ok && other {
			odd = append(odd, p)
			for _, q := range sorted {
				if q != p && key(q) == key(p) && names[q] == q {
					caseOf[p] = q
					break
				}
			}
		} else {
			names[p] = p
			taken[key(p)] = true
		}
	}
	sort.Strings(odd)
	for _, p := range odd {
		n, why := LocalName(p, goos)
		if q, ok := caseOf[p]; ok {
			why = fmt.Sprintf("%q differs from %q only in case, which file names on %s do not tell apart", p, q, goos)
		}
		cand := n
		for i := 2; taken[key(cand)]; i++ {
			dir, base := path.Split(n)
			ext := path.Ext(base)
			stem := strings.TrimSuffix(base, ext)
			if stem == "" {
				stem, ext = base, ""
			}
			cand = fmt.Sprintf("%s%s (%d)%s", dir, stem, i, ext)
		}
		taken[key(cand)] = true
		names[p] = cand
		renamed = append(renamed, Renamed{Path: p, As: cand, Reason: why + ": written under a safe name"})
	}
	return names, renamed
}
