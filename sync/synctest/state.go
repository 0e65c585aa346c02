package synctest

import (
	"atelier/localdb"
)

// DBState is a vault.State over a localdb database under a key prefix,
// the way the app keeps it.
type DBState struct {
	DB     *localdb.DB
	Prefix string
}

func (s DBState) Get(k string) ([]byte, bool, error) {
	var out []byte
	var ok bool
	err := s.DB.View(func(tx *localdb.Tx) error {
		it, err := tx.Raw().Get([]byte(s.Prefix + k))
		if err != nil {
			return nil
		}
		ok = true
		out, err = it.ValueCopy(nil)
		return err
	})
	return out, ok, err
}

func (s DBState) Scan(prefix string, fn func(string, []byte) error) error {
	type kv struct {
		k string
		v []byte
	}
	var all []kv
	err := s.DB.View(func(tx *localdb.Tx) error {
		t := localdb.NewTableCodec[[]byte](s.Prefix, rawCodec{})
		return t.Scan(tx, prefix, func(k string, v []byte) error {
			all = append(all, kv{k, v})
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

func (s DBState) Apply(puts map[string][]byte, dels []string) error {
	return s.DB.Update(func(tx *localdb.Tx) error {
		for _, k := range dels {
			if err := tx.Raw().Delete([]byte(s.Prefix + k)); err != nil {
				return err
			}
		}
		for k, v := range puts {
			if err := tx.Raw().Set([]byte(s.Prefix+k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

type rawCodec struct{}

func (rawCodec) Encode(b []byte) ([]byte, error) { return b, nil }
func (rawCodec) Decode(b []byte) ([]byte, error) { return append([]byte(nil), b...), nil }
