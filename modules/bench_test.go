package modules

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"atelier/app/modules/sandbox"
	"atelier/modules/internal/studio"
	"atelier/modules/loudness-report/report"
)

// benchFiles is the figure: a loudness report over 1,000 audio files.
var benchFiles = envInt("BENCH_FILES", 1000)

func loudnessProject(b *testing.B) string {
	dir := filepath.Join(b.TempDir(), "project")
	for i := 0; i < benchFiles; i++ {
		writeWAV(b, filepath.Join(dir, fmt.Sprintf("take-%02d", i/100), fmt.Sprintf("%04d.wav", i)), 44100, 0.5, 0.1+float64(i%9)/10)
	}
	return dir
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoudnessReportSandboxed runs the loudness-report module over
// 1,000 WAV files (0.5 s each) in the sandbox, writing CSV and HTML (goal:
// within 2× BenchmarkLoudnessReportNative). The audio is decoded and
// measured by the sandbox's measure host function; the module walks the
// project, writes the CSV and the HTML.
func BenchmarkLoudnessReportSandboxed(b *testing.B) {
	proj := loudnessProject(b)
	m := staged(b, "loudness-report")
	r := sharedRunner(b)
	out := b.TempDir()
	run := func() {
		rec, err := r.Run(context.Background(), m, sandbox.Request{Project: proj, Output: out, Limits: sandbox.Limits{Time: 10 * time.Minute}})
		if err != nil || !strings.Contains(rec.Report, fmt.Sprintf("%d audio files measured", benchFiles)) {
			b.Fatalf("%v\n%s\n%s", err, rec.Report, rec.Log)
		}
	}
	// The first run compiles the module (BenchmarkStartCold in
	// app/modules/sandbox measures that); the figure is a run of an
	// installed module, as a creator's second and later runs are.
	run()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		run()
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkLoudnessReportNative is the same report computed by the same code
// natively, as Atelier itself would.
func BenchmarkLoudnessReportNative(b *testing.B) {
	proj := loudnessProject(b)
	cpu := cpuTime()
	for b.Loop() {
		rep, err := report.Run(context.Background(), studio.Env{Project: proj})
		if err != nil || len(rep.Rows) != benchFiles {
			b.Fatal(err)
		}
		_ = rep.CSV()
		_ = rep.HTML()
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}
