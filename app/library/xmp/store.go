package xmp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"atelier/localdb"
)

// Entry is the stored marks of one file.
type Entry struct {
	Marks
	UpdatedAt time.Time `json:"updatedAt"`
	Source    string    `json:"source,omitempty"` // "user" or "sidecar": who set them last
}

// Collection is a saved query: a smart collection in the sidebar.
type Collection struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Query   string    `json:"query"`
	Sort    string    `json:"sort,omitempty"`
	Project string    `json:"project,omitempty"` // "" = every project
	Created time.Time `json:"created"`
}

// Tables under the library's prefix.
var (
	marksTable       = localdb.NewTable[Entry]("lib/marks/")     // <project>/<path>
	collectionsTable = localdb.NewTable[Collection]("lib/coll/") // <id>
)

// Store keeps marks and collections in localdb.
type Store struct{ db *localdb.DB }

// NewStore returns the store over db.
func NewStore(db *localdb.DB) *Store { return &Store{db: db} }

func markKey(project, rel string) string { return project + "/" + rel }

// Get returns the marks of a file (ok false: none stored).
func (s *Store) Get(project, rel string) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := s.db.View(func(tx *localdb.Tx) error {
		var err error
		e, ok, err = marksTable.Get(tx, markKey(project, rel))
		return err
	})
	return e, ok, err
}

// maxBatch keeps a transaction well below Badger's limit.
const maxBatch = 500

// Set stores the marks of files (marks that say nothing delete the entry).
func (s *Store) Set(project string, rels []string, m Marks, at time.Time, source string) error {
	m = m.Normalize()
	return s.Edit(project, rels, at, source, func(Marks) Marks { return m })
}

// Edit changes the marks of many files in one pass (add a tag to a
// selection, rate twenty takes): edit gets each file's marks and returns
// the new ones. It writes in transactions of at most maxBatch files.
func (s *Store) Edit(project string, rels []string, at time.Time, source string, edit func(Marks) Marks) error {
	for len(rels) > 0 {
		n := min(len(rels), maxBatch)
		part := rels[:n]
		rels = rels[n:]
		err := s.db.Update(func(tx *localdb.Tx) error {
			for _, rel := range part {
				k := markKey(project, rel)
				old, _, err := marksTable.Get(tx, k)
				if err != nil {
					return err
				}
				m := edit(old.Marks).Normalize()
				if m.IsZero() {
					if err := marksTable.Delete(tx, k); err != nil {
						return err
					}
					continue
				}
				if err := marksTable.Put(tx, k, Entry{Marks: m, UpdatedAt: at.UTC(), Source: source}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store the marks of %d files: %w", len(part), err)
		}
	}
	return nil
}

// Move carries the marks of a renamed file (or of every file under a
// renamed folder) to its new path.
func (s *Store) Move(project, from, to string) error {
	type mv struct {
		from, to string
		e        Entry
	}
	var moves []mv
	err := s.db.View(func(tx *localdb.Tx) error {
		if e, ok, err := marksTable.Get(tx, markKey(project, from)); err != nil {
			return err
		} else if ok {
			moves = append(moves, mv{from, to, e})
		}
		return marksTable.Scan(tx, markKey(project, from)+"/", func(k string, e Entry) error {
			rel := strings.TrimPrefix(k, project+"/")
			moves = append(moves, mv{rel, to + strings.TrimPrefix(rel, from), e})
			return nil
		})
	})
	if err != nil {
		return err
	}
	for len(moves) > 0 {
		n := min(len(moves), maxBatch)
		part := moves[:n]
		moves = moves[n:]
		if err := s.db.Update(func(tx *localdb.Tx) error {
			for _, m := range part {
				if err := marksTable.Delete(tx, markKey(project, m.from)); err != nil {
					return err
				}
				if err := marksTable.Put(tx, markKey(project, m.to), m.e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("move the marks of %s to %s: %w", from, to, err)
		}
	}
	return nil
}

// Forget deletes the marks of a file.
func (s *Store) Forget(project, rel string) error {
	return s.db.Update(func(tx *localdb.Tx) error { return marksTable.Delete(tx, markKey(project, rel)) })
}

// All calls fn for every marked file of a project ("" = every project).
func (s *Store) All(project string, fn func(project, rel string, e Entry) error) error {
	sub := ""
	if project != "" {
		sub = project + "/"
	}
	return s.db.View(func(tx *localdb.Tx) error {
		return marksTable.Scan(tx, sub, func(k string, e Entry) error {
			p, rel, _ := strings.Cut(k, "/")
			return fn(p, rel, e)
		})
	})
}

// SaveCollection stores c (a new ID when c has none) and returns it.
func (s *Store) SaveCollection(c Collection) (Collection, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return c, fmt.Errorf("a collection needs a name")
	}
	if strings.TrimSpace(c.Query) == "" {
		return c, fmt.Errorf("the collection %q needs a query, e.g. kind:audio rating>=4", c.Name)
	}
	if c.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.ID = hex.EncodeToString(b[:])
	}
	if c.Created.IsZero() {
		c.Created = time.Now().UTC()
	}
	err := s.db.Update(func(tx *localdb.Tx) error { return collectionsTable.Put(tx, c.ID, c) })
	return c, err
}

// Collections lists the saved collections, by name.
func (s *Store) Collections() ([]Collection, error) {
	var out []Collection
	err := s.db.View(func(tx *localdb.Tx) error {
		return collectionsTable.Scan(tx, "", func(_ string, c Collection) error {
			out = append(out, c)
			return nil
		})
	})
	for i := 1; i < len(out); i++ { // few: insertion sort by name
		for j := i; j > 0 && strings.ToLower(out[j].Name) < strings.ToLower(out[j-1].Name); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, err
}

// DeleteCollection removes a collection (no error when absent).
func (s *Store) DeleteCollection(id string) error {
	return s.db.Update(func(tx *localdb.Tx) error { return collectionsTable.Delete(tx, id) })
}
