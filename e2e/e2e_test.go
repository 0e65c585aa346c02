//go:build e2e

// Package e2e drives the built app the way a creator does: a real desktop
// window under Xvfb, and the browser UI in Chromium. `make test` builds the
// binaries first (build/bin) and runs these with -tags e2e.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root, from this file's location.
func repoRoot(t *testing.T) string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(f))
}

// bin returns a built binary, failing (never skipping) when it is missing.
func bin(t *testing.T, name string) string {
	p := filepath.Join(repoRoot(t), "build", "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not built: run `make test` (it builds it first): %v", p, err)
	}
	return p
}

// cli runs the atelier CLI on dataDir and returns its stdout.
func cli(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(t, "atelier"), append([]string{"--data-dir", dataDir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("atelier %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

func artifacts(t *testing.T) string {
	d := filepath.Join(repoRoot(t), "test-results")
	os.MkdirAll(d, 0o755)
	return d
}

func status(t *testing.T, dataDir string) map[string]any {
	var st map[string]any
	if err := json.Unmarshal([]byte(cli(t, dataDir, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDesktopWindow starts the real desktop app under Xvfb, registers a
// project with the CLI while the window is open (the CLI goes through the
// app's socket), changes a file, and checks that the change reaches the
// window: the frontend puts the count of new changes in the window title.
func TestDesktopWindow(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-window does)")
	}
	data := filepath.Join(t.TempDir(), "data")
	proj := filepath.Join(t.TempDir(), "Demo EP")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "notes.md"), []byte("# notes\n"), 0o644)
	// Real media for the Library screenshot: the demo generator's sketches and art.
	ws := t.TempDir()
	gen := exec.Command(bin(t, "atelier"), "demo", ws)
	gen.Env = append(os.Environ(), "ATELIER_HOME="+filepath.Join(ws, "home"))
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("atelier demo: %v\n%s", err, out)
	}
	for _, f := range []string{"01 Morning Sketch.wav", "02 Night Drive.wav", "cover.png", "studio.jpg"} {
		b, err := os.ReadFile(filepath.Join(ws, "project", "Night Drive EP", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(proj, f), b, 0o644)
	}

	cmd := exec.Command(bin(t, "atelier-desktop"), "--data-dir", data, "--skip-onboarding")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			exec.Command("import", "-window", "root", filepath.Join(artifacts(t), "desktop-failure.png")).Run()
			for _, w := range strings.Fields(xdotool("search", "--name", ".")) {
				t.Logf("window %s: %q", w, xdotool("getwindowname", w))
			}
		}
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("desktop app output:\n%s", logs.String())
		}
	}()
	eventually(t, 60*time.Second, "the app's API socket", func() bool {
		_, err := os.Stat(filepath.Join(data, "atelier.sock"))
		return err == nil
	})
	// The frontend names the window after its view once it has loaded.
	eventually(t, 90*time.Second, "the Atelier window with its frontend loaded", func() bool {
		return xdotool("search", "--name", "Projects — Atelier") != ""
	})

	out := cli(t, data, "project", "add", proj)
	if !strings.Contains(out, "Demo EP") {
		t.Fatalf("project add said %q", out)
	}
	st := status(t, data)
	if st["running"] != true {
		t.Fatalf("the CLI did not reach the running app: status %v", st)
	}
	// The first index reports each file once: the window title counts them.
	eventually(t, 30*time.Second, "the first index to reach the window", func() bool {
		return titleCount() == 5 // notes.md and the four media files
	})
	if !strings.Contains(cli(t, data, "files", "demo-ep"), "notes.md") {
		t.Fatal("notes.md is not in the index")
	}

	// A new file reaches the index and the window (one more new change).
	os.WriteFile(filepath.Join(proj, "take-2.wav"), []byte("RIFF not really"), 0o644)
	eventually(t, 30*time.Second, "the change in the window title", func() bool { return titleCount() == 6 })
	eventually(t, 10*time.Second, "take-2.wav in the index", func() bool {
		return strings.Contains(cli(t, data, "files", "demo-ep", "--kind", "audio"), "take-2.wav")
	})
	// Open the Activity view (Ctrl+2) and keep a screenshot of it.
	win := strings.Fields(xdotool("search", "--name", "— Atelier"))[0]
	// No window manager runs under Xvfb: focus the window directly, then type
	// through XTEST as a keyboard would.
	xdotool("windowfocus", "--sync", win)
	xdotool("key", "ctrl+2")
	eventually(t, 10*time.Second, "the Activity view to clear the new-changes count", func() bool {
		return xdotool("search", "--name", "new change") == ""
	})
	time.Sleep(500 * time.Millisecond)
	shot := filepath.Join(artifacts(t), "desktop-activity.png")
	if out, err := exec.Command("import", "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v %s", err, out)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s looks empty", shot)
	}
	t.Logf("screenshot: %s", shot)

	// Every view, reached by its shortcut, for the README (make screenshots).
	for i, view := range []string{"Projects", "Activity", "Library", "Modules", "Privacy", "Sync", "Settings"} {
		xdotool("key", fmt.Sprintf("ctrl+%d", i+1))
		eventually(t, 10*time.Second, view+" view", func() bool {
			return xdotool("search", "--name", "^"+view+" — Atelier") != ""
		})
		if view == "Library" {
			time.Sleep(4 * time.Second) // previews render in the background
		} else {
			time.Sleep(1500 * time.Millisecond) // charts and lists load
		}
		p := filepath.Join(artifacts(t), "view-"+strings.ToLower(view)+".png")
		if out, err := exec.Command("import", "-window", "root", "-crop", "1200x800+100+50", p).CombinedOutput(); err != nil {
			t.Fatalf("screenshot %s: %v %s", view, err, out)
		}
	}
}

