package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs://
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"

	"atelier/netclient"
)

// Options tune Open.
type Options struct {
	// HTTPClient carries S3 traffic (nil: a client with sane timeouts).
	HTTPClient *http.Client
	// AccessKey and SecretKey, when set, are S3 credentials (from the OS
	// keyring); otherwise the provider's standard chain is used
	// (AWS_ACCESS_KEY_ID, profiles, instance roles).
	AccessKey, SecretKey string
	// CreateDir creates the folder of a file:// remote when missing.
	CreateDir bool
}

// Blob is a Storage over a gocloud.dev/blob bucket.
type Blob struct {
	b    *blob.Bucket
	dir  string     // set for file:// remotes: atomic conditional creates
	s3   *s3.Client // set for s3:// remotes: multipart resume
	name string     // S3 bucket name
	url  string
}

// Open opens the remote at rawURL: s3://bucket?endpoint=http://host:port&region=R&use_path_style=true,
// gs://bucket, azblob://container, file:///abs/path.
func Open(ctx context.Context, rawURL string, o Options) (*Blob, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("remote URL %q is not a URL: %w (examples: s3://bucket?endpoint=https://host&region=auto, file:///home/me/backup)", Redact(rawURL), err)
	}
	switch u.Scheme {
	case "s3":
		return openS3(ctx, u, o)
	case "file":
		dir := u.Path
		if dir == "" || !filepath.IsAbs(filepath.FromSlash(dir)) {
			return nil, fmt.Errorf("remote %s: a file:// remote needs an absolute path, like file:///home/me/atelier-backup", Redact(rawURL))
		}
		if o.CreateDir {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("remote %s: create folder: %w", Redact(rawURL), err)
			}
		}
		b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataInSidecar})
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w (does the folder exist and can you write to it?)", Redact(rawURL), err)
		}
		return &Blob{b: b, dir: dir, url: rawURL}, nil
	case "gs", "azblob":
		b, err := blob.OpenBucket(ctx, rawURL)
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w (check the provider's credentials in your environment)", Redact(rawURL), err)
		}
		return &Blob{b: b, url: rawURL}, nil
	default:
		return nil, fmt.Errorf("remote %s: unknown scheme %q: use s3://, gs://, azblob:// or file://", Redact(rawURL), u.Scheme)
	}
}

func openS3(ctx context.Context, u *url.URL, o Options) (*Blob, error) {
	q := u.Query()
	var s3opts []func(*s3.Options)
	pathStyle := false
	for _, k := range []string{"use_path_style", "s3ForcePathStyle"} {
		if v := q.Get(k); v != "" {
			q.Del(k)
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("remote %s: %s=%q is not true or false", Redact(u.String()), k, v)
			}
			pathStyle = b
		}
	}
	if v := q.Get("disable_https"); v != "" {
		q.Del("disable_https")
		b, _ := strconv.ParseBool(v)
		s3opts = append(s3opts, func(so *s3.Options) { so.EndpointOptions.DisableHTTPS = b })
	}
	if q.Get("endpoint") != "" {
		pathStyle = pathStyle || q.Get("virtual_host") == ""
	}
	q.Del("virtual_host")
	unsigned := q.Get("unsigned_payload") != "false"
	q.Del("unsigned_payload")
	if q.Get("region") == "" {
		q.Set("region", "us-east-1")
	}
	if q.Get("request_checksum_calculation") == "" {
		// The sync engine hashes and verifies everything itself.
		q.Set("request_checksum_calculation", "when_required")
	}
	if q.Get("response_checksum_validation") == "" {
		q.Set("response_checksum_validation", "when_required")
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", Redact(u.String()), err)
	}
	if o.AccessKey != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = DefaultHTTPClient()
	}
	cfg.HTTPClient = hc
	cfg.RetryMaxAttempts = 1 // the Retrying wrapper owns retries and backoff
	s3opts = append(s3opts, func(so *s3.Options) {
		so.UsePathStyle = pathStyle
		if unsigned {
			// Every byte sync sends is authenticated by its own AEAD tag or
			// hash: skip the SDK's SHA-256 pass over each payload.
			so.APIOptions = append(so.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
	})
	client := s3.NewFromConfig(cfg, s3opts...)
	b, err := s3blob.OpenBucket(ctx, client, u.Host, nil)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", Redact(u.String()), err)
	}
	return &Blob{b: b, s3: client, name: u.Host, url: u.String()}, nil
}

