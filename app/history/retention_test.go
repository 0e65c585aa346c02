package history_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"atelier/app/history"
)

// TestPruneRetention: 40 days of versions every 8 hours, pruned by the
// staggered retention: milestones, the latest version of every file and
// the last content of a deleted file stay; every version still listed
// reads back exactly; an unchanged file's only version survives the
// pruning of the point that took it.
func TestPruneRetention(t *testing.T) {
	clk := &clock{t: time.Now().Add(-40 * 24 * time.Hour)}
	e := openEnv(t, t.TempDir(), t.TempDir(), t.TempDir(), clk)
	e.save(t, "stable.txt", "stable")
	e.save(t, "gone.txt", "last words")
	e.save(t, "mix.wav", "mix 0")
	e.settle(t)
	e.remove(t, "gone.txt")
	e.settle(t)
	for i := 1; i < 120; i++ {
		clk.Add(8 * time.Hour)
		e.save(t, "mix.wav", fmt.Sprintf("mix %d", i))
		e.settle(t)
		if i == 10 {
			if _, err := e.h.Milestone("song", "first master", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	before, _ := e.h.Timeline("song")
	rep, err := e.h.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.h.Timeline("song")
	if rep.Removed == 0 || len(after) != len(before)-rep.Removed {
		t.Fatalf("prune: %+v; %d points before, %d after", rep, len(before), len(after))
	}
	now := clk.Now()
	days, weeks := map[string]int{}, map[string]int{}
	milestone := false
	for _, s := range after {
		if len(s.Milestones) > 0 {
			milestone = true
			continue
		}
		age := now.Sub(s.Time)
		switch {
		case age < 7*24*time.Hour:
		case age < 30*24*time.Hour:
			days[s.Time.Local().Format("2006-01-02")]++
		default:
			y, w := s.Time.Local().ISOWeek()
			weeks[fmt.Sprint(y, w)]++
		}
	}
	if !milestone {
		t.Fatal("the milestone was pruned")
	}
	for d, n := range days {
		if n > 1 {
			t.Fatalf("%d points kept on %s (one a day between a week and a month)", n, d)
		}
	}
	for w, n := range weeks {
		if n > 2 { // the point holding the deleted file's last content may share a week
			t.Fatalf("%d points kept in week %s", n, w)
		}
	}
	if got := e.versionContent(t, "mix.wav", ""); got != "mix 119" {
		t.Fatalf("latest: %q", got)
	}
	if got := e.versionContent(t, "mix.wav", "first master"); got != "mix 10" {
		t.Fatalf("milestone version: %q", got)
	}
	if got := contents(t, e, "stable.txt"); strings.Join(got, "|") != "stable" {
		t.Fatalf("the unchanged file: %q", got)
	}
	mix := contents(t, e, "mix.wav") // reads every listed version
	if len(mix) >= 120 || len(mix) < 20 {
		t.Fatalf("%d versions of mix.wav left", len(mix))
	}
	if _, err := e.h.Restore(ctx, "song", "gone.txt", ""); err != nil || e.read(t, "gone.txt") != "last words" {
		t.Fatalf("deleted file after prune: %v", err)
	}
	if vr, err := e.h.Vault().Verify(ctx, nil, nil); err != nil || len(vr.Problems) > 0 {
		t.Fatalf("verify: %+v %v", vr, err)
	}
}

// TestBudgetCap: over its size cap, prune removes the oldest versions
// until history fits, never a milestone or the latest version.
func TestBudgetCap(t *testing.T) {
	e := newEnv(t)
	r := rand.New(rand.NewPCG(1, 2))
	var last string
	for i := 0; i < 20; i++ {
		b := make([]byte, 256<<10)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		last = string(b)
		e.save(t, "big.bin", last)
		e.settle(t)
		if i == 3 {
			e.h.Milestone("song", "keeper", "")
		}
	}
	keeper := e.versionContent(t, "big.bin", "keeper")
	if err := e.h.SetBudget(history.Budget{CapBytes: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	bi, _ := e.h.BudgetInfo()
	if bi.UsedBytes < 5<<20 || bi.CapBytes != 2<<20 || len(bi.Projects) != 1 || bi.Projects[0].Versions != 20 {
		t.Fatalf("budget before: %+v", bi)
	}
	rep, err := e.h.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OverBudget || rep.UsedBytes > 2<<20 || rep.Removed == 0 {
		t.Fatalf("prune to the cap: %+v", rep)
	}
	if e.versionContent(t, "big.bin", "") != last || e.versionContent(t, "big.bin", "keeper") != keeper {
		t.Fatal("the latest or the milestone version was lost")
	}
	contents(t, e, "big.bin")
	// A cap below what must stay: over budget, with a notice.
	e.h.SetBudget(history.Budget{CapBytes: 100 << 10})
	rep, err = e.h.Prune(ctx)
	if err != nil || !rep.OverBudget {
		t.Fatalf("impossible cap: %+v %v", rep, err)
	}
	if !strings.Contains(e.notes.kinds(), "budget") {
		t.Fatalf("no budget notice: %s", e.notes.kinds())
	}
	if e.versionContent(t, "big.bin", "") != last || e.versionContent(t, "big.bin", "keeper") != keeper {
		t.Fatal("the latest or the milestone version was lost")
	}
}
