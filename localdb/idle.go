package localdb

import "github.com/dgraph-io/badger/v4"

// QuietBackground is the one place that tunes Badger's background loops for
// an engine that mostly idles in the tray (issue 16: idle CPU near zero).
//
// Metrics off: no cache monitor waking every minute (it also logged a
// "Cache life expectancy" warning each time) and no counters on every read.
// What remains is Badger's own: its compactors look for work every 50 ms
// (hard-coded in badger v4.9; at least 2 unless compaction is off, which
// would stall writes), about 0.07% of a core in the idle profile.
func QuietBackground(o badger.Options) badger.Options {
	return o.WithMetricsEnabled(false)
}
