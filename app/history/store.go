package history

import (
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"atelier/localdb"
)

// Keys are project 0x00 path 0x00 seq (12 digits): a prefix scan answers
// "versions of this path" in seq order without reading any snapshot.
var (
	pendingT = localdb.NewTable[pending]("history/pending/")
	verT     = localdb.NewTable[Version]("history/ver/")
	bySnapT  = localdb.NewTable[bool]("history/bysnap/") // project 0 readSeq 0 path 0 seq
	snapT    = localdb.NewTable[SnapInfo]("history/snap/")
	msT      = localdb.NewTable[Milestone]("history/milestone/")
	delT     = localdb.NewTable[Deleted]("history/deleted/")
	setT     = localdb.NewTable[Settings]("history/settings/")
	budgetT  = localdb.NewTable[Budget]("history/")
	pruneT   = localdb.NewTable[pruneIntent]("history/pruning/")
)

// pending is a change waiting for its file to settle.
type pending struct {
	Op      Op          `json:"op"`
	From    string      `json:"from,omitempty"`
	At      time.Time   `json:"at"`
	Size    int64       `json:"size"`
	ModTime time.Time   `json:"modTime"`
	Mode    fs.FileMode `json:"mode"`
	SHA256  string      `json:"sha256,omitempty"`
}

// Version is one version of a file.
type Version struct {
	Project string `json:"project"`
	// Path is the file's path now; SnapPath its path in the snapshot
	// (they differ once the file was renamed or moved).
	Path     string `json:"path"`
	SnapPath string `json:"snapPath"`
	// Seq is the project version in which this content appeared (its ID
	// in the timeline); ReadSeq and Snapshot are where it is read from (a
	// later snapshot holding the same content once its own was pruned).
	Seq      int64     `json:"seq"`
	ReadSeq  int64     `json:"readSeq"`
	Snapshot string    `json:"snapshot"`
	Time     time.Time `json:"time"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	SHA256   string    `json:"sha256,omitempty"`
	Op       Op        `json:"op"`
	// From is the previous path of a rename, or "version N" a restore
	// wrote back.
	From string `json:"from,omitempty"`
}

// Deleted is a file that is gone from the project and can be restored.
type Deleted struct {
	Project string    `json:"project"`
	Path    string    `json:"path"`
	Time    time.Time `json:"time"` // when it went
	Seq     int64     `json:"seq"`  // the version that deleted it
	// LastSeq and LastSnapshot hold its last content (never pruned).
	LastSeq      int64  `json:"lastSeq"`
	LastSnapshot string `json:"lastSnapshot"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
}

// SnapInfo is one point of a project's timeline.
type SnapInfo struct {
	Project    string    `json:"project"`
	Seq        int64     `json:"seq"`
	Snapshot   string    `json:"snapshot"`
	Time       time.Time `json:"time"`
	Files      int       `json:"files"`
	Bytes      int64     `json:"bytes"`
	Changed    []string  `json:"changed"` // paths that got a version (capped at 100)
	More       int       `json:"more,omitempty"`
	Milestones []string  `json:"milestones,omitempty"`
}

// Milestone is a named point kept until removed.
type Milestone struct {
	Project  string    `json:"project"`
	Name     string    `json:"name"`
	Seq      int64     `json:"seq"`
	Snapshot string    `json:"snapshot"`
	Time     time.Time `json:"time"`
}

// Settings are a project's history settings.
type Settings struct {
	Off bool `json:"off"` // history off for this project
}

// Budget is the size cap of local history.
type Budget struct {
	// CapBytes is the cap (0: SharePercent of the disk's free space plus
	// what history uses).
	CapBytes     int64 `json:"capBytes"`
	SharePercent int   `json:"sharePercent"`
}

// DefaultBudget is 10% of the disk the history lives on.
var DefaultBudget = Budget{SharePercent: 10}

type pruneIntent struct {
	Project string `json:"project"`
	Seq     int64  `json:"seq"`
}

func seqKey(n int64) string { return fmt.Sprintf("%012d", n) }

func pkey(project, p string) string { return project + "\x00" + p }

func vkey(project, p string, seq int64) string { return project + "\x00" + p + "\x00" + seqKey(seq) }

func bkey(project string, readSeq int64, p string, seq int64) string {
	return project + "\x00" + seqKey(readSeq) + "\x00" + p + "\x00" + seqKey(seq)
}

func skey(project string, seq int64) string { return project + "\x00" + seqKey(seq) }

// splitKey cuts a table key at its 0x00 separators.
func splitKey(k string) []string { return strings.Split(k, "\x00") }

func parseSeq(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func hexSum(s [32]byte) string {
	if s == ([32]byte{}) {
		return ""
	}
	return hex.EncodeToString(s[:])
}

func unhexSum(s string) [32]byte {
	var out [32]byte
	hex.Decode(out[:], []byte(s))
	return out
}

// putVersion stores v and its by-snapshot entry.
func putVersion(tx *localdb.Tx, v Version) error {
	if err := verT.Put(tx, vkey(v.Project, v.Path, v.Seq), v); err != nil {
		return err
	}
	return bySnapT.Put(tx, bkey(v.Project, v.ReadSeq, v.Path, v.Seq), true)
}

func deleteVersion(tx *localdb.Tx, v Version) error {
	if err := verT.Delete(tx, vkey(v.Project, v.Path, v.Seq)); err != nil {
		return err
	}
	return bySnapT.Delete(tx, bkey(v.Project, v.ReadSeq, v.Path, v.Seq))
}

// Settings reads a project's history settings.
func (h *History) Settings(project string) (Settings, error) {
	var s Settings
	err := h.o.DB.View(func(tx *localdb.Tx) error {
		var err error
		s, _, err = setT.Get(tx, project)
		return err
	})
	return s, err
}

// SetSettings stores a project's history settings; turning history off
// drops the changes waiting to settle (versions taken stay).
func (h *History) SetSettings(project string, s Settings) error {
	err := h.o.DB.Update(func(tx *localdb.Tx) error {
		if s.Off {
			var dels []string
			pendingT.Keys(tx, project+"\x00", func(k string) error { dels = append(dels, k); return nil })
			for _, k := range dels {
				if err := pendingT.Delete(tx, k); err != nil {
					return err
				}
			}
		}
		return setT.Put(tx, project, s)
	})
	if err == nil && s.Off {
		h.forget(project)
	}
	return err
}
