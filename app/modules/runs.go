package modules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"atelier/app/apierr"
)

// ErrRunCancelled is the cause of a run the creator stopped.
var ErrRunCancelled = errors.New("stopped by the creator")

// runs are the module runs under way, by module name, so the creator can
// stop them (RunCancel) from any window: the desktop bridge cannot cancel a
// call the way an API client going away does.
type runs struct {
	mu   sync.Mutex
	next int
	m    map[string]map[int]context.CancelCauseFunc
}

// start registers a run of module name and returns its context and the func
// to call when it ends.
func (r *runs) start(ctx context.Context, name string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	if r.m == nil {
		r.m = map[string]map[int]context.CancelCauseFunc{}
	}
	r.next++
	id := r.next
	if r.m[name] == nil {
		r.m[name] = map[int]context.CancelCauseFunc{}
	}
	r.m[name][id] = cancel
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.m[name], id)
		if len(r.m[name]) == 0 {
			delete(r.m, name)
		}
		r.mu.Unlock()
		cancel(nil)
	}
}

func (r *runs) cancel(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.m[name] {
		c(ErrRunCancelled)
	}
	return len(r.m[name])
}

// RunState is a "modules.run" event: a run started or ended.
type RunState struct {
	Module  string `json:"module"`
	Project string `json:"project"`
	State   string `json:"state"`             // "running" or "done"
	Outcome string `json:"outcome,omitempty"` // when done
}

// RunCancel stops the runs under way of module name (the sandbox closes the
// module at once; the run's record says "cancelled") and answers how many
// it stopped.
func (s *Service) RunCancel(name string) (int, error) {
	n := s.runs.cancel(name)
	if n == 0 {
		return 0, apierr.Errorf(apierr.NotFound, "%s is not running", name)
	}
	return n, nil
}

// MaxRunFile is the most of a written file RunFile shows.
const MaxRunFile = 4 << 20

// RunFile is a file a run wrote, to show in the app.
type RunFile struct {
	Path      string `json:"path"`
	Size      int64  `json:"size"`
	Text      string `json:"text"`
	Truncated bool   `json:"truncated,omitempty"`
}

// runOutput checks that output is a run's output folder under the data dir.
func (s *Service) runOutput(output string) (string, error) {
	abs, err := filepath.Abs(output)
	if err != nil {
		return "", apierr.Wrap(apierr.InvalidInput, err)
	}
	rel, err := filepath.Rel(s.runsDir, abs)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return "", apierr.Errorf(apierr.InvalidInput, "%s is not the output folder of a module run (those are under %s)", output, s.runsDir)
	}
	return abs, nil
}

// RunFile reads a file a run wrote into its output folder (at most
// MaxRunFile bytes), so the app can show a report file.
func (s *Service) RunFile(output, path string) (RunFile, error) {
	dir, err := s.runOutput(output)
	if err != nil {
		return RunFile{}, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return RunFile{}, apierr.Errorf(apierr.NotFound, "output folder %s: %v (it may have been deleted)", dir, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(path))
	if err != nil {
		return RunFile{}, apierr.Errorf(apierr.NotFound, "%s in %s: %v", path, dir, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return RunFile{}, apierr.Errorf(apierr.InvalidInput, "%s in %s is not a file", path, dir)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxRunFile))
	if err != nil {
		return RunFile{}, fmt.Errorf("read %s in %s: %w", path, dir, err)
	}
	return RunFile{Path: path, Size: fi.Size(), Text: string(b), Truncated: fi.Size() > MaxRunFile}, nil
}

// RunReveal shows a run's output folder in the desktop's file manager.
func (s *Service) RunReveal(ctx context.Context, output string) error {
	dir, err := s.runOutput(output)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return apierr.Errorf(apierr.NotFound, "output folder %s does not exist any more", dir)
	}
	opener := "xdg-open"
	switch runtime.GOOS {
	case "darwin":
		opener = "open"
	case "windows":
		opener = "explorer"
	}
	bin, err := exec.LookPath(opener)
	if err != nil {
		return apierr.Errorf(apierr.NotFound, "cannot show %s: %s is not installed (open the folder yourself)", dir, opener)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	cmd := exec.CommandContext(ctx, bin, dir)
	if err := cmd.Start(); err != nil {
		cancel()
		return fmt.Errorf("show %s with %s: %w", dir, opener, err)
	}
	go func() { cmd.Wait(); cancel() }()
	return nil
}
