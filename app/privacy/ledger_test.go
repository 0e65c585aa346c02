package privacy

import (
	"context"
	"strings"
	"testing"

	"atelier/localdb"
)

func ledgerWith(t *testing.T) (*Store, *localdb.DB, string) {
	t.Helper()
	dir := t.TempDir()
	st, db := openStore(t, dir)
	ctx := context.Background()
	for _, d := range []Decision{
		{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "onboarding"},
		{Purpose: SyncCloud, Kind: DecisionGrant, Where: "settings"},
		{Purpose: Experiments, Kind: DecisionDeny, Where: "onboarding"},
		{Purpose: AnalyticsLocal, Kind: DecisionWithdraw, Where: "settings"},
		{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: "settings"},
	} {
		if _, err := st.Decide(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return st, db, dir
}

func rawLedger(t *testing.T, db *localdb.DB, fn func(tx *localdb.Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// TestLedgerDetectsTampering: an edited, removed, reordered or truncated
// ledger fails verification, and after reopening nothing counts as granted.
func TestLedgerDetectsTampering(t *testing.T) {
	cases := map[string]func(tx *localdb.Tx) error{
		"edited": func(tx *localdb.Tx) error {
			r, _, _ := ledgerTable.Get(tx, ledgerKey(3))
			r.Decision = DecisionGrant
			return ledgerTable.Put(tx, ledgerKey(3), r)
		},
		"edited and rehashed": func(tx *localdb.Tx) error {
			r, _, _ := ledgerTable.Get(tx, ledgerKey(3))
			r.Decision = DecisionGrant
			r.Hash = computeHash(r)
			return ledgerTable.Put(tx, ledgerKey(3), r)
		},
		"removed": func(tx *localdb.Tx) error { return ledgerTable.Delete(tx, ledgerKey(2)) },
		"removed last": func(tx *localdb.Tx) error {
			return ledgerTable.Delete(tx, ledgerKey(5))
		},
		"reordered": func(tx *localdb.Tx) error {
			a, _, _ := ledgerTable.Get(tx, ledgerKey(2))
			b, _, _ := ledgerTable.Get(tx, ledgerKey(3))
			ledgerTable.Put(tx, ledgerKey(2), b)
			return ledgerTable.Put(tx, ledgerKey(3), a)
		},
		"reordered with sequence rewritten": func(tx *localdb.Tx) error {
			a, _, _ := ledgerTable.Get(tx, ledgerKey(2))
			b, _, _ := ledgerTable.Get(tx, ledgerKey(3))
			a.Seq, b.Seq = 3, 2
			ledgerTable.Put(tx, ledgerKey(2), b)
			return ledgerTable.Put(tx, ledgerKey(3), a)
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			st, db, dir := ledgerWith(t)
			if v, err := st.Verify(); err != nil || !v.OK || v.Records != 5 {
				t.Fatalf("before tampering: %+v %v", v, err)
			}
			rawLedger(t, db, tamper)
			v, err := st.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.Problem == "" {
				t.Fatalf("tampering not detected: %+v", v)
			}
			st, db = reopen(t, db, dir)
			if st.Granted(AnalyticsLocal) || st.Granted(SyncCloud) {
				t.Fatal("a tampered ledger still grants purposes")
			}
			if !strings.Contains(st.LedgerProblem(), "restore") {
				t.Fatalf("problem %q does not say what to do", st.LedgerProblem())
			}
		})
	}
}

func TestLedgerRecordsEverything(t *testing.T) {
	st, db, _ := ledgerWith(t)
	defer db.Close()
	h, err := st.History(AnalyticsLocal)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("history of analytics.local has %d records", len(h))
	}
	p, _ := Lookup(AnalyticsLocal)
	for _, r := range h {
		if r.PolicySHA256 != p.SHA256 || r.PolicyVersion != PolicyVersion || r.AppVersion != "test" || r.Where == "" || r.How == "" || r.Time.IsZero() {
			t.Fatalf("incomplete record %+v", r)
		}
	}
	if !st.Granted(AnalyticsLocal) || !st.Granted(SyncCloud) || st.Granted(Experiments) {
		t.Fatal("state does not follow the ledger")
	}
	states, _ := st.States()
	for _, s := range states {
		if s.Name == Experiments && s.Decision != DecisionDeny {
			t.Fatalf("experiments state %+v", s)
		}
	}
	if _, err := st.Decide(context.Background(), Decision{Purpose: AnalyticsLocal, Kind: "maybe"}); err == nil {
		t.Fatal("unknown decision accepted")
	}
	if _, err := st.Decide(context.Background(), Decision{Purpose: AnalyticsLocal, Kind: DecisionGrant, Where: strings.Repeat("x", 100)}); err == nil {
		t.Fatal("free text accepted as where")
	}
}

func TestLedgerDecisionsAfterDamageCount(t *testing.T) {
	st, db, dir := ledgerWith(t)
	rawLedger(t, db, func(tx *localdb.Tx) error { return ledgerTable.Delete(tx, ledgerKey(5)) })
	st, db = reopen(t, db, dir)
	if st.Granted(SyncCloud) {
		t.Fatal("grant before the damage still counts")
	}
	if _, err := st.Decide(context.Background(), Decision{Purpose: SyncCloud, Kind: DecisionGrant, Where: "settings"}); err != nil {
		t.Fatal(err)
	}
	if !st.Granted(SyncCloud) {
		t.Fatal("a new grant after the damage does not count")
	}
	if err := st.replay(); err != nil {
		t.Fatal(err)
	}
	if !st.Granted(SyncCloud) || st.Granted(AnalyticsLocal) {
		t.Fatal("replay after the damage is wrong")
	}
	if v, _ := st.Verify(); v.OK {
		t.Fatal("the damage is no longer reported")
	}
}

// TestGrantForOlderPolicyDoesNotCount: a grant given under another policy
// text is not a grant of the current one; the purpose asks for review.
func TestGrantForOlderPolicyDoesNotCount(t *testing.T) {
	st, _ := openTest(t, "")
	st.decide.Lock()
	_, err := st.appendLedger(LedgerRecord{Purpose: AnalyticsLocal, Decision: DecisionGrant, PolicyVersion: "2020-01-01", PolicySHA256: strings.Repeat("0", 64), Where: "settings", How: "toggle"})
	st.decide.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.replay(); err != nil {
		t.Fatal(err)
	}
	if st.Granted(AnalyticsLocal) {
		t.Fatal("a grant of an older policy counts")
	}
	states, _ := st.States()
	if !states[0].Stale || states[0].Granted {
		t.Fatalf("%+v", states[0])
	}
}
