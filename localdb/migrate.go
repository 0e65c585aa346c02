package localdb

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/dgraph-io/badger/v4"
)

const schemaKey = "meta/schema/"

// Migration moves one area's tables from Version-1 to Version.
type Migration struct {
	Version int
	Name    string
	Apply   func(tx *Tx) error
}

// SchemaVersion returns the recorded schema version of area (0 when new).
func (db *DB) SchemaVersion(area string) (int, error) {
	v := 0
	err := db.View(func(tx *Tx) error {
		it, err := tx.t.Get([]byte(schemaKey + area))
		if err == badger.ErrKeyNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error {
			v, err = strconv.Atoi(string(b))
			return err
		})
	})
	return v, err
}

// Migrate applies, in order and each in its own transaction, the migrations of
// area newer than its recorded version. A database written by a newer Atelier
// (a version above the highest known) is refused rather than misread.
func (db *DB) Migrate(area string, ms []Migration) error {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	cur, err := db.SchemaVersion(area)
	if err != nil {
		return fmt.Errorf("read schema version of %s: %w", area, err)
	}
	if n := len(ms); n > 0 && cur > ms[n-1].Version {
		return fmt.Errorf("%s data is schema version %d, newer than this Atelier understands (%d): update Atelier", area, cur, ms[n-1].Version)
	}
	for _, m := range ms {
		if m.Version <= cur {
			continue
		}
		err := db.Update(func(tx *Tx) error {
			if m.Apply != nil {
				if err := m.Apply(tx); err != nil {
					return err
				}
			}
			return tx.t.Set([]byte(schemaKey+area), []byte(strconv.Itoa(m.Version)))
		})
		if err != nil {
			return fmt.Errorf("migrate %s to version %d (%s): %w", area, m.Version, m.Name, err)
		}
		db.log.Info("schema migrated", "area", area, "version", m.Version, "name", m.Name)
	}
	return nil
}
