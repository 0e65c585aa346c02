package syncsvc

import (
	"time"

	"atelier/localdb"
)

// outbox is the set of projects with changes waiting for a sync run. An
// entry is a pending flag keyed "PROJECT/PATH" (or "PROJECT/" for "all the
// selection"), stamped with the time it was queued so that a run clears only
// what was queued before it read the files.
type outbox struct{ db *localdb.DB }

// outbox is the service's outbox, over the engine's database.
func (s *Service) outbox() outbox { return outbox{s.db} }

// outboxEntry is one pending flag. Entries written by older versions also
// carry "op", "path" and "size", which nothing read: decoding ignores them,
// and such an entry counts as pending like any other.
type outboxEntry struct {
	At time.Time `json:"at"`
}

var syncOutbox = localdb.NewTable[outboxEntry](syncKeys.outbox)

// outboxBatch is how many entries one transaction writes: an initial index
// of 100,000 files used to cost a commit per file.
const outboxBatch = 2000

// outboxItem is one changed path of a project ("" = the whole selection).
type outboxItem struct{ project, path string }

func (i outboxItem) key() string { return i.project + "/" + i.path }

// mark queues items as pending at time at, in batched transactions. On an
// error it returns the batch that failed (its size and first key).
func (o outbox) mark(items []outboxItem, at time.Time) (failed int, first string, err error) {
	for len(items) > 0 {
		n := min(len(items), outboxBatch)
		err := o.db.Update(func(tx *localdb.Tx) error {
			for _, it := range items[:n] {
				if err := syncOutbox.Put(tx, it.key(), outboxEntry{At: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, items[0].key(), err
		}
		items = items[n:]
	}
	return 0, "", nil
}

// pending counts the entries waiting for project.
func (o outbox) pending(project string) int {
	n := 0
	o.db.View(func(tx *localdb.Tx) error {
		return syncOutbox.Keys(tx, project+"/", func(string) error { n++; return nil })
	})
	return n
}

// clear removes project's entries queued at or before cutoff: a finished
// run's snapshot holds them. Later entries stay for the next run.
func (o outbox) clear(project string, cutoff time.Time) error {
	return o.db.Update(func(tx *localdb.Tx) error {
		var dels []string
		if err := syncOutbox.Scan(tx, project+"/", func(k string, e outboxEntry) error {
			if !e.At.After(cutoff) {
				dels = append(dels, k)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range dels {
			if err := syncOutbox.Delete(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
}
