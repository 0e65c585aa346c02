package remote

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return permanentError{err} }

// Permanent reports whether retrying err cannot help.
func Permanent(err error) bool {
	var p permanentError
	return errors.As(err, &p) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) ||
		errors.Is(err, ErrUnsupported) || errors.Is(err, context.Canceled)
}

// base forwards everything to the wrapped storage.
type base struct{ s Storage }

func (b base) Unwrap() Storage { return b.s }
func (b base) String() string  { return b.s.String() }
func (b base) Close() error    { return b.s.Close() }
func (b base) CanMultipart() bool {
	_, ok := AsMultipart(b.s)
	return ok
}
func (b base) mp() Multipart {
	if m, ok := AsMultipart(b.s); ok {
		return m
	}
	return noMultipart{}
}

type noMultipart struct{}

func (noMultipart) StartMultipart(context.Context, string, PutOptions) (string, error) {
	return "", ErrUnsupported
}
func (noMultipart) UploadPart(context.Context, string, string, int32, []byte) (Part, error) {
	return Part{}, ErrUnsupported
}
func (noMultipart) ListParts(context.Context, string, string) ([]Part, error) {
	return nil, ErrUnsupported
}
func (noMultipart) CompleteMultipart(context.Context, string, string, []Part) error {
	return ErrUnsupported
}
func (noMultipart) AbortMultipart(context.Context, string, string) error { return ErrUnsupported }

// RetryPolicy tunes Retrying.
type RetryPolicy struct {
	Attempts  int           // total tries per operation (default 10)
	Base, Max time.Duration // backoff bounds (default 200ms, 15s)
	// OpTimeout bounds one attempt, plus one second per MinRate bytes
	// transferred, so a stalled connection is abandoned and retried.
	OpTimeout time.Duration // default 60s
	MinRate   int64         // bytes/s; default 64 KiB/s
	Log       *slog.Logger
	// OnRetry is told about every failed attempt that will be retried.
	OnRetry func(op, key string, attempt int, err error)
}

// Retrying retries transient failures with exponential backoff and jitter,
// and abandons attempts that stall.
type Retrying struct {
	base
	p RetryPolicy
}

