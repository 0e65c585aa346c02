// Package remote is the narrow storage interface the sync engine writes to,
// with one implementation over gocloud.dev/blob (s3://, gs://, azblob://,
// file://) and wrappers that add retries with backoff, bandwidth throttling
// and logging. Every implementation passes the conformance suite in
// remotetest.
package remote

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"
)

// ErrNotFound means the object does not exist.
var ErrNotFound = errors.New("object not found")

// ErrExists means a conditional create found the object already there.
var ErrExists = errors.New("object already exists")

// ErrUnsupported means the storage cannot do the requested operation.
var ErrUnsupported = errors.New("not supported by this remote")

// Info describes one stored object.
type Info struct {
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ModTime     time.Time         `json:"modTime"`
	ContentType string            `json:"contentType,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// PutOptions tune a write.
type PutOptions struct {
	ContentType string            // "" = application/octet-stream
	Metadata    map[string]string // small string pairs, lower-case keys
	IfNotExist  bool              // fail with ErrExists when the key is taken
}

// Storage is what sync needs from a remote: whole-object writes that are
// atomic (readers see the old object, no object, or the whole new one),
// reads of whole objects or ranges, stat, prefix listing and delete.
// Keys are slash-separated and never start with a slash.
type Storage interface {
	// Put writes data under key atomically.
	Put(ctx context.Context, key string, data []byte, o PutOptions) error
	// PutFrom writes size bytes read from r under key atomically; r is read
	// from offset 0 and may be read again when the write is retried.
	PutFrom(ctx context.Context, key string, r io.ReaderAt, size int64, o PutOptions) error
	// Get reads a whole object.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetRange reads length bytes at off (length < 0: to the end).
	GetRange(ctx context.Context, key string, off, length int64) ([]byte, error)
	// Stat describes an object, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// List calls fn for every object whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the remote for people and logs, without secrets.
	String() string
	Close() error
}

// Part is one finished part of a multipart upload.
type Part struct {
	Number int32  `json:"n"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
}

// Multipart is implemented by remotes that can upload one object in parts
// and resume an upload another process started (S3). The caller keeps the
// upload ID in its durable state; finished parts are never sent again.
type Multipart interface {
	StartMultipart(ctx context.Context, key string, o PutOptions) (uploadID string, err error)
	UploadPart(ctx context.Context, key, uploadID string, n int32, data []byte) (Part, error)
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) error
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// Unwrapper is implemented by wrappers to reach the storage they wrap.
type Unwrapper interface{ Unwrap() Storage }

// AsMultipart returns the multipart side of s (looking through wrappers'
// capability checks), and false when the remote has none.
func AsMultipart(s Storage) (Multipart, bool) {
	if c, ok := s.(interface{ CanMultipart() bool }); ok && !c.CanMultipart() {
		return nil, false
	}
	m, ok := s.(Multipart)
	return m, ok
}

// Redact returns a remote URL with secrets (passwords, keys, tokens) removed,
// for display and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable remote URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "secret") || strings.Contains(lk, "key") || strings.Contains(lk, "token") || strings.Contains(lk, "password") || strings.Contains(lk, "sig") || strings.Contains(lk, "credential") {
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// readAllLimit reads r fully; used by implementations.
func readAllLimit(r io.Reader, hint int64) ([]byte, error) {
	if hint > 0 && hint < 1<<31 {
		buf := make([]byte, 0, hint)
		w := &sliceWriter{b: buf}
		_, err := io.Copy(w, r)
		return w.b, err
	}
	return io.ReadAll(r)
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
