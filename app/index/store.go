package index

import (
	"strings"

	"atelier/localdb"
)

// files holds FileRecords under idx/f/<project>/<path>.
var files = localdb.NewTableCodec[FileRecord]("idx/f/", recordCodec{})

// fileKey is the table key of a record.
func fileKey(p ProjectID, rel string) string { return string(p) + "/" + rel }

// Store reads and writes one project's records.
type Store struct {
	db      *localdb.DB
	project ProjectID
}

// NewStore returns the store of project p.
func NewStore(db *localdb.DB, p ProjectID) *Store { return &Store{db: db, project: p} }

// Get returns the record at rel.
func (s *Store) Get(rel string) (FileRecord, bool, error) {
	var r FileRecord
	var ok bool
	err := s.db.View(func(tx *localdb.Tx) error {
		var err error
		r, ok, err = files.Get(tx, fileKey(s.project, rel))
		return err
	})
	return r, ok, err
}

// All calls fn for every record of the project, in path order.
func (s *Store) All(fn func(FileRecord) error) error {
	return s.db.View(func(tx *localdb.Tx) error {
		return files.Scan(tx, string(s.project)+"/", func(_ string, r FileRecord) error { return fn(r) })
	})
}

// Under calls fn for every record at or below the directory rel ("" = all).
func (s *Store) Under(rel string, fn func(FileRecord) error) error {
	prefix := string(s.project) + "/"
	if rel != "" && rel != "." {
		prefix += strings.TrimSuffix(rel, "/") + "/"
	}
	return s.db.View(func(tx *localdb.Tx) error {
		return files.Scan(tx, prefix, func(_ string, r FileRecord) error { return fn(r) })
	})
}

// Lookup adds to into the records at each path and below it (a path may have
// been a directory), in one read transaction.
func (s *Store) Lookup(rels []string, into map[string]FileRecord) error {
	return s.db.View(func(tx *localdb.Tx) error {
		for _, rel := range rels {
			k := fileKey(s.project, rel)
			if r, ok, err := files.Get(tx, k); err != nil {
				return err
			} else if ok {
				into[rel] = r
			}
			if err := files.Scan(tx, k+"/", func(_ string, r FileRecord) error { into[r.Path] = r; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
}

// maxBatch keeps a transaction well below Badger's limit (15% of the memtable).
const maxBatch = 1000

// Apply writes the changes' records (deleting for OpDelete, and the old path of
// renames) in transactions of at most maxBatch changes.
func (s *Store) Apply(cs []Change) error {
	for len(cs) > 0 {
		n := min(len(cs), maxBatch)
		part := cs[:n]
		cs = cs[n:]
		err := s.db.Update(func(tx *localdb.Tx) error {
			for _, c := range part {
				if c.From != "" {
					if err := files.Delete(tx, fileKey(s.project, c.From)); err != nil {
						return err
					}
				}
				if c.Op == OpDelete {
					if err := files.Delete(tx, fileKey(s.project, c.Record.Path)); err != nil {
						return err
					}
					continue
				}
				if err := files.Put(tx, fileKey(s.project, c.Record.Path), c.Record); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DropProject deletes every record of p.
func DropProject(db *localdb.DB, p ProjectID) error {
	return db.DropPrefix(files.Prefix() + string(p) + "/")
}