// NewRetrying wraps s.
func NewRetrying(s Storage, p RetryPolicy) *Retrying {
	if p.Attempts <= 0 {
		p.Attempts = 10
	}
	if p.Base <= 0 {
		p.Base = 200 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 15 * time.Second
	}
	if p.OpTimeout <= 0 {
		p.OpTimeout = 60 * time.Second
	}
	if p.MinRate <= 0 {
		p.MinRate = 64 << 10
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	return &Retrying{base: base{s}, p: p}
}

func (r *Retrying) do(ctx context.Context, op, key string, size int64, fn func(ctx context.Context) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		timeout := r.p.OpTimeout + time.Duration(size/r.p.MinRate)*time.Second
		actx, cancel := context.WithTimeout(ctx, timeout)
		err = fn(actx)
		stalled := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !stalled && Permanent(err) {
			return err
		}
		if attempt >= r.p.Attempts {
			return err
		}
		d := r.p.Base << min(attempt-1, 20)
		if d > r.p.Max || d <= 0 {
			d = r.p.Max
		}
		d = d/2 + rand.N(d/2+1)
		r.p.Log.Debug("remote operation failed, retrying", "op", op, "key", key, "attempt", attempt, "wait", d, "err", err)
		if r.p.OnRetry != nil {
			r.p.OnRetry(op, key, attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

func (r *Retrying) Put(ctx context.Context, key string, data []byte, o PutOptions) error {
	return r.do(ctx, "put", key, int64(len(data)), func(ctx context.Context) error { return r.s.Put(ctx, key, data, o) })
}

func (r *Retrying) PutFrom(ctx context.Context, key string, src io.ReaderAt, size int64, o PutOptions) error {
	// A conditional create retried after a lost response reports ErrExists
	// although the first attempt landed: callers of IfNotExist check the
	// object's content to tell the two apart.
	return r.do(ctx, "put", key, size, func(ctx context.Context) error { return r.s.PutFrom(ctx, key, src, size, o) })
}

func (r *Retrying) Get(ctx context.Context, key string) (b []byte, err error) {
	err = r.do(ctx, "get", key, 0, func(ctx context.Context) error {
		var e error
		b, e = r.s.Get(ctx, key)
		return e
	})
	return b, err
}

func (r *Retrying) GetRange(ctx context.Context, key string, off, n int64) (b []byte, err error) {
	err = r.do(ctx, "get", key, max(n, 0), func(ctx context.Context) error {
		var e error
		b, e = r.s.GetRange(ctx, key, off, n)
		return e
	})
	return b, err
}

func (r *Retrying) Stat(ctx context.Context, key string) (i Info, err error) {
	err = r.do(ctx, "stat", key, 0, func(ctx context.Context) error {
		var e error
		i, e = r.s.Stat(ctx, key)
		return e
	})
	return i, err
}

func (r *Retrying) List(ctx context.Context, prefix string, fn func(Info) error) error {
	// Collect first so a retried listing never calls fn twice for a key.
	var all []Info
	err := r.do(ctx, "list", prefix, 0, func(ctx context.Context) error {
		all = all[:0]
		return r.s.List(ctx, prefix, func(i Info) error { all = append(all, i); return nil })
	})
	if err != nil {
		return err
	}
	for _, i := range all {
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

func (r *Retrying) Delete(ctx context.Context, key string) error {
	return r.do(ctx, "delete", key, 0, func(ctx context.Context) error { return r.s.Delete(ctx, key) })
}

func (r *Retrying) StartMultipart(ctx context.Context, key string, o PutOptions) (id string, err error) {
	err = r.do(ctx, "start upload", key, 0, func(ctx context.Context) error {
		var e error
		id, e = r.mp().StartMultipart(ctx, key, o)
		return e
	})
	return id, err
}

func (r *Retrying) UploadPart(ctx context.Context, key, id string, n int32, data []byte) (p Part, err error) {
	err = r.do(ctx, "upload part", key, int64(len(data)), func(ctx context.Context) error {
		var e error
		p, e = r.mp().UploadPart(ctx, key, id, n, data)
		return e
	})
	return p, err
}

func (r *Retrying) ListParts(ctx context.Context, key, id string) (ps []Part, err error) {
	err = r.do(ctx, "list parts", key, 0, func(ctx context.Context) error {
		var e error
		ps, e = r.mp().ListParts(ctx, key, id)
		return e
	})
	return ps, err
}

func (r *Retrying) CompleteMultipart(ctx context.Context, key, id string, parts []Part) error {
	return r.do(ctx, "complete upload", key, 0, func(ctx context.Context) error { return r.mp().CompleteMultipart(ctx, key, id, parts) })
}

func (r *Retrying) AbortMultipart(ctx context.Context, key, id string) error {
	return r.do(ctx, "abort upload", key, 0, func(ctx context.Context) error { return r.mp().AbortMultipart(ctx, key, id) })
}

// Limiter is a token bucket over bytes per second, shared by all transfers
// of a remote. A rate of 0 means unlimited; SetRate changes it live.
type Limiter struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

// NewLimiter allows bytesPerSec (0: unlimited).
func NewLimiter(bytesPerSec int64) *Limiter {
	l := &Limiter{}
	l.SetRate(bytesPerSec)
	return l
}

// SetRate changes the limit (0: unlimited).
func (l *Limiter) SetRate(bytesPerSec int64) {
	l.mu.Lock()
	l.rate = float64(bytesPerSec)
	l.tokens = 0
	l.last = time.Now()
	l.mu.Unlock()
}

// Rate is the current limit in bytes per second (0: unlimited).
func (l *Limiter) Rate() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.rate)
}

// Wait blocks until n bytes may pass.
func (l *Limiter) Wait(ctx context.Context, n int64) error {
	for n > 0 {
		l.mu.Lock()
		if l.rate <= 0 {
			l.mu.Unlock()
			return nil
		}
		now := time.Now()
		burst := l.rate / 4 // a quarter second of traffic
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		l.last = now
		if l.tokens > burst {
			l.tokens = burst
		}
		take := float64(n)
		if take > burst {
			take = burst
		}
		if take < 1 {
			take = 1
		}
		l.tokens -= take
		deficit := -l.tokens
		rate := l.rate
		l.mu.Unlock()
		n -= int64(take)
		if deficit > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(deficit / rate * float64(time.Second))):
			}
		}
	}
	return nil
}

// Throttled limits the bytes moved through a storage.
type Throttled struct {
	base
	l *Limiter
}

// NewThrottled wraps s with l.
func NewThrottled(s Storage, l *Limiter) *Throttled { return &Throttled{base: base{s}, l: l} }

func (t *Throttled) Put(ctx context.Context, key string, data []byte, o PutOptions) error {
	if err := t.l.Wait(ctx, int64(len(data))); err != nil {
		return err
	}
	return t.s.Put(ctx, key, data, o)
}

func (t *Throttled) PutFrom(ctx context.Context, key string, src io.ReaderAt, size int64, o PutOptions) error {
	return t.s.PutFrom(ctx, key, &throttledReaderAt{ctx: ctx, r: src, l: t.l}, size, o)
}

type throttledReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
	l   *Limiter
}

func (t *throttledReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := t.l.Wait(t.ctx, int64(len(p))); err != nil {
		return 0, err
	}
	return t.r.ReadAt(p, off)
}

func (t *Throttled) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := t.s.Get(ctx, key)
	if err == nil {
		err = t.l.Wait(ctx, int64(len(b)))
	}
	return b, err
}

func (t *Throttled) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	b, err := t.s.GetRange(ctx, key, off, n)
	if err == nil {
		err = t.l.Wait(ctx, int64(len(b)))
	}
	return b, err
}

