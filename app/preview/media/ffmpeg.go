package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits bound one run of ffmpeg or ffprobe. The process runs apart from
// Atelier, so a decoder bug on a hostile file costs at most these.
type Limits struct {
	Timeout time.Duration // wall time; the process is killed after it (0 = DefaultLimits')
	Memory  int64         // address space of the process, bytes (0 = DefaultLimits')
	CPU     time.Duration // CPU time (0 = the timeout)
	Nice    int           // niceness of the process (0 = DefaultLimits'; <0 keeps Atelier's)
}

// DefaultLimits apply where a Limits field is zero. ffmpeg maps ~300 MiB of
// shared libraries before it reads a byte, so the address-space limit is
// well above what a decode needs (an HD frame is a few MiB) and far below
// what a file declaring absurd sizes would make it allocate.
var DefaultLimits = Limits{Timeout: 15 * time.Minute, Memory: 1 << 30, Nice: 10}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.Memory <= 0 {
		l.Memory = DefaultLimits.Memory
	}
	if l.CPU <= 0 {
		l.CPU = l.Timeout
	}
	if l.Nice == 0 {
		l.Nice = DefaultLimits.Nice
	}
	return l
}

// MaxAlloc bounds any single allocation inside ffmpeg (its -max_alloc).
var MaxAlloc = 256 << 20

// Paths of the tools; empty means looked up on PATH.
var (
	FFmpegPath  string
	FFprobePath string
)

// ErrToolMissing means ffmpeg, ffprobe or prlimit is not installed: not a
// property of the file (a preview that failed for it is worth retrying).
var ErrToolMissing = errors.New("a program Atelier runs to read this format is not installed")

func lookTool(name, override string) (string, error) {
	if override == "" {
		override = name
	}
	p, err := exec.LookPath(override)
	if err != nil {
		return "", fmt.Errorf("%s is not installed (%s not found): Atelier runs it to preview this format; install it (Debian: apt-get install ffmpeg): %w", name, override, ErrToolMissing)
	}
	return p, nil
}

// ErrStop is returned by a reader that has what it wants: the process is
// stopped and its exit status ignored.
var ErrStop = errors.New("stop reading")

// tailBuffer keeps the first max bytes written to it (ffmpeg's errors).
type tailBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	max   int
	extra int64
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(room, len(p))])
		t.extra += int64(max(len(p)-room, 0))
	} else {
		t.extra += int64(len(p))
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}

// run runs tool with args under lim; read consumes its standard output and
// returns nil at the end, ErrStop to stop it early, or an error. The
// returned error says what went wrong in words for the file named file; on
// success, diag is what the tool reported on its error output (damaged
// packets it decoded around), "" when nothing.
func run(ctx context.Context, lim Limits, tool string, args []string, file string, read func(io.Reader) error) (diag string, err error) {
	return runWith(ctx, lim, tool, args, file, nil, read)
}

// runWith is run with ffmpeg's standard error going through rep (which
// passes its error messages on), when rep is not nil.
func runWith(ctx context.Context, lim Limits, tool string, args []string, file string, rep *report, read func(io.Reader) error) (diag string, err error) {
	lim = lim.withDefaults()
	override := FFmpegPath
	if tool == "ffprobe" {
		override = FFprobePath
	}
	bin, err := lookTool(tool, override)
	if err != nil {
		return "", err
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	cmd, err := limitedCommand(ctx, lim, bin, args)
	if err != nil {
		return "", err
	}
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stderr = stderr
	if rep != nil {
		rep.errs = stderr
		cmd.Stderr = rep
	}
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	name := filepath.Base(file)
	timedOut := func() error {
		return timeoutError{fmt.Sprintf("%s took longer than %s on %s and was stopped: the file may be damaged", tool, lim.Timeout, name)}
	}
	if err := cmd.Start(); err != nil {
		if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", timedOut() // the time-out ran out before the tool started
		}
		return "", fmt.Errorf("start %s: %w", tool, err)
	}
	lower(cmd.Process.Pid, lim.Nice)
	rerr := read(out)
	if rerr != nil {
		cancel() // kills the process
	}
	// Drain what is left so the process is not blocked on a full pipe.
	_, _ = io.Copy(io.Discard, io.LimitReader(out, 1<<20))
	werr := cmd.Wait()
	switch {
	case parent.Err() != nil:
		return "", parent.Err()
	case errors.Is(rerr, ErrStop):
		return firstLines(stderr.String(), 2), nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", timedOut()
	case rerr != nil:
		return "", rerr
	case werr != nil:
		msg := stderr.String()
		if abs, err := filepath.Abs(file); err == nil {
			msg = strings.ReplaceAll(msg, "file:"+abs+": ", "")
		}
		return "", toolError(tool, name, lim, werr, msg)
	}
	return firstLines(stderr.String(), 2), nil
}