// DefaultHTTPClient has connect, TLS, header and idle time-outs
// (atelier/netclient), so a dead or stalled server is noticed, and no overall
// time-out, so large transfers on slow links finish.
func DefaultHTTPClient() *http.Client { return netclient.New(netclient.Defaults) }

func (r *Blob) String() string { return Redact(r.url) }
func (r *Blob) Close() error   { return r.b.Close() }

// Bucket exposes the gocloud bucket.
func (r *Blob) Bucket() *blob.Bucket { return r.b }

func (r *Blob) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket" {
		// Not "object not found": nothing else can be right until it exists.
		return permanent(fmt.Errorf("%s %s on %s: the bucket %s does not exist: create it with your storage provider (its console or CLI), then try again (S3: %s)", op, key, r, r.name, ae.ErrorCode()))
	}
	code := gcerrors.Code(err)
	if code == gcerrors.Unknown {
		code = s3Code(err)
	}
	switch code {
	case gcerrors.NotFound:
		return fmt.Errorf("%s %s on %s: %w", op, key, r, ErrNotFound)
	case gcerrors.FailedPrecondition:
		return fmt.Errorf("%s %s on %s: %w", op, key, r, ErrExists)
	case gcerrors.PermissionDenied:
		return permanent(fmt.Errorf("%s %s on %s: permission denied (check the remote's credentials and bucket policy): %w", op, key, r, err))
	case gcerrors.InvalidArgument:
		return permanent(fmt.Errorf("%s %s on %s: %w", op, key, r, err))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%s %s on %s: %w", op, key, r, err)
}

// s3Code classifies an error of a direct S3 call the way gocloud classifies
// its own, so both paths give the same sentinels.
func s3Code(err error) gcerrors.ErrorCode {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchUpload":
			return gcerrors.NotFound
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden":
			return gcerrors.PermissionDenied
		case "InvalidArgument", "InvalidBucketName", "KeyTooLongError", "EntityTooLarge":
			return gcerrors.InvalidArgument
		}
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 404:
			return gcerrors.NotFound
		case 401, 403:
			return gcerrors.PermissionDenied
		}
	}
	return gcerrors.Unknown
}

func (r *Blob) writerOpts(o PutOptions, size int64) *blob.WriterOptions {
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	bs := 16 << 20 // parts of big objects (smaller ones go in one PutObject)
	return &blob.WriterOptions{ContentType: ct, Metadata: o.Metadata, IfNotExist: o.IfNotExist, BufferSize: bs, MaxConcurrency: 4, DisableContentTypeDetection: true}
}

// directPutMax is the largest object sent in one S3 request; bigger ones go
// up in parts.
const directPutMax = 64 << 20

func (r *Blob) Put(ctx context.Context, key string, data []byte, o PutOptions) error {
	return r.PutFrom(ctx, key, bytes.NewReader(data), int64(len(data)), o)
}

