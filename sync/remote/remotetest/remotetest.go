// Package remotetest is the conformance suite every remote.Storage passes:
// the same behaviour from a folder, S3, and every wrapper stack.
package remotetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"atelier/sync/remote"
)

// Run runs the suite against the storage s, which must be empty.
func Run(t *testing.T, s remote.Storage) {
	ctx := context.Background()
	data := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	t.Run("PutGet", func(t *testing.T) {
		for _, n := range []int{0, 1, 1000, 6 << 20} {
			key := fmt.Sprintf("put/obj-%d", n)
			d := data(n)
			if err := s.Put(ctx, key, d, remote.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, d) {
				t.Fatalf("%s: read %d bytes back, not the %d written", key, len(got), n)
			}
		}
	})
	t.Run("PutFrom", func(t *testing.T) {
		d := data(3<<20 + 17)
		if err := s.PutFrom(ctx, "putfrom/x", bytes.NewReader(d), int64(len(d)), remote.PutOptions{ContentType: "audio/wav", Metadata: map[string]string{"sha256": "abc"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "putfrom/x")
		if err != nil || !bytes.Equal(got, d) {
			t.Fatalf("read back: %v (equal %v)", err, bytes.Equal(got, d))
		}
		info, err := s.Stat(ctx, "putfrom/x")
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(d)) {
			t.Fatalf("stat size %d, want %d", info.Size, len(d))
		}
		if info.ContentType != "audio/wav" {
			t.Fatalf("content type %q, want audio/wav", info.ContentType)
		}
		if info.Metadata["sha256"] != "abc" {
			t.Fatalf("metadata %v, want sha256=abc", info.Metadata)
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		s.Put(ctx, "ow/a", []byte("one"), remote.PutOptions{})
		if err := s.Put(ctx, "ow/a", []byte("two!"), remote.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, "ow/a")
		if string(got) != "two!" {
			t.Fatalf("got %q after overwrite", got)
		}
	})
	t.Run("GetRange", func(t *testing.T) {
		d := data(100000)
		s.Put(ctx, "range/a", d, remote.PutOptions{})
		for _, c := range [][2]int64{{0, 10}, {500, 1000}, {99990, 10}, {100, -1}, {0, 100000}} {
			got, err := s.GetRange(ctx, "range/a", c[0], c[1])
			if err != nil {
				t.Fatalf("range %v: %v", c, err)
			}
			end := c[0] + c[1]
			if c[1] < 0 {
				end = int64(len(d))
			}
			if !bytes.Equal(got, d[c[0]:end]) {
				t.Fatalf("range %v: wrong bytes (%d)", c, len(got))
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		if _, err := s.Get(ctx, "missing/x"); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("Get missing: %v, want ErrNotFound", err)
		}
		if _, err := s.GetRange(ctx, "missing/x", 0, 5); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("GetRange missing: %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, "missing/x"); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("Stat missing: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "missing/x"); err != nil {
			t.Fatalf("Delete missing: %v, want nil", err)
		}
	})
	t.Run("IfNotExist", func(t *testing.T) {
		if err := s.Put(ctx, "cond/a", []byte("first"), remote.PutOptions{IfNotExist: true}); err != nil {
			t.Fatal(err)
		}
		err := s.Put(ctx, "cond/a", []byte("second"), remote.PutOptions{IfNotExist: true})
		if !errors.Is(err, remote.ErrExists) {
			t.Fatalf("second conditional put: %v, want ErrExists", err)
		}
		got, _ := s.Get(ctx, "cond/a")
		if string(got) != "first" {
			t.Fatalf("conditional put overwrote: %q", got)
		}
	})
	t.Run("ConcurrentIfNotExist", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if s.Put(ctx, "cond/race", []byte{byte(i)}, remote.PutOptions{IfNotExist: true}) == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d conditional creates of one key succeeded, want exactly 1", wins)
		}
	})
	t.Run("List", func(t *testing.T) {
		want := []string{"list/a", "list/b/c", "list/b/d", "list/z"}
		for _, k := range want {
			s.Put(ctx, k, []byte(k), remote.PutOptions{})
		}
		s.Put(ctx, "listx", []byte("no"), remote.PutOptions{})
		var got []string
		err := s.List(ctx, "list/", func(i remote.Info) error {
			got = append(got, i.Key)
			if i.Size != int64(len(i.Key)) {
				return fmt.Errorf("%s: size %d", i.Key, i.Size)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("list: %v, want %v", got, want)
		}
		stop := errors.New("stop")
		n := 0
		if err := s.List(ctx, "list/", func(remote.Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Fatalf("list did not stop at the callback's error: %v after %d", err, n)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s.Put(ctx, "del/a", []byte("x"), remote.PutOptions{})
		if err := s.Delete(ctx, "del/a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, "del/a"); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("stat after delete: %v", err)
		}
		n := 0
		s.List(ctx, "del/", func(remote.Info) error { n++; return nil })
		if n != 0 {
			t.Fatalf("deleted object still listed")
		}
	})
	t.Run("Multipart", func(t *testing.T) {
		m, ok := remote.AsMultipart(s)
		if !ok {
			if _, isMP := s.(remote.Multipart); isMP {
				if _, err := s.(remote.Multipart).StartMultipart(ctx, "mp/x", remote.PutOptions{}); !errors.Is(err, remote.ErrUnsupported) {
					t.Fatalf("multipart claimed unsupported but StartMultipart says %v", err)
				}
			}
			return
		}
		p1, p2 := data(5<<20), data(1234)
		id, err := m.StartMultipart(ctx, "mp/x", remote.PutOptions{ContentType: "video/mp4"})
		if err != nil {
			t.Fatal(err)
		}
		part1, err := m.UploadPart(ctx, "mp/x", id, 1, p1)
		if err != nil {
			t.Fatal(err)
		}
		// Another process resumes: it learns the finished parts from the remote.
		parts, err := m.ListParts(ctx, "mp/x", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 1 || parts[0].Number != 1 || parts[0].Size != int64(len(p1)) {
			t.Fatalf("ListParts = %+v, want part 1 of %d bytes (sent %+v)", parts, len(p1), part1)
		}
		part2, err := m.UploadPart(ctx, "mp/x", id, 2, p2)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CompleteMultipart(ctx, "mp/x", id, []remote.Part{parts[0], part2}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "mp/x")
		if err != nil || !bytes.Equal(got, append(append([]byte{}, p1...), p2...)) {
			t.Fatalf("multipart object: %v", err)
		}
		id2, _ := m.StartMultipart(ctx, "mp/y", remote.PutOptions{})
		if err := m.AbortMultipart(ctx, "mp/y", id2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, "mp/y"); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("aborted upload left an object: %v", err)
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Put(cctx, "cancel/a", data(10), remote.PutOptions{}); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
	})
	t.Run("String", func(t *testing.T) {
		if s.String() == "" {
			t.Fatal("empty String")
		}
	})
}
