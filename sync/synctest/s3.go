// Package synctest runs the real parts sync tests need: a versitygw S3
// server on 127.0.0.1 (in-process, one per test binary), a fault-injecting
// HTTP proxy, and a State over localdb.
package synctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"

	"atelier/sync/remote"
)

// Credentials of the test server's root account.
const (
	AccessKey = "atelier-test"
	SecretKey = "atelier-test-secret"
)

// S3 is a running versitygw.
type S3 struct {
	Endpoint string // http://127.0.0.1:PORT
	Root     string // the posix backend's folder
	Err      error
}

var (
	s3Once sync.Once
	s3     *S3

	// The posix backend resolves buckets against the working directory,
	// which startS3 keeps as the test's own (tests read testdata relative to
	// it), so buckets land there: Cleanup removes the ones NewBucket made.
	bucketsMu sync.Mutex
	buckets   []string
)

// Server starts versitygw once per process (embedgw allows one instance),
// on 127.0.0.1 only, and returns it. ATELIER_TEST_S3 (an endpoint URL)
// points the tests at an already running server instead.
func Server(t testing.TB) *S3 {
	t.Helper()
	s3Once.Do(func() { s3 = startS3() })
	if s3.Err != nil {
		t.Fatalf("start versitygw: %v", s3.Err)
	}
	return s3
}

func startS3() *S3 {
	if ep := os.Getenv("ATELIER_TEST_S3"); ep != "" {
		return &S3{Endpoint: ep}
	}
	root, err := os.MkdirTemp("", "atelier-versitygw-*")
	if err != nil {
		return &S3{Err: err}
	}
	root, _ = filepath.Abs(root)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return &S3{Err: err}
	}
	addr := l.Addr().String()
	l.Close()
	// posix.New changes the working directory to root: keep ours.
	wd, _ := os.Getwd()
	be, err := posix.New(root, meta.XattrMeta{}, posix.PosixOpts{NewDirPerm: 0o755, Concurrency: 64})
	if err != nil {
		be, err = posix.New(root, meta.NoMeta{}, posix.PosixOpts{NewDirPerm: 0o755, Concurrency: 64})
	}
	if wd != "" {
		os.Chdir(wd)
	}
	if err != nil {
		return &S3{Err: fmt.Errorf("posix backend in %s: %w", root, err)}
	}
	errc := make(chan error, 1)
	go func() {
		errc <- embedgw.RunVersityGW(context.Background(), be, &embedgw.Config{
			RootUserAccess: AccessKey, RootUserSecret: SecretKey, Region: "us-east-1",
			Ports: []string{addr}, MaxConnections: 250, MaxRequests: 200, MultipartMaxParts: 10000,
			Quiet: true, KeepAlive: true, HealthPath: "/healthz",
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			return &S3{Err: err}
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return &S3{Endpoint: "http://" + addr, Root: root}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &S3{Err: fmt.Errorf("versitygw did not listen on %s within 30s", addr)}
}

// NewBucket creates a fresh bucket and returns its remote URL.
func (s *S3) NewBucket(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "atl-" + strings.ToLower(hex.EncodeToString(b))
	if wd, err := os.Getwd(); err == nil && s.Root != "" {
		bucketsMu.Lock()
		buckets = append(buckets, filepath.Join(wd, name))
		bucketsMu.Unlock()
	}
	u := s.URL(name)
	r, err := remote.Open(context.Background(), u, s.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CreateBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

// URL is the remote URL of bucket on this server.
func (s *S3) URL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1&use_path_style=true", bucket, s.Endpoint)
}

// Options carry the test credentials (and hc, when not nil).
func (s *S3) Options(hc *http.Client) remote.Options {
	return remote.Options{AccessKey: AccessKey, SecretKey: SecretKey, HTTPClient: hc}
}

// Open opens a remote URL of this server.
func (s *S3) Open(t testing.TB, u string, hc *http.Client) *remote.Blob {
	t.Helper()
	r, err := remote.Open(context.Background(), u, s.Options(hc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Cleanup removes the server's data folder; call it from TestMain after
// m.Run (the server itself ends with the process).
func Cleanup() {
	if s3 != nil && s3.Root != "" {
		os.RemoveAll(s3.Root)
	}
	bucketsMu.Lock()
	defer bucketsMu.Unlock()
	for _, b := range buckets {
		os.RemoveAll(b)
	}
	buckets = nil
}
