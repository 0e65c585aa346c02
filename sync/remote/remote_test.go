package remote_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"atelier/sync/remote"
	"atelier/sync/remote/remotetest"
	"atelier/sync/synctest"
)

func TestConformanceFile(t *testing.T) {
	r, err := remote.Open(context.Background(), "file://"+t.TempDir(), remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	remotetest.Run(t, r)
}

func TestConformanceFileStack(t *testing.T) {
	r, err := remote.Open(context.Background(), "file://"+t.TempDir()+"/sub", remote.Options{CreateDir: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	remotetest.Run(t, remote.Stack(r, remote.RetryPolicy{Base: time.Millisecond}, remote.NewLimiter(0), slog.Default()))
}

func TestConformanceS3(t *testing.T) {
	s := synctest.Server(t)
	remotetest.Run(t, s.Open(t, s.NewBucket(t), nil))
}

func TestConformanceS3Stack(t *testing.T) {
	s := synctest.Server(t)
	r := s.Open(t, s.NewBucket(t), nil)
	remotetest.Run(t, remote.Stack(r, remote.RetryPolicy{Base: time.Millisecond}, remote.NewLimiter(64<<20), slog.Default()))
}

func TestRedact(t *testing.T) {
	got := remote.Redact("s3://user:pw@bucket?endpoint=http://x&secret_key=abc&region=r")
	if strings.Contains(got, "abc") || strings.Contains(got, "pw") {
		t.Fatalf("secret left in %s", got)
	}
}

func TestLimiter(t *testing.T) {
	l := remote.NewLimiter(1 << 20)
	start := time.Now()
	for i := 0; i < 4; i++ {
		l.Wait(context.Background(), 256<<10)
	}
	// 1 MiB at 1 MiB/s with a quarter-second burst: at least ~0.5 s.
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("1 MiB passed a 1 MiB/s limiter in %v", el)
	}
}

// A wrong secret must be a permanent error that names the fix, on both the
// direct-PutObject path (small objects) and gocloud's reads.
func TestS3WrongCredentials(t *testing.T) {
	s := synctest.Server(t)
	u := s.NewBucket(t)
	o := s.Options(nil)
	o.SecretKey = "not-the-secret"
	r, err := remote.Open(context.Background(), u, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	for name, err := range map[string]error{
		"put":    r.Put(ctx, "k", []byte("x"), remote.PutOptions{}),
		"create": r.Put(ctx, "k2", []byte("x"), remote.PutOptions{IfNotExist: true}),
	} {
		if err == nil || !remote.Permanent(err) || !strings.Contains(err.Error(), "credentials") {
			t.Errorf("%s with a wrong secret: %v (want a permanent error naming the credentials)", name, err)
		}
	}
	if _, err := r.Get(ctx, "k"); err == nil || !remote.Permanent(err) {
		t.Errorf("get with a wrong secret: %v (want a permanent error)", err)
	}
}

// A bucket that does not exist is named as such (not "object not found"),
// on reads and writes alike, and retrying cannot help.
func TestS3MissingBucket(t *testing.T) {
	s := synctest.Server(t)
	r := s.Open(t, s.URL("atl-never-created"), nil)
	ctx := context.Background()
	_, gerr := r.Get(ctx, "config")
	perr := r.Put(ctx, "k", []byte("x"), remote.PutOptions{})
	for name, err := range map[string]error{"get": gerr, "put": perr} {
		if err == nil || errors.Is(err, remote.ErrNotFound) || !remote.Permanent(err) || !strings.Contains(err.Error(), "bucket atl-never-created does not exist") {
			t.Errorf("%s on a missing bucket: %v", name, err)
		}
	}
}
