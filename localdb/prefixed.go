package localdb

// Prefixed is a raw key-value view of the keys under one prefix: the small
// durable-state interface libraries like sync/vault take (Get, Scan, Apply),
// so they can keep state in the app's database without knowing it.
type Prefixed struct {
	DB     *DB
	Prefix string
}

var rawTable = NewTableCodec[[]byte]("", rawBytes{})

type rawBytes struct{}

func (rawBytes) Encode(b []byte) ([]byte, error) { return b, nil }
func (rawBytes) Decode(b []byte) ([]byte, error) { return append([]byte(nil), b...), nil }

// Get returns the value under k.
func (p Prefixed) Get(k string) ([]byte, bool, error) {
	var v []byte
	var ok bool
	err := p.DB.View(func(tx *Tx) error {
		var err error
		v, ok, err = rawTable.Get(tx, p.Prefix+k)
		return err
	})
	return v, ok, err
}

// Scan calls fn for every key under prefix, in order, outside the read
// transaction (fn may write).
func (p Prefixed) Scan(prefix string, fn func(k string, v []byte) error) error {
	type kv struct {
		k string
		v []byte
	}
	var all []kv
	err := p.DB.View(func(tx *Tx) error {
		return rawTable.Scan(tx, p.Prefix+prefix, func(k string, v []byte) error {
			all = append(all, kv{k[len(p.Prefix):], v})
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// Apply writes puts and deletes dels in one transaction.
func (p Prefixed) Apply(puts map[string][]byte, dels []string) error {
	return p.DB.Update(func(tx *Tx) error {
		for _, k := range dels {
			if err := rawTable.Delete(tx, p.Prefix+k); err != nil {
				return err
			}
		}
		for k, v := range puts {
			if err := rawTable.Put(tx, p.Prefix+k, v); err != nil {
				return err
			}
		}
		return nil
	})
}
