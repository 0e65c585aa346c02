package privacy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
	"unicode"

	"atelier/atomicfile"
	"atelier/localdb"
)

// Decisions recorded in the ledger.
const (
	DecisionGrant    = "grant"
	DecisionDeny     = "deny"
	DecisionWithdraw = "withdraw"
	DecisionErase    = "erase" // data erased (purpose "*" for everything); consent unchanged
	// DecisionReset is written when the ledger failed its check at start:
	// decisions before it no longer count, every purpose is off.
	DecisionReset = "reset"
)

// LedgerRecord is one consent decision. Records form a hash chain: Hash is the
// SHA-256 of the previous record's hash and this record's other fields, so an
// edited, removed or reordered record breaks the chain.
type LedgerRecord struct {
	Seq           uint64    `json:"seq"`
	Time          time.Time `json:"time"`
	Purpose       string    `json:"purpose"`
	Decision      string    `json:"decision"`
	PolicyVersion string    `json:"policyVersion"`
	PolicySHA256  string    `json:"policySha256"`
	Where         string    `json:"where"` // where the creator was asked: "settings", "cli", "onboarding"...
	How           string    `json:"how"`   // how: "toggle", "command", ...
	AppVersion    string    `json:"appVersion"`
	Erased        bool      `json:"erased,omitempty"` // a withdrawal that also erased the data
	Prev          string    `json:"prev"`
	Hash          string    `json:"hash,omitempty"`
}

var (
	ledgerTable = localdb.NewTable[LedgerRecord]("priv/ledger/")
	headTable   = localdb.NewTable[ledgerHead]("priv/meta/")
)

const headKey = "ledgerhead"

