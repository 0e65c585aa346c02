// Package progress is the one type long work uses to report how far it is.
package progress

// Progress is a snapshot of long work: Done of Total Units (Total 0 = unknown).
type Progress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit"` // "files", "bytes", "events", ...
	Note  string `json:"note,omitempty"`
}

// Func receives progress reports. A nil Func is valid and ignores them.
type Func func(Progress)

// Report calls f when it is not nil.
func (f Func) Report(p Progress) {
	if f != nil {
		f(p)
	}
}
