package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Start at login writes an autostart entry that runs the launcher beside
// this program (a build's build/bin) hidden, quoted when its path has a
// space, and turning it off removes the entry.
func TestStartAtLoginEntry(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	e, err := Open(DirsUnder(t.TempDir()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Settings.SetStartAtLogin(true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(autostartPath())
	if err != nil {
		t.Fatal(err)
	}
	want := "Exec=" + desktopExecArg(launcherPath()) + " --hidden\n"
	if !strings.Contains(string(b), want) {
		t.Fatalf("entry %q lacks %q", b, want)
	}
	if st, _ := e.Settings.Get(); !st.StartAtLogin {
		t.Fatal("Settings.Get says start at login is off")
	}
	if err := e.Settings.SetStartAtLogin(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(autostartPath()); !os.IsNotExist(err) {
		t.Fatalf("the entry is still there: %v", err)
	}

	for in, want := range map[string]string{
		"/usr/bin/atelier-desktop":               "/usr/bin/atelier-desktop",
		"/home/ana/My Tools/atelier-desktop":     `"/home/ana/My Tools/atelier-desktop"`,
		"/home/ana/$weird`dir\"/atelier-desktop": "\"/home/ana/\\$weird\\`dir\\\"/atelier-desktop\"",
	} {
		if got := desktopExecArg(in); got != want {
			t.Errorf("desktopExecArg(%q) = %s, want %s", in, got, want)
		}
	}
	// The launcher beside the window program is the one chosen.
	self, _ := os.Executable()
	if filepath.Base(self) != "atelier-desktop" {
		if _, err := os.Stat(filepath.Join(filepath.Dir(self), "atelier-desktop")); os.IsNotExist(err) && launcherPath() != "atelier-desktop" {
			t.Errorf("launcherPath() = %q with no launcher beside %s; want the one on PATH", launcherPath(), self)
		}
	}
}
