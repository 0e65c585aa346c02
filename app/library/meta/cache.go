package meta

import (
	"time"

	"atelier/localdb"
)

// Entry is the metadata of one content hash as the cache keeps it: read once
// per content (copies and renames share it), again when Version changes.
type Entry struct {
	Version int       `json:"version"`
	Meta    Meta      `json:"meta"`
	Error   string    `json:"error,omitempty"` // why nothing could be read
	ReadAt  time.Time `json:"readAt"`
	ReadMs  int64     `json:"readMs"`
}

var cacheTable = localdb.NewTable[Entry]("lib/meta/") // <sha256 hex>

// Cache keeps metadata by content hash in localdb (covers are not kept:
// they go to the thumbnail).
type Cache struct{ db *localdb.DB }

// NewCache returns the cache over db.
func NewCache(db *localdb.DB) *Cache { return &Cache{db: db} }

// Get returns the entry of hash when it was read by this Version.
func (c *Cache) Get(hash string) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := c.db.View(func(tx *localdb.Tx) error {
		var err error
		e, ok, err = cacheTable.Get(tx, hash)
		return err
	})
	if ok && e.Version != Version {
		return Entry{}, false, err
	}
	return e, ok, err
}

// Extract reads the file at path (whose content has hash) unless the cache
// has it, and stores the result. The cover comes back only when read now.
func (c *Cache) Extract(hash, path string) (Entry, error) {
	if e, ok, err := c.Get(hash); err != nil || ok {
		return e, err
	}
	t0 := time.Now()
	m, err := ReadFile(path)
	e := Entry{Version: Version, Meta: m, ReadAt: time.Now().UTC(), ReadMs: time.Since(t0).Milliseconds()}
	if err == ErrUnsupported {
		err = nil
	}
	if err != nil {
		e.Error = err.Error()
	}
	stored := e
	stored.Meta.Cover = nil
	if perr := c.db.Update(func(tx *localdb.Tx) error { return cacheTable.Put(tx, hash, stored) }); perr != nil {
		return e, perr
	}
	return e, nil
}

// Forget drops the entries whose hash live reports false (content no
// project holds any more), and those of older versions. It returns how many.
func (c *Cache) Forget(live func(hash string) bool) (int, error) {
	var drop []string
	err := c.db.View(func(tx *localdb.Tx) error {
		return cacheTable.Scan(tx, "", func(h string, e Entry) error {
			if !live(h) || e.Version != Version {
				drop = append(drop, h)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	total := len(drop)
	for len(drop) > 0 {
		n := min(len(drop), 500)
		part := drop[:n]
		drop = drop[n:]
		if err := c.db.Update(func(tx *localdb.Tx) error {
			for _, h := range part {
				if err := cacheTable.Delete(tx, h); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return total - len(drop) - n, err
		}
	}
	return total, nil
}

// Each calls fn for every entry of this Version (to fill the Library's view
// at start).
func (c *Cache) Each(fn func(hash string, e Entry)) error {
	return c.db.View(func(tx *localdb.Tx) error {
		return cacheTable.Scan(tx, "", func(h string, e Entry) error {
			if e.Version == Version {
				fn(h, e)
			}
			return nil
		})
	})
}