// ErrTimedOut matches the error of a tool stopped at its time-out: what it
// wrote before is not a trustworthy partial result.
var ErrTimedOut = errors.New("the tool took longer than its time-out")

type timeoutError struct{ msg string }

func (e timeoutError) Error() string        { return e.msg }
func (e timeoutError) Is(target error) bool { return target == ErrTimedOut }

// toolError turns a failed run into words.
func toolError(tool, name string, lim Limits, werr error, stderr string) error {
	msg := firstLines(stderr, 3)
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			switch ws.Signal() {
			case syscall.SIGXCPU:
				return fmt.Errorf("%s used more than %s of CPU time on %s and was stopped: the file may be damaged", tool, lim.CPU, name)
			case syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGABRT, syscall.SIGILL, syscall.SIGFPE:
				return fmt.Errorf("%s crashed on %s (%s): the file is probably damaged", tool, name, ws.Signal())
			case syscall.SIGXFSZ:
				return fmt.Errorf("%s tried to write a file while reading %s and was stopped", tool, name)
			}
		}
	}
	if strings.Contains(stderr, "Cannot allocate memory") || strings.Contains(stderr, "failed to map segment") || strings.Contains(stderr, "std::bad_alloc") {
		return fmt.Errorf("%s ran out of its %d MiB memory limit on %s: the file declares more than a preview needs, or is damaged", tool, lim.Memory>>20, name)
	}
	if strings.Contains(stderr, "moov atom not found") {
		return fmt.Errorf("%s is incomplete: its index (the moov atom) is missing, as after an interrupted recording or copy; copy it again from its source", name)
	}
	if msg == "" {
		msg = werr.Error()
	}
	return fmt.Errorf("%s could not read %s: %s", tool, name, msg)
}

// logPrefix is ffmpeg's "[aac @ 0x55d0c0ffee00] " before a message.
var logPrefix = regexp.MustCompile(`\[([a-z0-9_,]+) @ 0x[0-9a-f]+\] `)

func firstLines(s string, n int) string {
	s = logPrefix.ReplaceAllString(strings.TrimSpace(s), "$1: ")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "; ")
}

// inputArgs open path with the sniffed format's demuxer only, as a plain
// file ("file:" keeps ffmpeg from reading a name such as "concat:a|b" or
// "http://..." as a protocol), with one decoding thread and a bound on any
// single allocation.
func inputArgs(tool string, f Format, path string, seek float64) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-max_alloc", strconv.Itoa(MaxAlloc), "-threads", "1"}
	if tool == "ffmpeg" {
		args = append([]string{"-nostdin"}, args...)
	}
	if seek > 0 {
		args = append(args, "-ss", strconv.FormatFloat(seek, 'f', 3, 64))
	}
	if f.Demuxer != "" {
		args = append(args, "-f", f.Demuxer)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return append(args, "-i", "file:"+abs)
}

var errNoPrlimit = fmt.Errorf("prlimit is not installed: Atelier runs ffmpeg under it to bound its memory; install it (Debian: apt-get install util-linux): %w", ErrToolMissing)
