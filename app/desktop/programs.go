package desktop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The desktop app's programs: the launcher (cmd/atelier-desktop), the
// window program that opens its own engine when none runs, and the view
// program that only attaches to a running one (the repository's root
// package, built without and with the viewonly tag). The window and view
// programs live beside the launcher in a build (build/bin) and in
// /usr/lib/atelier in the Debian package.
const (
	LauncherName = "atelier-desktop"
	WindowName   = "atelier-desktop-window"
	ViewName     = "atelier-desktop-view"
)

// DataDir is the data dir a desktop program opens: --data-dir (made
// absolute), else $ATELIER_HOME/data, else the user config dir's atelier
// folder, as app.DataDirFlag and app.DefaultDirs say (a test keeps them in
// step; the desktop programs do not link the engine's package).
func DataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if h := os.Getenv("ATELIER_HOME"); h != "" {
		return filepath.Join(h, "data"), nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config dir (set ATELIER_HOME or --data-dir): %w", err)
	}
	return filepath.Join(cfg, "atelier"), nil
}

// FindProgram finds name beside this program (a build's build/bin, or
// the package's /usr/bin) and else on PATH. It answers name itself when
// neither has it (exec then says it is missing).
func FindProgram(name string) string {
	if self, err := os.Executable(); err == nil {
		if s, err := filepath.EvalSymlinks(self); err == nil {
			self = s
		}
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// Notify shows a desktop notification through notify-send when it is
// there (the freedesktop notification service); the window's status line
// shows every notice either way.
func Notify(title, body string) {
	if p, err := exec.LookPath("notify-send"); err == nil {
		cmd := exec.Command(p, "--app-name=Atelier", title, body)
		if cmd.Start() == nil {
			go cmd.Wait()
		}
	}
}
