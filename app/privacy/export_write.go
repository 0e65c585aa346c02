package privacy

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// safeCSV writes CSV records whose cells a spreadsheet cannot evaluate: a
// cell that would start a formula is neutralised (see SpreadsheetSafe). Every
// CSV the export writes goes through it; the JSON export keeps the values.
type safeCSV struct {
	w   *csv.Writer
	rec []string
}

func (s *safeCSV) Write(rec []string) error {
	s.rec = s.rec[:0]
	for _, c := range rec {
		s.rec = append(s.rec, SpreadsheetSafe(c))
	}
	return s.w.Write(s.rec)
}

func (s *safeCSV) Flush() { s.w.Flush() }

func (s *safeCSV) Error() error { return s.w.Error() }

// SpreadsheetSafe returns cell so that a spreadsheet (Excel, LibreOffice,
// Google Sheets, Numbers) shows it as text instead of evaluating it: a cell
// starting with =, +, -, @, a tab or a carriage return is prefixed with a
// single quote (OWASP's rule against CSV injection). Plain numbers such as
// -3.5 or +1e3 cannot be formulas and are kept as they are.
func SpreadsheetSafe(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '@', '\t', '\r':
		return "'" + cell
	case '+', '-':
		if plainDecimal(cell) {
			return cell
		}
		return "'" + cell
	}
	return cell
}

// plainDecimal reports whether s is a signed decimal number (digits, at most
// one point, an optional exponent) and nothing else.
func plainDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, point := 0, false
	for ; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !point {
			point = true
		} else {
			break
		}
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func fieldsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ";")
}

func iteratePrefix(txn *badger.Txn, prefix string, fn func(k, v []byte) error) error {
	o := badger.DefaultIteratorOptions
	o.Prefix = []byte(prefix)
	it := txn.NewIterator(o)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
	}
	return nil
}

// jsonStream writes one JSON object incrementally (arrays element by element,
// so an export of millions of events never sits in memory).
type jsonStream struct {
	w     io.Writer
	err   error
	first bool // no field written yet
	n     int  // elements in the open array
	began bool
}

func (j *jsonStream) raw(s string) {
	if j.err == nil {
		_, j.err = io.WriteString(j.w, s)
	}
}

func (j *jsonStream) key(k string) {
	if j.began {
		j.raw(",\n")
	}
	j.began = true
	b, _ := json.Marshal(k)
	j.raw("  " + string(b) + ": ")
}

func (j *jsonStream) field(k string, v any) {
	j.key(k)
	b, err := json.Marshal(v)
	if err != nil && j.err == nil {
		j.err = err
	}
	j.raw(string(b))
}

func (j *jsonStream) open(k string) {
	j.key(k)
	j.raw("[")
	j.n = 0
}

func (j *jsonStream) elem(v any) {
	if j.n > 0 {
		j.raw(",")
	}
	j.n++
	j.raw("\n    ")
	b, err := json.Marshal(v)
	if err != nil && j.err == nil {
		j.err = err
	}
	j.raw(string(b))
}

func (j *jsonStream) close() { j.raw("\n  ]") }
