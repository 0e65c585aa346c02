package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"atelier/app"
)

// `atelier settings`: the switches persist in the data dir, start at login
// writes an autostart entry that starts the app hidden, and a wrong value
// says what to give.
func TestCLISettings(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	show := func() app.Settings {
		t.Helper()
		out, err := runCLI(t, "--data-dir", data, "--json", "settings")
		if err != nil {
			t.Fatal(err)
		}
		var st app.Settings
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("settings --json: %v in %q", err, out)
		}
		return st
	}
	if st := show(); st.PauseOnBattery || st.StartAtLogin {
		t.Fatalf("fresh settings %+v", st)
	}
	if out, err := runCLI(t, "--data-dir", data, "settings", "pause-on-battery", "on"); err != nil || !regexp.MustCompile(`Pause on battery\s+on`).MatchString(out) {
		t.Fatalf("pause-on-battery on: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "--data-dir", data, "settings", "start-at-login", "on"); err != nil {
		t.Fatal(err)
	}
	st := show()
	if !st.PauseOnBattery || !st.StartAtLogin {
		t.Fatalf("after switching on: %+v", st)
	}
	entry, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "autostart", "atelier.desktop"))
	if err != nil || !strings.Contains(string(entry), " --hidden") {
		t.Fatalf("autostart entry %q %v: it must start the app hidden", entry, err)
	}
	if _, err := runCLI(t, "--data-dir", data, "settings", "pause-on-battery", "off"); err != nil {
		t.Fatal(err)
	}
	if st := show(); st.PauseOnBattery {
		t.Fatal("pause on battery still on after off")
	}
	_, err = runCLI(t, "--data-dir", data, "settings", "pause-on-battery", "maybe")
	if err == nil || !strings.Contains(err.Error(), `"maybe" is neither on nor off: give on or off`) {
		t.Fatalf("a wrong value: %v", err)
	}
}
