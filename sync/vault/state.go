package vault

import (
	"sort"
	"strings"
	"sync"
)

// State is the durable local state a vault keeps between runs: the chunk
// index (which doubles as resume state: a chunk is recorded only after the
// pack holding it is stored), the last committed snapshot per project and
// the prune epoch seen. The app implements it over its database; writes
// through Apply are atomic.
type State interface {
	Get(key string) ([]byte, bool, error)
	// Scan calls fn for every key under prefix, in key order.
	Scan(prefix string, fn func(key string, val []byte) error) error
	// Apply stores puts and removes dels in one atomic step.
	Apply(puts map[string][]byte, dels []string) error
}

// MemState is a State in memory, for tests and one-shot tools.
type MemState struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemState returns an empty MemState.
func NewMemState() *MemState { return &MemState{m: map[string][]byte{}} }

func (s *MemState) Get(k string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return append([]byte(nil), v...), ok, nil
}

func (s *MemState) Scan(prefix string, fn func(string, []byte) error) error {
	s.mu.Lock()
	var keys []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	sort.Strings(keys)
	for _, k := range keys {
		v, ok, _ := s.Get(k)
		if !ok {
			continue
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *MemState) Apply(puts map[string][]byte, dels []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range dels {
		delete(s.m, k)
	}
	for k, v := range puts {
		s.m[k] = append([]byte(nil), v...)
	}
	return nil
}

// Len is the number of keys (tests).
func (s *MemState) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
