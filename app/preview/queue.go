package preview

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// Job asks for the preview of the content at Path.
type Job struct {
	Key      Key
	Path     string // absolute path of (one copy of) the content
	Size     int64  // bytes: smaller files go first at equal priority
	Priority int    // higher first
	// Tag identifies who wants the job (for example "project/rel/path"): the
	// same content under several tags renders once, and forgetting every tag
	// cancels it.
	Tag string
}

// Done reports a finished job to the queue's owner.
type Done struct {
	Key  Key
	Job  Job
	Tags []string
	Meta Meta
	Err  error
}

// RenderFunc renders one job; workers says how many cores it may use.
type RenderFunc func(ctx context.Context, j Job, workers int) (Meta, error)

// QueueStats is a snapshot of the queue.
type QueueStats struct {
	Pending  int   `json:"pending"`
	Running  int   `json:"running"`
	Done     int64 `json:"done"`
	Failed   int64 `json:"failed"`
	Canceled int64 `json:"canceled"`
	Workers  int   `json:"workers"`
}

type entry struct {
	job    Job
	tags   map[string]bool
	seq    uint64
	index  int // in the heap; -1 when running
	cancel context.CancelFunc
	// cancelled: nobody wants the running job any more; it ends without a result.
	cancelled bool
}

// Queue renders jobs with bounded parallelism, highest priority first,
// deduplicating by key (pending and in flight).
type Queue struct {
	render  RenderFunc
	done    func(Done)
	workers int

	// memory bounds what running jobs hold at once (estimated bytes)
	memory   *semaphore.Weighted
	memLimit int64
	estimate func(Job) int64

	mu      sync.Mutex
	cond    *sync.Cond
	heap    jobHeap
	byID    map[string]*entry // pending and running
	running int
	seq     uint64
	stats   QueueStats
	closed  bool
	wg      sync.WaitGroup
}

// NewQueue makes a queue of workers (0 = all cores) calling render, and done
// after each job (from a worker goroutine).
func NewQueue(workers int, render RenderFunc, done func(Done)) *Queue {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	q := &Queue{render: render, done: done, workers: workers, byID: map[string]*entry{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// LimitMemory bounds the memory of the renders running at once: a job waits
// until the estimate of its peak memory (estimate(j) bytes; a job larger
// than limit counts as limit, so it runs alone) fits beside the running ones.
// Call it before Start.
func (q *Queue) LimitMemory(limit int64, estimate func(Job) int64) {
	q.memory, q.memLimit, q.estimate = semaphore.NewWeighted(limit), limit, estimate
}

// Start runs the workers until ctx ends or Close.
func (q *Queue) Start(ctx context.Context) {
	for i := 0; i < q.workers; i++ {
		q.wg.Add(1)
		go q.work(ctx)
	}
	go func() {
		<-ctx.Done()
		q.Close()
	}()
}

// Close stops taking jobs, cancels running ones and waits for the workers.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		for _, e := range q.byID {
			if e.cancel != nil {
				e.cancel()
			}
		}
		q.cond.Broadcast()
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// Add queues j. When the same key is pending or running, j's tag joins it
// (and a higher priority raises it); it returns false then.
func (q *Queue) Add(j Job) bool {
	id := j.Key.ID()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if e, ok := q.byID[id]; ok && !e.cancelled {
		e.tags[j.Tag] = true
		if j.Priority > e.job.Priority {
			e.job.Priority = j.Priority
			if e.index >= 0 {
				heap.Fix(&q.heap, e.index)
			}
		}
		return false
	}
	q.seq++
	e := &entry{job: j, tags: map[string]bool{j.Tag: true}, seq: q.seq}
	q.byID[id] = e
	heap.Push(&q.heap, e)
	q.cond.Signal()
	return true
}

// Forget drops tag's interest in key; a job nobody wants any more is removed,
// or cancelled when running.
func (q *Queue) Forget(key Key, tag string) {
	id := key.ID()
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.byID[id]
	if !ok {
		return
	}
	delete(e.tags, tag)
	if len(e.tags) > 0 {
		return
	}
	if e.index >= 0 {
		heap.Remove(&q.heap, e.index)
		delete(q.byID, id)
		q.stats.Canceled++
	} else if e.cancel != nil {
		// Running: cancel it. A later Add of the same key must start a new
		// job rather than join this one, which ends without a result.
		e.cancelled = true
		e.cancel()
	}
}

// Bump raises the priority of pending jobs wanted by any of tags.
func (q *Queue) Bump(tags []string, priority int) int {
	want := make(map[string]bool, len(tags))
	for _, t := range tags {
		want[t] = true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, e := range q.byID {
		if e.index < 0 || e.job.Priority >= priority {
			continue
		}
		for t := range e.tags {
			if want[t] {
				e.job.Priority = priority
				heap.Fix(&q.heap, e.index)
				n++
				break
			}
		}
	}
	return n
}

// Pending reports whether key is queued or rendering.
func (q *Queue) Pending(key Key) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.byID[key.ID()]
	return ok
}

// Stats is a snapshot.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Pending = q.heap.Len()
	s.Running = q.running
	s.Workers = q.workers
	return s
}

// Idle waits until nothing is pending or running, or ctx ends.
func (q *Queue) Idle(ctx context.Context) error {
	for {
		q.mu.Lock()
		idle := q.heap.Len() == 0 && q.running == 0
		q.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (q *Queue) work(ctx context.Context) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		for q.heap.Len() == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		e := heap.Pop(&q.heap).(*entry)
		jctx, cancel := context.WithCancel(ctx)
		e.cancel = cancel
		q.running++
		// Share the cores among running jobs: one long MP3 alone uses them all.
		cores := max(1, runtime.GOMAXPROCS(0)/q.running)
		if q.heap.Len() > 0 {
			cores = max(1, runtime.GOMAXPROCS(0)/q.workers)
		}
		job := e.job
		q.mu.Unlock()

		var meta Meta
		var err error
		var held int64
		if q.memory != nil {
			held = min(max(q.estimate(job), 1), q.memLimit)
			err = q.memory.Acquire(jctx, held)
			if err != nil {
				held = 0
			}
		}
		if err == nil {
			meta, err = q.safeRender(jctx, job, cores)
		}
		if held > 0 {
			q.memory.Release(held)
		}
		cancelled := jctx.Err() != nil
		cancel()

		q.mu.Lock()
		q.running--
		if q.byID[job.Key.ID()] == e {
			delete(q.byID, job.Key.ID())
		}
		tags := make([]string, 0, len(e.tags))
		for t := range e.tags {
			tags = append(tags, t)
		}
		switch {
		case err != nil && (errors.Is(err, context.Canceled) || cancelled):
			q.stats.Canceled++
		case err != nil:
			q.stats.Failed++
		default:
			q.stats.Done++
		}
		q.mu.Unlock()
		if q.done != nil {
			q.done(Done{Key: job.Key, Job: job, Tags: tags, Meta: meta, Err: err})
		}
	}
}

func (q *Queue) safeRender(ctx context.Context, j Job, cores int) (m Meta, err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("preview renderer crashed", "kind", j.Key.Kind, "panic", r)
			err = errors.New("renderer crashed")
		}
	}()
	return q.render(ctx, j, cores)
}

// jobHeap orders by priority (high first), then size (small first), then age.
type jobHeap []*entry

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.job.Priority != b.job.Priority {
		return a.job.Priority > b.job.Priority
	}
	if a.job.Size != b.job.Size {
		return a.job.Size < b.job.Size
	}
	return a.seq < b.seq
}
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *jobHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *jobHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
