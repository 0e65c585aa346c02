package target

import (
	"strings"
	"testing"
)

func TestLocalName(t *testing.T) {
	for _, c := range []struct{ in, goos, want string }{
		{`back\slash.txt`, "linux", `back\slash.txt`},
		{`back\slash.txt`, "darwin", `back\slash.txt`},
		{`back\slash.txt`, "windows", `back_slash.txt`},
		{`a:b/c?.wav`, "windows", `a_b/c_.wav`},
		{`dir./file `, "windows", `dir_/file_`},
		{`con.txt`, "windows", `_con.txt`},
		{`lpt1`, "windows", `_lpt1`},
		{`console.txt`, "windows", `console.txt`},
		{`plain/name.txt`, "windows", `plain/name.txt`},
	} {
		got, why := LocalName(c.in, c.goos)
		if got != c.want || (got != c.in) != (why != "") {
			t.Errorf("LocalName(%q, %s) = %q, %q; want %q", c.in, c.goos, got, why, c.want)
		}
	}
}

func TestNamesAvoidCollisions(t *testing.T) {
	names, renamed := Names([]string{`a\b.txt`, "a_b.txt", `a:b.txt`}, "windows")
	seen := map[string]bool{}
	for _, n := range names {
		if seen[strings.ToLower(n)] {
			t.Fatalf("two paths share the name %q: %v", n, names)
		}
		seen[strings.ToLower(n)] = true
	}
	if names["a_b.txt"] != "a_b.txt" || len(renamed) != 2 {
		t.Fatalf("names %v renamed %+v", names, renamed)
	}
}

// FuzzLocalName: a Windows name never holds a forbidden character or a
// trailing dot or space, keeps its folder depth, and maps to itself again.
func FuzzLocalName(f *testing.F) {
	for _, s := range []string{`back\slash.txt`, "a:b/c", "con", "x. ", "ok/name.wav"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if checkName(p) != nil {
			return
		}
		n, _ := LocalName(p, "windows")
		if strings.Count(n, "/") != strings.Count(p, "/") {
			t.Fatalf("%q -> %q changed the folder depth", p, n)
		}
		for _, el := range strings.Split(n, "/") {
			if strings.ContainsAny(el, `\:*?"<>|`) || strings.HasSuffix(el, ".") || strings.HasSuffix(el, " ") {
				t.Fatalf("%q -> %q: element %q not allowed on Windows", p, n, el)
			}
			for _, r := range el {
				if r < 32 {
					t.Fatalf("%q -> %q holds a control character", p, n)
				}
			}
		}
		if again, why := LocalName(n, "windows"); again != n {
			t.Fatalf("%q -> %q -> %q (%s): not stable", p, n, again, why)
		}
		if same, _ := LocalName(p, "linux"); same != p {
			t.Fatalf("linux renamed %q", p)
		}
	})
}

// Names that differ only in case get a safe name where the platform's file
// names ignore case, instead of one replacing the other.
func TestNamesCaseInsensitive(t *testing.T) {
	names, renamed := Names([]string{"Mix.wav", "mix.wav", "other.txt"}, "darwin")
	if len(renamed) != 1 || renamed[0].Path != "mix.wav" || names["mix.wav"] != "mix (2).wav" || names["Mix.wav"] != "Mix.wav" || !strings.Contains(renamed[0].Reason, "case") {
		t.Fatalf("names %v renamed %+v", names, renamed)
	}
	if n, r := Names([]string{"Mix.wav", "mix.wav"}, "linux"); len(r) != 0 || n["mix.wav"] != "mix.wav" {
		t.Fatalf("linux renamed %+v", r)
	}
}
