package localdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Tx is a transaction. Raw gives the Badger transaction for byte-level work.
type Tx struct{ t *badger.Txn }

// Raw returns the underlying Badger transaction.
func (tx *Tx) Raw() *badger.Txn { return tx.t }

// Batch wraps a Badger write batch.
// A Batch holds the database open (a use) until Flush or Cancel.
type Batch struct {
	wb   *badger.WriteBatch
	db   *DB
	err  error // the database could not be (re)opened
	done bool
}

// SetRaw queues a raw key/value write (refused on a nearly full disk).
func (b *Batch) SetRaw(key, val []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := b.db.writable(); err != nil {
		return err
	}
	return b.wb.Set(key, val)
}

// SetEntry queues an entry (for TTLs).
func (b *Batch) SetEntry(e *badger.Entry) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := b.db.writable(); err != nil {
		return err
	}
	return b.wb.SetEntry(e)
}

// DeleteRaw queues a delete.
func (b *Batch) DeleteRaw(key []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	return b.wb.Delete(key)
}

func (b *Batch) usable() error {
	if b.err != nil {
		return b.err
	}
	if b.done {
		return errors.New("write batch used after Flush or Cancel")
	}
	return nil
}

// Flush commits everything queued and waits for it.
func (b *Batch) Flush() error {
	if err := b.usable(); err != nil {
		return err
	}
	b.done = true
	defer b.db.release()
	defer b.db.wrote()
	return b.wb.Flush()
}

// Cancel drops the batch (nothing after a Flush).
func (b *Batch) Cancel() {
	if b.err != nil || b.done {
		return
	}
	b.done = true
	b.wb.Cancel()
	b.db.release()
}

// Codec turns values into bytes and back.
type Codec[T any] interface {
	Encode(T) ([]byte, error)
	Decode([]byte) (T, error)
}

// JSONCodec is the default codec: readable in backups and tolerant of added fields.
type JSONCodec[T any] struct{}

func (JSONCodec[T]) Encode(v T) ([]byte, error) { return json.Marshal(v) }
func (JSONCodec[T]) Decode(b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

// Table is a typed view of the keys under one prefix. Keys are strings appended
// to the prefix; values are encoded with the table's codec.
type Table[T any] struct {
	prefix string
	codec  Codec[T]
}

// NewTable declares a JSON-encoded table under prefix (for example "idx/file/").
func NewTable[T any](prefix string) Table[T] {
	return Table[T]{prefix: prefix, codec: JSONCodec[T]{}}
}

// NewTableCodec declares a table with a custom codec.
func NewTableCodec[T any](prefix string, c Codec[T]) Table[T] {
	return Table[T]{prefix: prefix, codec: c}
}

// Prefix is the table's key prefix.
func (t Table[T]) Prefix() string { return t.prefix }

// Key is the full key for k.
func (t Table[T]) Key(k string) []byte { return []byte(t.prefix + k) }

// Get returns the value under k, and false when there is none.
func (t Table[T]) Get(tx *Tx, k string) (T, bool, error) {
	var zero T
	it, err := tx.t.Get(t.Key(k))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, err
	}
	var v T
	err = it.Value(func(b []byte) error {
		var derr error
		v, derr = t.codec.Decode(b)
		return derr
	})
	if err != nil {
		return zero, false, fmt.Errorf("decode %s%s: %w", t.prefix, k, err)
	}
	return v, true, nil
}

// Put stores v under k.
func (t Table[T]) Put(tx *Tx, k string, v T) error {
	b, err := t.codec.Encode(v)
	if err != nil {
		return fmt.Errorf("encode %s%s: %w", t.prefix, k, err)
	}
	return tx.t.Set(t.Key(k), b)
}

// PutTTL stores v under k until ttl has passed.
func (t Table[T]) PutTTL(tx *Tx, k string, v T, ttl time.Duration) error {
	b, err := t.codec.Encode(v)
	if err != nil {
		return fmt.Errorf("encode %s%s: %w", t.prefix, k, err)
	}
	return tx.t.SetEntry(badger.NewEntry(t.Key(k), b).WithTTL(ttl))
}

// Delete removes k (no error when absent).
func (t Table[T]) Delete(tx *Tx, k string) error { return tx.t.Delete(t.Key(k)) }

// Scan calls fn for every entry whose key starts with sub (after the table
// prefix), in key order. Returning ErrStop ends the scan without error.
func (t Table[T]) Scan(tx *Tx, sub string, fn func(k string, v T) error) error {
	opts := badger.DefaultIteratorOptions
	p := []byte(t.prefix + sub)
	opts.Prefix = p
	it := tx.t.NewIterator(opts)
	defer it.Close()
	for it.Seek(p); it.ValidForPrefix(p); it.Next() {
		item := it.Item()
		k := string(item.Key()[len(t.prefix):])
		var v T
		err := item.Value(func(b []byte) error {
			var derr error
			v, derr = t.codec.Decode(b)
			return derr
		})
		if err != nil {
			return fmt.Errorf("decode %s%s: %w", t.prefix, k, err)
		}
		if err := fn(k, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Keys calls fn for every key under sub without reading values.
func (t Table[T]) Keys(tx *Tx, sub string, fn func(k string) error) error {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	p := []byte(t.prefix + sub)
	opts.Prefix = p
	it := tx.t.NewIterator(opts)
	defer it.Close()
	for it.Seek(p); it.ValidForPrefix(p); it.Next() {
		if err := fn(string(it.Item().Key()[len(t.prefix):])); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ErrStop ends a Scan early.
var ErrStop = errors.New("stop scan")