func (t *Throttled) Stat(ctx context.Context, key string) (Info, error) { return t.s.Stat(ctx, key) }
func (t *Throttled) List(ctx context.Context, p string, fn func(Info) error) error {
	return t.s.List(ctx, p, fn)
}
func (t *Throttled) Delete(ctx context.Context, key string) error { return t.s.Delete(ctx, key) }
func (t *Throttled) StartMultipart(ctx context.Context, key string, o PutOptions) (string, error) {
	return t.mp().StartMultipart(ctx, key, o)
}
func (t *Throttled) UploadPart(ctx context.Context, key, id string, n int32, data []byte) (Part, error) {
	if err := t.l.Wait(ctx, int64(len(data))); err != nil {
		return Part{}, err
	}
	return t.mp().UploadPart(ctx, key, id, n, data)
}
func (t *Throttled) ListParts(ctx context.Context, key, id string) ([]Part, error) {
	return t.mp().ListParts(ctx, key, id)
}
func (t *Throttled) CompleteMultipart(ctx context.Context, key, id string, parts []Part) error {
	return t.mp().CompleteMultipart(ctx, key, id, parts)
}
func (t *Throttled) AbortMultipart(ctx context.Context, key, id string) error {
	return t.mp().AbortMultipart(ctx, key, id)
}

// Logging logs every operation at debug level (errors at warn), with keys
// and sizes but never contents or credentials.
type Logging struct {
	base
	l *slog.Logger
}

// NewLogging wraps s.
func NewLogging(s Storage, l *slog.Logger) *Logging {
	return &Logging{base: base{s}, l: l.With("remote", s.String())}
}

func (g *Logging) log(op, key string, size int64, start time.Time, err error) {
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrExists) && !errors.Is(err, context.Canceled) {
		g.l.Warn("remote "+op, "key", key, "bytes", size, "took", time.Since(start), "err", err)
		return
	}
	g.l.Debug("remote "+op, "key", key, "bytes", size, "took", time.Since(start), "err", err)
}

func (g *Logging) Put(ctx context.Context, key string, data []byte, o PutOptions) error {
	t := time.Now()
	err := g.s.Put(ctx, key, data, o)
	g.log("put", key, int64(len(data)), t, err)
	return err
}
func (g *Logging) PutFrom(ctx context.Context, key string, src io.ReaderAt, size int64, o PutOptions) error {
	t := time.Now()
	err := g.s.PutFrom(ctx, key, src, size, o)
	g.log("put", key, size, t, err)
	return err
}
func (g *Logging) Get(ctx context.Context, key string) ([]byte, error) {
	t := time.Now()
	b, err := g.s.Get(ctx, key)
	g.log("get", key, int64(len(b)), t, err)
	return b, err
}
func (g *Logging) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	t := time.Now()
	b, err := g.s.GetRange(ctx, key, off, n)
	g.log("get range", key, int64(len(b)), t, err)
	return b, err
}
func (g *Logging) Stat(ctx context.Context, key string) (Info, error) {
	t := time.Now()
	i, err := g.s.Stat(ctx, key)
	g.log("stat", key, i.Size, t, err)
	return i, err
}
func (g *Logging) List(ctx context.Context, p string, fn func(Info) error) error {
	t := time.Now()
	err := g.s.List(ctx, p, fn)
	g.log("list", p, 0, t, err)
	return err
}
func (g *Logging) Delete(ctx context.Context, key string) error {
	t := time.Now()
	err := g.s.Delete(ctx, key)
	g.log("delete", key, 0, t, err)
	return err
}
func (g *Logging) StartMultipart(ctx context.Context, key string, o PutOptions) (string, error) {
	t := time.Now()
	id, err := g.mp().StartMultipart(ctx, key, o)
	g.log("start upload", key, 0, t, err)
	return id, err
}
func (g *Logging) UploadPart(ctx context.Context, key, id string, n int32, data []byte) (Part, error) {
	t := time.Now()
	p, err := g.mp().UploadPart(ctx, key, id, n, data)
	g.log("upload part", key, int64(len(data)), t, err)
	return p, err
}
func (g *Logging) ListParts(ctx context.Context, key, id string) ([]Part, error) {
	t := time.Now()
	p, err := g.mp().ListParts(ctx, key, id)
	g.log("list parts", key, 0, t, err)
	return p, err
}
func (g *Logging) CompleteMultipart(ctx context.Context, key, id string, parts []Part) error {
	t := time.Now()
	err := g.mp().CompleteMultipart(ctx, key, id, parts)
	g.log("complete upload", key, 0, t, err)
	return err
}
func (g *Logging) AbortMultipart(ctx context.Context, key, id string) error {
	t := time.Now()
	err := g.mp().AbortMultipart(ctx, key, id)
	g.log("abort upload", key, 0, t, err)
	return err
}

// Stack wraps s the usual way: logging innermost (every attempt is logged),
// then retries, then the bandwidth limit (l may be nil).
func Stack(s Storage, p RetryPolicy, l *Limiter, lg *slog.Logger) Storage {
	if lg == nil {
		lg = slog.Default()
	}
	p.Log = lg
	var out Storage = NewRetrying(NewLogging(s, lg), p)
	if l != nil {
		out = NewThrottled(out, l)
	}
	return out
}