func (r *Blob) PutFrom(ctx context.Context, key string, src io.ReaderAt, size int64, o PutOptions) error {
	if r.s3 != nil && (o.IfNotExist || size <= directPutMax) {
		// One PutObject straight from src. gocloud's s3 writer goes through
		// the transfer manager, which allocates MaxConcurrency×BufferSize of
		// fresh buffers per object, copies the payload into them and adds a
		// checksum pass: for 16 MiB packs that was most of a push's CPU. It
		// also turns IfNotExist into If-None-Match only on single-part
		// uploads; here it always holds.
		in := &s3.PutObjectInput{
			Bucket: aws.String(r.name), Key: aws.String(key), Body: io.NewSectionReader(src, 0, size),
			ContentLength: aws.Int64(size), ContentType: aws.String(orOctet(o.ContentType)), Metadata: o.Metadata,
		}
		if o.IfNotExist {
			in.IfNoneMatch = aws.String("*")
		}
		_, err := r.s3.PutObject(ctx, in)
		if err != nil && o.IfNotExist && isPreconditionFailed(err) {
			return fmt.Errorf("put %s on %s: %w", key, r, ErrExists)
		}
		return r.wrap("put", key, err)
	}
	if r.dir != "" && o.IfNotExist {
		return r.createFile(ctx, key, src, size)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := r.b.NewWriter(cctx, key, r.writerOpts(o, size))
	if err != nil {
		return r.wrap("put", key, err)
	}
	if _, err := io.Copy(w, io.NewSectionReader(src, 0, size)); err != nil {
		cancel()
		w.Close()
		return r.wrap("put", key, err)
	}
	return r.wrap("put", key, w.Close())
}

// createFile is a conditional create on a folder remote. gocloud's fileblob
// checks and renames without a lock between processes (two writers can both
// win); a hard link fails atomically when the name is taken.
func (r *Blob) createFile(ctx context.Context, key string, src io.ReaderAt, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return permanent(fmt.Errorf("put %s on %s: invalid key", key, r))
	}
	dst := filepath.Join(r.dir, filepath.FromSlash(key))
	tmpDir := filepath.Join(r.dir, ".atelier-tmp")
	for _, d := range []string{filepath.Dir(dst), tmpDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("put %s on %s: %w", key, r, err)
		}
	}
	tmp, err := os.CreateTemp(tmpDir, "create-*")
	if err != nil {
		return fmt.Errorf("put %s on %s: %w", key, r, err)
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, io.NewSectionReader(src, 0, size))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("put %s on %s: %w", key, r, err)
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("put %s on %s: %w", key, r, ErrExists)
		}
		return fmt.Errorf("put %s on %s: %w", key, r, err)
	}
	return nil
}

func orOctet(ct string) string {
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}

func isPreconditionFailed(err error) bool {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && (re.HTTPStatusCode() == 412 || re.HTTPStatusCode() == 409) {
		return true
	}
	return strings.Contains(err.Error(), "PreconditionFailed")
}

func (r *Blob) Get(ctx context.Context, key string) ([]byte, error) {
	return r.GetRange(ctx, key, 0, -1)
}

func (r *Blob) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	rd, err := r.b.NewRangeReader(ctx, key, off, length, nil)
	if err != nil {
		return nil, r.wrap("get", key, err)
	}
	defer rd.Close()
	hint := length
	if hint < 0 {
		hint = rd.Size() - off
	}
	b, err := readAllLimit(rd, hint)
	if err != nil {
		return nil, r.wrap("get", key, err)
	}
	if length >= 0 && int64(len(b)) != length && off+int64(len(b)) < rd.Size() {
		return nil, fmt.Errorf("get %s on %s: short read (%d of %d bytes)", key, r, len(b), length)
	}
	if length < 0 && off == 0 && int64(len(b)) != rd.Size() {
		return nil, fmt.Errorf("get %s on %s: short read (%d of %d bytes)", key, r, len(b), rd.Size())
	}
	return b, nil
}

func (r *Blob) Stat(ctx context.Context, key string) (Info, error) {
	a, err := r.b.Attributes(ctx, key)
	if err != nil {
		return Info{}, r.wrap("stat", key, err)
	}
	return Info{Key: key, Size: a.Size, ModTime: a.ModTime, ContentType: a.ContentType, Metadata: a.Metadata}, nil
}