// ledgerHead anchors the end of the chain, so removing the newest records is
// detected too.
type ledgerHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`

	unreadable string // set by readAnchor for a file it could not parse
}

func ledgerKey(seq uint64) string { return fmt.Sprintf("%016x", seq) }

// computeHash is the chain hash of r (its Hash field ignored).
func computeHash(r LedgerRecord) string {
	r.Hash = ""
	r.Time = r.Time.UTC()
	b, _ := json.Marshal(r)
	h := sha256.New()
	h.Write([]byte(r.Prev))
	h.Write([]byte{'\n'})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyResult is the outcome of a chain check.
type VerifyResult struct {
	OK      bool   `json:"ok"`
	Records int    `json:"records"`
	Head    string `json:"head"`              // hash of the last record
	BadSeq  uint64 `json:"badSeq,omitempty"`  // first record that failed
	Problem string `json:"problem,omitempty"` // what failed and what to do
}

// ErrLedgerBroken means the ledger failed its chain check.
var ErrLedgerBroken = errors.New("consent ledger failed its integrity check")

// verifyLedger checks every record. lastBad is the sequence of the last record
// that failed (0 when none did): decisions after it were appended to the
// chain as it stood and still count.
//
// anchor, when not nil, is the head kept outside the database (Config.HeadFile):
// a ledger that ends before it, or disagrees with it, lost or replaced records
// even if what is left is a valid chain (a database wiped or restored from an
// older copy).
func verifyLedger(tx *localdb.Tx, anchor *ledgerHead, anchorName string) (res VerifyResult, recs []LedgerRecord, lastBad uint64, err error) {
	res = VerifyResult{OK: true}
	prev := ""
	want := uint64(1)
	fail := func(seq uint64, f string, a ...any) {
		if seq > lastBad {
			lastBad = seq
		}
		if res.OK {
			res.OK = false
			res.BadSeq = seq
			res.Problem = fmt.Sprintf(f, a...) + ". The ledger was changed outside Atelier: restore it from a backup (`atelier db restore`), or keep it as evidence; decisions made before this point no longer count, so review your choices again"
		}
	}
	err = ledgerTable.Scan(tx, "", func(k string, r LedgerRecord) error {
		recs = append(recs, r)
		ks, perr := strconv.ParseUint(k, 16, 64)
		switch {
		case perr == nil && ks == r.Seq && r.Decision == DecisionReset && computeHash(r) == r.Hash:
			// Atelier found damage before this record and said so: the chain
			// restarts here, and the ledger still reports the damage.
			if res.OK {
				res.OK = false
				res.BadSeq = r.Seq
				res.Problem = fmt.Sprintf("the ledger was found damaged on %s (%s); decisions before record %d no longer count. Restore a backup (`atelier db restore`) to recover the full history", r.Time.Format("2006-01-02 15:04"), r.How, r.Seq)
			}
		case perr != nil || ks != r.Seq:
			fail(max(ks, r.Seq), "record under key %s claims sequence %d (records were moved or reordered)", k, r.Seq)
		case r.Seq != want:
			fail(r.Seq, "record %d is missing (found %d next): a record was removed", want, r.Seq)
		case r.Prev != prev:
			fail(r.Seq, "record %d does not follow record %d (records were removed or reordered)", r.Seq, r.Seq-1)
		case computeHash(r) != r.Hash:
			fail(r.Seq, "record %d was edited (its hash does not match its content)", r.Seq)
		}
		prev = r.Hash
		want = r.Seq + 1
		return nil
	})
	if err != nil {
		return res, recs, lastBad, fmt.Errorf("read the consent ledger: %w", err)
	}
	res.Records = len(recs)
	res.Head = prev
	h, ok, err := headTable.Get(tx, headKey)
	if err != nil {
		return res, recs, lastBad, fmt.Errorf("read the consent ledger head: %w", err)
	}
	var last uint64
	if len(recs) > 0 {
		last = recs[len(recs)-1].Seq
	}
	switch {
	case !ok && len(recs) > 0:
		fail(last, "the ledger head is missing")
	case ok && (h.Seq != last || h.Hash != prev):
		fail(max(last, h.Seq), "the ledger ends at record %d but its head says %d (the newest records were removed or replaced)", last, h.Seq)
	}
	if anchor != nil {
		var at *LedgerRecord
		for i := range recs {
			if recs[i].Seq == anchor.Seq {
				at = &recs[i]
			}
		}
		switch {
		case anchor.unreadable != "":
			fail(last, "%s, the ledger head kept beside the database, is unreadable (%s)", anchorName, anchor.unreadable)
		case anchor.Seq > last:
			fail(anchor.Seq, "the ledger ends at record %d but %s, kept beside the database, says it reached record %d: records were lost (the database was wiped, replaced or restored from an older copy)", last, anchorName, anchor.Seq)
		case anchor.Seq > 0 && (at == nil || at.Hash != anchor.Hash):
			fail(anchor.Seq, "record %d differs from the one %s, kept beside the database, names: the ledger was replaced", anchor.Seq, anchorName)
		}
	}
	return res, recs, lastBad, nil
}

// readAnchor reads the ledger head kept outside the database (nil: no file yet).
func readAnchor(path string) (*ledgerHead, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the consent ledger head %s: %w", path, err)
	}
	var h ledgerHead
	if err := json.Unmarshal(b, &h); err != nil {
		return &ledgerHead{unreadable: err.Error()}, nil
	}
	if h.Seq > 0 && len(h.Hash) != 64 {
		return &ledgerHead{unreadable: "no valid hash"}, nil
	}
	return &h, nil
}

// writeAnchor records the head outside the database, fsynced.
func writeAnchor(path string, h ledgerHead) error {
	if path == "" {
		return nil
	}
	b, _ := json.Marshal(h)
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

// cleanLabel checks a short "where"/"how" label: no free text beyond a short
// printable word or two.
func cleanLabel(what, s, def string) (string, error) {
	if s == "" {
		return def, nil
	}
	if len(s) > 64 {
		return "", fmt.Errorf("%s %q is too long: use a short label such as \"settings\" (at most 64 characters)", what, s[:20]+"…")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return "", fmt.Errorf("%s %q has control characters: use a short label such as \"settings\"", what, s)
		}
	}
	return s, nil
}
