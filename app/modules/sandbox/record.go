package sandbox

import (
	"fmt"
	"strings"
	"time"
)

// Summary is the run in one line for the audit log's detail: the outcome and
// why, the permissions used, the files written, what was refused and where
// the network went.
func (r *Record) Summary() string {
	var b strings.Builder
	b.WriteString(r.Outcome)
	if r.Message != "" && r.Outcome != OutcomeOK {
		b.WriteString(" (" + r.Message + ")")
	}
	fmt.Fprintf(&b, " in %s", r.Duration.Round(time.Millisecond))
	if len(r.Used) > 0 {
		b.WriteString("; used " + strings.Join(r.Used, ", "))
	} else {
		b.WriteString("; used no permission")
	}
	if n := len(r.Files); n > 0 {
		names := make([]string, 0, 5)
		for i, f := range r.Files {
			if i == 5 {
				names = append(names, fmt.Sprintf("and %d more", n-5))
				break
			}
			names = append(names, f.Path)
		}
		fmt.Fprintf(&b, "; wrote %d file(s): %s", n, strings.Join(names, ", "))
	}
	if n := len(r.Denied); n > 0 {
		fmt.Fprintf(&b, "; refused %d access(es), first: %s", n, r.Denied[0])
	}
	if n := len(r.Network); n > 0 {
		fmt.Fprintf(&b, "; network: %s", strings.Join(r.Network, "; "))
	}
	return b.String()
}