func (r *Blob) List(ctx context.Context, prefix string, fn func(Info) error) error {
	it := r.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.wrap("list", prefix+"*", err)
		}
		if o.IsDir {
			continue
		}
		if err := fn(Info{Key: o.Key, Size: o.Size, ModTime: o.ModTime}); err != nil {
			return err
		}
	}
}

func (r *Blob) Delete(ctx context.Context, key string) error {
	err := r.b.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return r.wrap("delete", key, err)
}

// CanMultipart reports whether resumable multipart uploads are available.
func (r *Blob) CanMultipart() bool { return r.s3 != nil }

func (r *Blob) StartMultipart(ctx context.Context, key string, o PutOptions) (string, error) {
	if r.s3 == nil {
		return "", ErrUnsupported
	}
	out, err := r.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(r.name), Key: aws.String(key), ContentType: aws.String(orOctet(o.ContentType)), Metadata: o.Metadata})
	if err != nil {
		return "", r.wrap("start upload of", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

func (r *Blob) UploadPart(ctx context.Context, key, id string, n int32, data []byte) (Part, error) {
	if r.s3 == nil {
		return Part{}, ErrUnsupported
	}
	out, err := r.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(r.name), Key: aws.String(key), UploadId: aws.String(id), PartNumber: aws.Int32(n), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		return Part{}, r.wrap(fmt.Sprintf("upload part %d of", n), key, err)
	}
	return Part{Number: n, ETag: aws.ToString(out.ETag), Size: int64(len(data))}, nil
}

func (r *Blob) ListParts(ctx context.Context, key, id string) ([]Part, error) {
	if r.s3 == nil {
		return nil, ErrUnsupported
	}
	var parts []Part
	var marker *string
	for {
		out, err := r.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(r.name), Key: aws.String(key), UploadId: aws.String(id), PartNumberMarker: marker})
		if err != nil {
			var nsu *s3types.NoSuchUpload
			if errors.As(err, &nsu) {
				return nil, fmt.Errorf("list parts of %s on %s: %w", key, r, ErrNotFound)
			}
			return nil, r.wrap("list parts of", key, err)
		}
		for _, p := range out.Parts {
			parts = append(parts, Part{Number: aws.ToInt32(p.PartNumber), ETag: aws.ToString(p.ETag), Size: aws.ToInt64(p.Size)})
		}
		if !aws.ToBool(out.IsTruncated) {
			return parts, nil
		}
		marker = out.NextPartNumberMarker
	}
}

func (r *Blob) CompleteMultipart(ctx context.Context, key, id string, parts []Part) error {
	if r.s3 == nil {
		return ErrUnsupported
	}
	cp := make([]s3types.CompletedPart, len(parts))
	for i, p := range parts {
		cp[i] = s3types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag)}
	}
	_, err := r.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(r.name), Key: aws.String(key), UploadId: aws.String(id), MultipartUpload: &s3types.CompletedMultipartUpload{Parts: cp}})
	return r.wrap("complete upload of", key, err)
}

func (r *Blob) AbortMultipart(ctx context.Context, key, id string) error {
	if r.s3 == nil {
		return ErrUnsupported
	}
	_, err := r.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(r.name), Key: aws.String(key), UploadId: aws.String(id)})
	return r.wrap("abort upload of", key, err)
}

// CreateBucket creates the S3 bucket of this remote (gocloud has no such
// call); an existing bucket is fine. Other remotes need no bucket.
func (r *Blob) CreateBucket(ctx context.Context) error {
	if r.s3 == nil {
		return nil
	}
	_, err := r.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(r.name)})
	if err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		var exists *s3types.BucketAlreadyExists
		if errors.As(err, &owned) || errors.As(err, &exists) {
			return nil
		}
		return fmt.Errorf("create bucket %s on %s: %w", r.name, r, err)
	}
	return nil
}
