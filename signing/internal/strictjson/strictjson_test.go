package strictjson

import (
	"strings"
	"testing"
)

func TestCheckDuplicates(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, ""},
		{`{"a":1,"a":2}`, `duplicate key "a"`},
		{`{"x":{"a":"\"","a":2}}`, `duplicate key "a"`},
		{`{"version":1,"\u0076ersion":2}`, `duplicate key "version"`},
		{`{"a":"b\\","c":{"a":1}}`, ""},
		{`{"a":1}{}`, "trailing data"},
		{`{"a":1} x`, "trailing data"},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested deeper"},
		{`{"a":[1,2,{"b":1,"b":1}]}`, `duplicate key "b"`},
	} {
		err := CheckDuplicates([]byte(c.in))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

func FuzzCheckDuplicates(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[{"a":"\"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { CheckDuplicates(b) })
}
