package privacy

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"atelier/app/apierr"
	"atelier/localdb"
	"atelier/progress"
)

// AudienceMapping says how a CSV file's columns map to audience statistics.
//
// Platform "auto" (or "") recognises the exports below by their header row;
// "generic" uses the columns named in Date, Item, PlatformColumn and Metrics.
// A named platform can be combined with overrides (Metrics adds or replaces
// columns). Headers match case-insensitively, ignoring surrounding spaces.
//
//	platform    date column              item column                      metrics (column -> metric)
//	spotify     date                     song | track | track name        streams, listeners, saves, followers
//	apple       date                     song | song name | name | title  plays, listeners, shazams, purchases -> sales
//	youtube     date | day               content | video title | video    views, watch time (hours) -> watch_hours,
//	                                                                       subscribers, estimated revenue (usd) -> revenue
//	bandcamp    date                     item name | item | title          quantity -> sales, net amount | item total -> revenue
//	soundcloud  date | day               track title | track | title      plays, likes, reposts, comments, downloads
//	distrokid   reporting date | sale month  title | song                 quantity -> streams, earnings (usd) -> revenue;
//	                                                                       store column -> platform
//
// Files are UTF-8 (a byte-order mark is fine) or UTF-16 with a byte-order
// mark; the delimiter (comma, semicolon or tab) is detected from the header.
// Dates are YYYY-MM-DD, YYYY-MM (a whole month, counted on its first day),
// RFC 3339, "Jan 2, 2006", "2 Jan 2006", or with DateFormat "DD/MM/YYYY",
// "MM/DD/YYYY" (slashed dates are refused without it: they are ambiguous).
// Numbers may carry a currency sign and thousands separators; only revenue
// may be negative (refunds).
type AudienceMapping struct {
	Platform       string            `json:"platform"`
	Date           string            `json:"date,omitempty"`
	Item           string            `json:"item,omitempty"`
	PlatformColumn string            `json:"platformColumn,omitempty"`
	Metrics        map[string]string `json:"metrics,omitempty"`
	DateFormat     string            `json:"dateFormat,omitempty"`
}

type preset struct {
	name     string
	date     []string
	item     []string
	platform []string
	metrics  [][2]string // header, metric; the first header found per metric wins
}

var presets = []preset{
	{name: "distrokid", date: []string{"reporting date", "sale month"}, item: []string{"title", "song"}, platform: []string{"store"},
		metrics: [][2]string{{"quantity", "streams"}, {"earnings (usd)", "revenue"}}},
	{name: "bandcamp", date: []string{"date"}, item: []string{"item name", "item", "title"},
		metrics: [][2]string{{"quantity", "sales"}, {"net amount", "revenue"}, {"item total", "revenue"}}},
	{name: "youtube", date: []string{"date", "day"}, item: []string{"content", "video title", "video"},
		metrics: [][2]string{{"views", "views"}, {"watch time (hours)", "watch_hours"}, {"subscribers", "subscribers"}, {"estimated revenue (usd)", "revenue"}}},
	{name: "apple", date: []string{"date"}, item: []string{"song", "song name", "name", "title"},
		metrics: [][2]string{{"plays", "plays"}, {"listeners", "listeners"}, {"shazams", "shazams"}, {"purchases", "sales"}}},
	{name: "soundcloud", date: []string{"date", "day"}, item: []string{"track title", "track", "title"},
		metrics: [][2]string{{"plays", "plays"}, {"likes", "likes"}, {"reposts", "reposts"}, {"comments", "comments"}, {"downloads", "downloads"}}},
	{name: "spotify", date: []string{"date"}, item: []string{"song", "track", "track name"},
		metrics: [][2]string{{"streams", "streams"}, {"listeners", "listeners"}, {"saves", "saves"}, {"followers", "followers"}}},
}

// AudiencePlatforms lists the platforms with a built-in mapping.
func AudiencePlatforms() []string {
	out := []string{"auto", "generic"}
	for _, p := range presets {
		out = append(out, p.name)
	}
	sort.Strings(out[2:])
	return out
}

// RowError is one rejected row.
type RowError struct {
	Row    int    `json:"row"` // 1 is the header
	Column string `json:"column,omitempty"`
	Error  string `json:"error"`
}

