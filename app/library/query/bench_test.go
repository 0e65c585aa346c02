package query

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// benchFiles is the size of the Library the issue sets the goals for.
const benchFiles = 100_000

// typicalQueries are what a creator types, each with its sort.
var typicalQueries = []struct {
	q    string
	sort Sort
	desc bool
}{
	{"", SortName, false},                    // opening the Library
	{"kick", SortName, false},                // a word
	{"kind:audio rating>=3", SortDate, true}, // recent good takes
	{"kind:audio tag:vocals rating>=4 lufs>-14 duration<3m bpm:118..126 modified<7d \"night drive\"", SortLoudness, false},
	{"drive -loop bpm:118..126", SortDuration, true}, // free word, negation, range
}

func benchView(b *testing.B) *View {
	b.Helper()
	v := newTestView(sampleChanges(benchFiles))
	for i := 0; i < benchFiles; i += 9 {
		v.SetMarks("p1", v.path[i], Marks{Rating: i % 6, Tags: []string{"vocals", fmt.Sprint("t", i%40)}})
	}
	for s := range numSorts {
		v.Query(Query{}, Options{Sort: s}) // the orders, as after the first use of each
	}
	return v
}

// BenchmarkQuery reports the p50 and p99 latency of each typical query over
// 100,000 files, a first page of 200 rows (goal: p99 ≤ 10 ms).
//
//	go test -run '^$' -bench BenchmarkQuery -benchtime 200x ./app/library/query
func BenchmarkQuery(b *testing.B) {
	v := benchView(b)
	for i, tq := range typicalQueries {
		q, err := Parse(tq.q, testNow)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("q%d", i+1), func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			total := 0
			cpu0 := cpuTime()
			for b.Loop() {
				t0 := time.Now()
				p := v.Query(q, Options{Sort: tq.sort, Desc: tq.desc, Offset: 0, Limit: 200})
				lat = append(lat, time.Since(t0))
				total = p.Total
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(total), "matches")
		})
	}
}

// cpuTime is the CPU time the process used: on a busy machine, a steadier
// measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQueryAfterChange is a query right after a file changed (the order
// kept by insertion, not rebuilt).
func BenchmarkQueryAfterChange(b *testing.B) {
	v := benchView(b)
	cs := sampleChanges(200)
	q := MustParse("kind:audio")
	i := 0
	for b.Loop() {
		c := cs[i%len(cs)]
		c.Record.Size++
		c.Record.SHA256[0]++
		c.Op = "modify"
		v.Apply([]Change{c})
		v.Query(q, Options{Sort: SortSize, Limit: 200})
		i++
	}
}

// BenchmarkViewMemory reports the heap the view holds per file (100,000
// files with facts, a tenth of them with marks).
//
//	go test -run '^$' -bench BenchmarkViewMemory -benchtime 1x ./app/library/query
func BenchmarkViewMemory(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		v := benchView(b) // the changes it was built from are garbage after this
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/benchFiles, "bytes/file")
		runtime.KeepAlive(v)
	}
}
