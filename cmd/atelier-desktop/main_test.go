package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"atelier/app"
	"atelier/app/api"
	"atelier/app/desktop"
)

// The launcher looks at the same data dir the window program opens.
func TestDataDirIsTheWindowsDataDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	for _, atelierHome := range []string{"", filepath.Join(home, "studio")} {
		t.Setenv("ATELIER_HOME", atelierHome)
		want, err := app.DefaultDirs()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := desktop.DataDir(""); err != nil || got != want.Data {
			t.Errorf("ATELIER_HOME=%q: %q, %v; the window opens %q", atelierHome, got, err, want.Data)
		}
	}
	t.Chdir(home)
	if got, _ := desktop.DataDir("rel/d"); got != app.DataDirFlag("rel/d").Data {
		t.Errorf("--data-dir rel/d: %q, the window opens %q", got, app.DataDirFlag("rel/d").Data)
	}
}

func TestForwardedOnlyWhenAWindowRuns(t *testing.T) {
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := filepath.Join(t.TempDir(), "data")
	if forwarded(lg, parsed(t, []string{"--data-dir", data}), time.Now()) {
		t.Error("forwarded with no window running")
	}
	if _, ok := parseLaunch([]string{"--no-such-flag"}); ok {
		t.Error("a flag it does not know parsed: it would be forwarded (the window program reports it)")
	}
	release, err := desktop.Claim(data)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// A start at login while the app runs: nothing to do.
	if !forwarded(lg, parsed(t, []string{"--data-dir", data, "--hidden"}), time.Now()) {
		t.Error("a --hidden launch with a window running went on to start another")
	}
	// A window whose engine does not answer (yet): the window program
	// decides, as it did before there was a launcher.
	if forwarded(lg, parsed(t, []string{"-data-dir=" + data}), time.Now()) {
		t.Error("forwarded to a window whose engine has no socket")
	}
}

func TestWindowProgramBesideTheLauncher(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := filepath.EvalSymlinks(self); err == nil {
		self = s
	}
	beside := filepath.Join(filepath.Dir(self), desktop.WindowName)
	// the package's folder, as on a machine without the package
	defer func(d string) { libDir = d }(libDir)
	libDir = t.TempDir()
	if _, err := windowProgram(desktop.WindowName); err == nil {
		t.Fatal("found a window program where there is none")
	}
	// installed by the package
	pkg := filepath.Join(libDir, desktop.WindowName)
	if err := os.WriteFile(pkg, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := windowProgram(desktop.WindowName); err != nil || got != pkg {
		t.Errorf("windowProgram: %q, %v; want the package's %q", got, err, pkg)
	}
	// beside the launcher (a build in build/bin): that one first
	if err := os.WriteFile(beside, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(beside)
	if got, err := windowProgram(desktop.WindowName); err != nil || got != beside {
		t.Errorf("windowProgram: %q, %v; want %q", got, err, beside)
	}
}

// A start at login runs the tray daemon instead of a hidden window when a
// tray host runs and no engine does; otherwise the window program decides
// as before.
func TestStartAtLoginRunsTheTrayDaemon(t *testing.T) {
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	data := filepath.Join(t.TempDir(), "data")
	prog := filepath.Join(t.TempDir(), "atelier")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(desktop.DaemonProgramEnv, prog)
	host := func(context.Context) error { return nil }
	noHost := func(context.Context) error { return errors.New("no tray host") }

	got := trayDaemonInstead(lg, parsed(t, []string{"--data-dir", data, "--hidden"}), host, 0)
	if want := []string{prog, "--data-dir", data, "daemon", "--tray"}; !slices.Equal(got, want) {
		t.Errorf("start at login: %q, want %q", got, want)
	}
	if got := trayDaemonInstead(lg, parsed(t, []string{"--data-dir", data}), host, 0); got != nil {
		t.Errorf("a launch to a window ran %q", got)
	}
	if got := trayDaemonInstead(lg, parsed(t, []string{"--data-dir", data, "--hidden"}), noHost, 600*time.Millisecond); got != nil {
		t.Errorf("with no tray host: %q", got)
	}
	t.Setenv(desktop.DaemonProgramEnv, filepath.Join(t.TempDir(), "none"))
	if got := trayDaemonInstead(lg, parsed(t, []string{"--data-dir", data, "--hidden"}), host, 0); got != nil {
		t.Errorf("with no atelier program: %q", got)
	}
	t.Setenv(desktop.DaemonProgramEnv, prog)
	// An engine answers on the data dir (a daemon the creator runs): the
	// hidden window attaches to it, as before.
	os.MkdirAll(data, 0o700)
	l, err := net.Listen("unix", filepath.Join(data, api.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := trayDaemonInstead(lg, parsed(t, []string{"--data-dir", data, "--hidden"}), host, 0); got != nil {
		t.Errorf("with an engine running: %q", got)
	}
}

// The launcher starts the view program (no engine linked) only while an
// engine answers on the data dir the arguments name.
func TestEngineAnswersOnlyWithAnEngine(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if engineAnswers(parsed(t, []string{"--data-dir", data})) {
		t.Error("no engine runs, yet the launcher would start the view program")
	}
	l, err := net.Listen("unix", filepath.Join(data, api.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if !engineAnswers(parsed(t, []string{"--data-dir", data, "--skip-onboarding"})) {
		t.Error("an engine answers, yet the launcher would start the window program")
	}
	if _, ok := parseLaunch([]string{"--data-dir", data, "--no-such-flag"}); ok {
		t.Error("arguments the window program rejects parsed: it must be the one to say so")
	}
}

// parsed is the launch args say; they must parse.
func parsed(t *testing.T, args []string) launch {
	t.Helper()
	l, ok := parseLaunch(args)
	if !ok {
		t.Fatalf("%q does not parse", args)
	}
	return l
}