// ImportResult reports an audience import. Either every row was imported, or
// none (OK false, with the errors per row).
type ImportResult struct {
	ID          string     `json:"id"`
	File        string     `json:"file"`
	SHA256      string     `json:"sha256"`
	Platform    string     `json:"platform"`
	Metrics     []string   `json:"metrics"`
	Rows        int64      `json:"rows"`      // data rows read
	Values      int64      `json:"values"`    // values imported (a row has one per metric)
	New         int64      `json:"new"`       // values not seen before
	Updated     int64      `json:"updated"`   // values replacing a different earlier value
	Unchanged   int64      `json:"unchanged"` // values already imported with the same value
	From        string     `json:"from,omitempty"`
	To          string     `json:"to,omitempty"`
	OK          bool       `json:"ok"`
	Duplicate   bool       `json:"duplicate"` // the same file was imported before: nothing changed
	Errors      []RowError `json:"errors,omitempty"`
	ErrorRows   int64      `json:"errorRows"` // rows with errors (Errors holds the first MaxRowErrors)
	Time        time.Time  `json:"time"`
	State       string     `json:"state"`
	Blocks      int        `json:"blocks,omitempty"`      // staged blocks
	CursorBlock int        `json:"cursorBlock,omitempty"` // where an interrupted apply resumes
	CursorValue int        `json:"cursorValue,omitempty"`
}

// MaxRowErrors caps the row errors an import reports.
const MaxRowErrors = 100

const (
	audPrefix   = "priv/aud/"
	audRows     = audPrefix + "row/"
	audStage    = audPrefix + "stage/"
	stateStage  = "staging"
	stateApply  = "applying"
	stateDone   = "imported"
	maxItemLen  = 200
	maxFileSize = 4 << 30
)

var audImports = localdb.NewTable[ImportResult](audPrefix + "imp/")

// ImportAudience imports a platform CSV export from path under audience.import.
// The file is streamed; every row is checked; rows are staged and applied only
// when the whole file is valid, so a file is imported entirely or not at all
// (also across a crash: an interrupted import is finished or discarded at the
// next start). Importing the same values again changes nothing: values are
// keyed by metric, day, platform and item, and a newer export replaces them.
func (s *Store) ImportAudience(ctx context.Context, path string, m AudienceMapping, report progress.Func) (ImportResult, error) {
	res := ImportResult{File: filepath.Base(path), Time: s.now()}
	if !s.Granted(AudienceImport) {
		return res, apierr.WithUI(apierr.Errorf(apierr.NeedsConsent, "import %s: audience statistics are not granted; grant them first (`atelier consent grant audience.import`)", res.File),
			fmt.Sprintf("%s was not imported: audience statistics are not granted. Grant “Audience statistics” first.", res.File))
	}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("import %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("import %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxFileSize {
		return res, fmt.Errorf("import %s: not a regular file of at most 4 GiB", path)
	}
	return s.importReader(ctx, f, fi.Size(), res, m, report)
}

// countingReader counts bytes for progress and hashes them.
type countingReader struct {
	r   io.Reader
	n   int64
	h   io.Writer
	ctx context.Context
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	return n, err
}

// Staged values: the file's values in blocks of stageBlockLen, in file order,
// under priv/aud/stage/<import>/<block number>.
const (
	stageBlockLen = 4096
	applyChunkLen = 4096 // values per transaction when applying (halved while too big)
	importTagLen  = 6    // import id stored after each value
)

// recoverImports finishes imports interrupted while applying and discards
// those interrupted while staging.
func (s *Store) recoverImports() error {
	var pending []ImportResult
	err := s.db.View(func(tx *localdb.Tx) error {
		return audImports.Scan(tx, "", func(_ string, x ImportResult) error {
			if x.State != stateDone {
				pending = append(pending, x)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read audience imports: %w", err)
	}
	for _, x := range pending {
		if x.State == stateApply && s.Granted(AudienceImport) {
			s.log.Info("finishing an interrupted audience import", "import", x.ID, "file", x.File)
			if err := s.applyImport(&x); err != nil {
				return fmt.Errorf("finish the interrupted import of %s: %w", x.File, err)
			}
			continue
		}
		s.log.Info("discarding an unfinished audience import", "import", x.ID, "file", x.File)
		if err := s.db.DropPrefix(audStage + x.ID + "/"); err != nil {
			return err
		}
		if err := s.db.Update(func(tx *localdb.Tx) error { return audImports.Delete(tx, x.ID) }); err != nil {
			return err
		}
	}
	return nil
}

// Imports lists completed audience imports, newest first.
func (s *Store) Imports() ([]ImportResult, error) {
	var out []ImportResult
	err := s.db.View(func(tx *localdb.Tx) error {
		return audImports.Scan(tx, "", func(_ string, x ImportResult) error {
			if x.State == stateDone {
				out = append(out, x)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, err
}
