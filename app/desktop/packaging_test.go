package desktop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The files build/linux ships for running in the background: the systemd
// user unit (checked by systemd itself) and the start-at-login entry.

func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSystemdUserUnit(t *testing.T) {
	unit := repoFile(t, "build/linux/atelier.service")
	for _, want := range []string{"ExecStart=/usr/bin/atelier daemon", "KillSignal=SIGTERM", "WantedBy=default.target", "Nice=10"} {
		if !strings.Contains(unit, want) {
			t.Errorf("atelier.service lacks %q", want)
		}
	}
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is not installed (Debian package systemd; scripts/deps.sh test installs it): %v", err)
	}
	cmd := exec.Command(bin, "verify", "--user", filepath.Join("..", "..", "build", "linux", "atelier.service"))
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	// systemd only warns about unknown keys and bad values: any output is a finding.
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	nfpm := repoFile(t, "build/linux/nfpm.yaml")
	if !strings.Contains(nfpm, "src: build/linux/atelier.service\n    dst: /usr/lib/systemd/user/atelier.service") {
		t.Error("the package does not ship the user unit to /usr/lib/systemd/user")
	}
}

func TestAutostartEntryStartsHidden(t *testing.T) {
	entry := repoFile(t, "build/linux/atelier-autostart.desktop")
	if !strings.Contains(entry, "\nExec=atelier-desktop --hidden\n") {
		t.Errorf("the autostart entry does not start hidden:\n%s", entry)
	}
	bin, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Fatalf("desktop-file-validate is not installed (Debian package desktop-file-utils): %v", err)
	}
	if out, err := exec.Command(bin, filepath.Join("..", "..", "build", "linux", "atelier-autostart.desktop")).CombinedOutput(); err != nil {
		t.Errorf("desktop-file-validate: %v\n%s", err, out)
	}
	if !strings.Contains(repoFile(t, "build/linux/nfpm.yaml"), "src: build/linux/atelier-autostart.desktop") {
		t.Error("the package does not ship the autostart entry")
	}
}
