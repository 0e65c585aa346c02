// Command syncbench drives the sync library for bench/sync.sh: it generates
// test projects and times pushes against a remote, reporting JSON.
//
//	syncbench gen DIR big|many
//	syncbench push -remote URL -root DIR -state DIR [-twice] [-edit FILE]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"atelier/localdb"
	"atelier/sync/remote"
	"atelier/sync/vault"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: syncbench gen|push …")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2], os.Args[3])
	case "push":
		err = push(os.Args[2:])
	case "edit":
		err = edit(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %s", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "syncbench:", err)
		os.Exit(1)
	}
}

func writeRandom(p string, n int, seed uint64) error {
	os.MkdirAll(filepath.Dir(p), 0o755)
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var key [32]byte
	key[0], key[1], key[2] = byte(seed), byte(seed>>8), byte(seed>>16)
	_, err = io.CopyN(f, rand.NewChaCha8(key), int64(n))
	return err
}

// gen writes "big" (8 × 128 MiB + 2,000 × 64 KiB) or "many" (100,000 small files).
func gen(dir, kind string) error {
	switch kind {
	case "big":
		for i := 0; i < 8; i++ {
			if err := writeRandom(filepath.Join(dir, "video", fmt.Sprintf("take%d.mov", i)), 128<<20, uint64(i+1)); err != nil {
				return err
			}
		}
		for i := 0; i < 2000; i++ {
			if err := writeRandom(filepath.Join(dir, "samples", fmt.Sprintf("s%02d", i%20), fmt.Sprintf("hit%04d.wav", i)), 64<<10, uint64(1000+i)); err != nil {
				return err
			}
		}
	case "many":
		for i := 0; i < 100000; i++ {
			p := filepath.Join(dir, fmt.Sprintf("d%03d", i%500), fmt.Sprintf("f%06d.txt", i))
			if i%500 == i {
				os.MkdirAll(filepath.Dir(p), 0o755)
			}
			if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d of a large project\n", i)), 0o644); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("gen kind %q: big or many", kind)
	}
	return nil
}

// edit inserts 10 bytes into the middle of a file.
func edit(p string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	mid := len(b) / 2
	out := append(append(append([]byte{}, b[:mid]...), []byte("0123456789")...), b[mid:]...)
	return os.WriteFile(p, out, 0o644)
}

func scan(dir string) ([]vault.LocalFile, error) {
	var out []vault.LocalFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := d.Info()
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		lf := vault.LocalFile{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode()}
		h.Sum(lf.SHA256[:0])
		out = append(out, lf)
		return nil
	})
	return out, err
}

// counting counts bytes written to the remote.
type counting struct {
	remote.Storage
	n atomic.Int64
}

func (c *counting) Put(ctx context.Context, k string, b []byte, o remote.PutOptions) error {
	c.n.Add(int64(len(b)))
	return c.Storage.Put(ctx, k, b, o)
}

type state struct {
	db *localdb.DB
}

func (s state) Get(k string) ([]byte, bool, error) {
	var v []byte
	var ok bool
	err := s.db.View(func(tx *localdb.Tx) error {
		it, err := tx.Raw().Get([]byte(k))
		if err != nil {
			return nil
		}
		ok = true
		v, err = it.ValueCopy(nil)
		return err
	})
	return v, ok, err
}

func (s state) Scan(prefix string, fn func(string, []byte) error) error {
	return fmt.Errorf("scan not needed by the bench")
}

func (s state) Apply(puts map[string][]byte, dels []string) error {
	return s.db.Update(func(tx *localdb.Tx) error {
		for _, k := range dels {
			tx.Raw().Delete([]byte(k))
		}
		for k, v := range puts {
			if err := tx.Raw().Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

type report struct {
	Phase      string  `json:"phase"`
	Seconds    float64 `json:"seconds"`
	BytesSent  int64   `json:"bytesSent"`
	BytesNew   int64   `json:"bytesNew"`
	Files      int     `json:"files"`
	NoChange   bool    `json:"noChange"`
	ScanSecond float64 `json:"scanSeconds"`
}

func push(args []string) error {
	fl := flag.NewFlagSet("push", flag.ExitOnError)
	url := fl.String("remote", "", "remote URL")
	root := fl.String("root", "", "project folder")
	stateDir := fl.String("state", "", "state folder")
	twice := fl.Int("again", 0, "then time this many no-change syncs (warm, like the daemon)")
	cpuprofile := fl.String("cpuprofile", "", "write a CPU profile of the first push to this file")
	fl.Parse(args)
	ctx := context.Background()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	r, err := remote.Open(ctx, *url, remote.Options{AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), CreateDir: true})
	if err != nil {
		return err
	}
	if err := r.CreateBucket(ctx); err != nil {
		return err
	}
	c := &counting{Storage: remote.Stack(r, remote.RetryPolicy{}, nil, nil)}
	db, err := localdb.Open(*stateDir, localdb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := vault.Init(ctx, vault.Options{Storage: c, State: state{db}, Passphrase: []byte("bench passphrase"), Device: "bench", Uploads: 6})
	if err != nil {
		return err
	}
	t0 := time.Now()
	files, err := scan(*root)
	if err != nil {
		return err
	}
	// The index already knows sizes and hashes; scanning here stands in for it
	// and is reported apart from the push.
	scanS := time.Since(t0).Seconds()
	enc := json.NewEncoder(os.Stdout)
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
	}
	start := time.Now()
	res, err := v.Sync(ctx, vault.Job{Project: "bench", Root: *root, Files: files})
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	enc.Encode(report{Phase: "push", Seconds: time.Since(start).Seconds(), BytesSent: c.n.Load(), BytesNew: res.BytesNew, Files: len(files), NoChange: res.NoChange, ScanSecond: scanS})
	for i := 0; i < *twice; i++ {
		before := c.n.Load()
		start := time.Now()
		res, err := v.Sync(ctx, vault.Job{Project: "bench", Root: *root, Files: files})
		if err != nil {
			return err
		}
		enc.Encode(report{Phase: "again", Seconds: time.Since(start).Seconds(), BytesSent: c.n.Load() - before, Files: len(files), NoChange: res.NoChange})
	}
	return nil
}
