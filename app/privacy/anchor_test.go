package privacy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"atelier/localdb"
)

// openAnchored opens a store on dir/db with its ledger head in dir/head.json.
func openAnchored(t *testing.T, dir string) (*Store, *localdb.DB) {
	t.Helper()
	db, err := localdb.Open(filepath.Join(dir, "db"), localdb.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(db, Config{AppVersion: "test", Logger: quiet, HeadFile: filepath.Join(dir, "head.json")})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return st, db
}

// The ledger's head is also kept outside the database: deleting the newest
// records together with the in-database head, or replacing the whole
// database with an empty one, is detected (it used to verify as "OK").
func TestLedgerHeadOutsideDatabase(t *testing.T) {
	for name, damage := range map[string]func(t *testing.T, dir string, db *localdb.DB){
		"newest records and in-db head removed": func(t *testing.T, dir string, db *localdb.DB) {
			rawLedger(t, db, func(tx *localdb.Tx) error {
				for _, seq := range []uint64{2, 3} {
					if err := ledgerTable.Delete(tx, ledgerKey(seq)); err != nil {
						return err
					}
				}
				h, _, _ := ledgerTable.Get(tx, ledgerKey(1))
				return headTable.Put(tx, headKey, ledgerHead{Seq: 1, Hash: h.Hash})
			})
		},
		"database replaced by an empty one": func(t *testing.T, dir string, db *localdb.DB) {
			db.Close()
			if err := os.RemoveAll(filepath.Join(dir, "db")); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			st, db := openAnchored(t, dir)
			for _, d := range []Decision{
				{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "onboarding"},
				{Purpose: SyncCloud, Kind: DecisionGrant, Where: "settings"},
				{Purpose: Experiments, Kind: DecisionDeny, Where: "onboarding"},
			} {
				if _, err := st.Decide(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
			if v, err := st.Verify(); err != nil || !v.OK || v.Records != 3 {
				t.Fatalf("before: %+v %v", v, err)
			}
			st.Flush()
			damage(t, dir, db)
			db.Close()
			st, db = openAnchored(t, dir)
			defer db.Close()
			v, err := st.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || !strings.Contains(v.Problem, "head.json") && !strings.Contains(v.Problem, "records were lost") {
				t.Fatalf("damage not detected: %+v", v)
			}
			if st.Granted(AnalyticsLocal) || st.Granted(SyncCloud) {
				t.Fatal("consent still counts after the ledger lost records")
			}
		})
	}
}

// A store opened on an existing ledger without a head file writes one; a
// sound ledger and its file agree after every decision.
func TestLedgerHeadFileKeptCurrent(t *testing.T) {
	dir := t.TempDir()
	st, db := openAnchored(t, dir)
	st.Decide(context.Background(), Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "onboarding"})
	db.Close()
	os.Remove(filepath.Join(dir, "head.json"))
	st, db = openAnchored(t, dir)
	defer db.Close()
	h, err := readAnchor(filepath.Join(dir, "head.json"))
	if err != nil || h == nil || h.Seq != 1 {
		t.Fatalf("head file after reopening: %+v %v", h, err)
	}
	st.Decide(context.Background(), Decision{Purpose: SyncCloud, Kind: DecisionGrant, Where: "settings"})
	if h, _ := readAnchor(filepath.Join(dir, "head.json")); h == nil || h.Seq != 2 {
		t.Fatalf("head file after a decision: %+v", h)
	}
	if v, err := st.Verify(); err != nil || !v.OK {
		t.Fatalf("verify: %+v %v", v, err)
	}
}
