package app

import (
	"context"
	"sync"
	"time"

	"atelier/app/index"
)

// ActivityBatchInterval is how often file changes are sent to the UI: a storm
// of changes arrives as a few batches a second instead of thousands of events.
// The first change after a quiet spell starts the interval: with nothing
// changing, nothing wakes (an idle app in the tray costs no CPU).
const ActivityBatchInterval = 250 * time.Millisecond

// maxActivityBatch caps one batch; the rest is summarised as Dropped.
const maxActivityBatch = 500

// ActivityEvent is the name of the event carrying an ActivityBatch.
const ActivityEvent = "activity"

// ActivityItem is one file change as the UI shows it.
type ActivityItem struct {
	Seq     uint64          `json:"seq"` // increasing: lets a view merge Recent with the live stream
	Time    time.Time       `json:"time"`
	Project index.ProjectID `json:"project"`
	Op      index.Op        `json:"op"`
	Path    string          `json:"path"`
	From    string          `json:"from,omitempty"`
	Kind    index.Kind      `json:"kind"`
	Size    int64           `json:"size"`
}

// ActivityBatch is what one activity event carries.
type ActivityBatch struct {
	Items   []ActivityItem `json:"items"`
	Dropped int            `json:"dropped"` // changes in this interval beyond the batch cap
}

// ActivityService keeps the recent file changes and streams them in batches.
type ActivityService struct {
	e       *Engine
	mu      sync.Mutex
	pending []ActivityItem
	dropped int
	recent  []ActivityItem // ring of the last changes, newest last
	seq     uint64
	kick    chan struct{} // a change is pending: flush after ActivityBatchInterval
}

const recentActivity = 1000

func newActivityService(e *Engine) *ActivityService {
	return &ActivityService{e: e, kick: make(chan struct{}, 1)}
}

func (s *ActivityService) start(ctx context.Context) {
	s.e.Go(func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.kick:
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(ActivityBatchInterval):
			}
			s.flush()
		}
	})
}

func (s *ActivityService) publish(c index.Change) {
	it := ActivityItem{Time: time.Now(), Project: c.Record.Project, Op: c.Op, Path: c.Record.Path, From: c.From, Kind: c.Record.Kind, Size: c.Record.Size}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	it.Seq = s.seq
	if len(s.pending) == 0 && s.dropped == 0 {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	if len(s.pending) < maxActivityBatch {
		s.pending = append(s.pending, it)
	} else {
		s.dropped++
	}
	s.recent = append(s.recent, it)
	if len(s.recent) > 2*recentActivity {
		s.recent = append(s.recent[:0], s.recent[len(s.recent)-recentActivity:]...)
	}
}

func (s *ActivityService) flush() {
	s.mu.Lock()
	if len(s.pending) == 0 && s.dropped == 0 {
		s.mu.Unlock()
		return
	}
	b := ActivityBatch{Items: s.pending, Dropped: s.dropped}
	s.pending, s.dropped = nil, 0
	s.mu.Unlock()
	s.e.Emit(ActivityEvent, b)
}

// Recent returns up to limit of the latest file changes, newest first.
func (s *ActivityService) Recent(limit int) []ActivityItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 || limit > recentActivity {
		limit = recentActivity
	}
	n := min(limit, len(s.recent))
	out := make([]ActivityItem, 0, n)
	for i := len(s.recent) - 1; i >= len(s.recent)-n; i-- {
		out = append(out, s.recent[i])
	}
	return out
}