// titleCount is the number of new changes the Atelier window's title shows
// ("Projects — Atelier (3 new changes)"), 0 when it shows none.
func titleCount() int {
	for _, w := range strings.Fields(xdotool("search", "--name", "— Atelier")) {
		name := xdotool("getwindowname", w)
		if i := strings.Index(name, "("); i >= 0 {
			var n int
			fmt.Sscanf(name[i+1:], "%d", &n)
			return n
		}
	}
	return 0
}

func xdotool(args ...string) string {
	out, _ := exec.Command("xdotool", args...).Output()
	return strings.TrimSpace(string(out))
}

// TestBrowserUI runs the browser end-to-end suite (playwright-core driving
// Debian's chromium) against `atelier daemon --ui`, the real Go backend.
func TestBrowserUI(t *testing.T) {
	root := repoRoot(t)
	bin(t, "atelier")
	if _, err := os.Stat(filepath.Join(root, "frontend", "dist", "index.html")); err != nil {
		t.Fatal("frontend/dist is not built: run `make test`")
	}
	cmd := exec.Command("node", "--test", "--test-concurrency=1", "--test-reporter=spec", "e2e/")
	cmd.Dir = filepath.Join(root, "frontend")
	cmd.Env = append(os.Environ(), "ATELIER_BIN="+filepath.Join(root, "build", "bin", "atelier"), "ATELIER_ARTIFACTS="+artifacts(t))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(fmt.Errorf("browser suite failed: %w", err))
	}
}

// TestPackageInstall installs the .deb built by `make package` with apt-get
// (as on a clean Debian 12 machine), checks the menu entry, and launches the
// app from it under Xvfb with a fresh home: the first-run introduction opens.
func TestPackageInstall(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("DISPLAY is not set: run under scripts/with-xvfb.sh (make test-package does)")
	}
	debs, _ := filepath.Glob(filepath.Join(repoRoot(t), "build", "package", "atelier_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("want one built package in build/package, found %v: run `make package`", debs)
	}
	out, err := exec.Command("apt-get", "install", "-y", "--reinstall", "--no-install-recommends", debs[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get install %s: %v\n%s", debs[0], err, out)
	}
	for _, p := range []string{"/usr/bin/atelier", "/usr/bin/atelier-desktop", "/usr/lib/atelier/atelier-desktop-window", "/usr/lib/atelier/atelier-desktop-view", "/usr/share/applications/atelier.desktop", "/usr/share/icons/hicolor/48x48/apps/atelier.png", "/usr/lib/systemd/user/atelier.service", "/usr/share/atelier/autostart/atelier.desktop"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the package did not install %s", p)
		}
	}
	if out, err := exec.Command("desktop-file-validate", "/usr/share/applications/atelier.desktop").CombinedOutput(); err != nil {
		t.Fatalf("menu entry invalid: %v\n%s", err, out)
	}
	if out, err := exec.Command("atelier", "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "atelier version") {
		t.Fatalf("atelier on PATH: %v %s", err, out)
	}
	home := t.TempDir()
	launch := exec.Command("gtk-launch", "atelier")
	launch.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	// gtk-launch returns once the app is started; the app keeps running (and
	// holding any output pipe), so its output goes to a file.
	logf, _ := os.Create(filepath.Join(artifacts(t), "package-launch.log"))
	defer logf.Close()
	launch.Stdout, launch.Stderr = logf, logf
	if err := launch.Run(); err != nil {
		t.Fatalf("launch from the menu entry: %v (see test-results/package-launch.log)", err)
	}
	defer exec.Command("pkill", "-f", "/usr/bin/atelier-desktop").Run()
	defer exec.Command("pkill", "-f", "atelier-desktop").Run()
	eventually(t, 90*time.Second, "the installed app's window", func() bool {
		return xdotool("search", "--name", "— Atelier") != ""
	})
	time.Sleep(time.Second)
	shot := filepath.Join(artifacts(t), "package-first-run.png")
	exec.Command("import", "-window", "root", shot).Run()
	if _, err := os.Stat(filepath.Join(home, ".config", "atelier", "db")); err != nil {
		t.Fatalf("the installed app did not create its data dir under the user's config dir: %v", err)
	}
}
