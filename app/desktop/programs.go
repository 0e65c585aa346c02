package desktop

import (
	"os"
	"os/exec"
	"path/filepath"
)

// LauncherName is the desktop launcher's program (cmd/atelier-desktop).
const LauncherName = "atelier-desktop"

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
