package power

import (
	"os"
	"path/filepath"
	"testing"
)

// Fake writes a power supply folder the way sysfs lays it out: name ->
// attribute -> text.
func fake(t testing.TB, dir string, supplies map[string]map[string]string) {
	t.Helper()
	for name, attrs := range supplies {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for k, v := range attrs {
			if err := os.WriteFile(filepath.Join(p, k), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCheckFakeSysfs(t *testing.T) {
	cases := []struct {
		name     string
		supplies map[string]map[string]string
		want     bool
	}{
		{"laptop unplugged", map[string]map[string]string{
			"AC":   {"type": "Mains", "online": "0"},
			"BAT0": {"type": "Battery", "status": "Discharging", "scope": "System"},
		}, true},
		{"laptop plugged in", map[string]map[string]string{
			"AC":   {"type": "Mains", "online": "1"},
			"BAT0": {"type": "Battery", "status": "Charging"},
		}, false},
		{"charging over USB-C", map[string]map[string]string{
			"AC":     {"type": "Mains", "online": "0"},
			"ucsi-0": {"type": "USB", "online": "1"},
			"BAT1":   {"type": "Battery", "status": "Charging"},
		}, false},
		{"desktop with a wireless mouse", map[string]map[string]string{
			"hidpp_battery_0": {"type": "Battery", "status": "Discharging", "scope": "Device"},
		}, false},
		{"no mains listed, battery discharging", map[string]map[string]string{
			"BAT0": {"type": "Battery", "status": "Discharging"},
		}, true},
		{"no mains listed, battery full", map[string]map[string]string{
			"BAT0": {"type": "Battery", "status": "Full"},
		}, false},
		{"nothing", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fake(t, dir, c.supplies)
			os.WriteFile(filepath.Join(dir, "not-a-supply"), []byte("x"), 0o644) // a stray file is skipped
			got, err := Check(dir)
			if err != nil || got != c.want {
				t.Fatalf("Check = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// A machine without the sysfs class (a container) reports no supplies: not on battery.
func TestCheckMissingDir(t *testing.T) {
	got, err := Check(filepath.Join(t.TempDir(), "none"))
	if err != nil || got {
		t.Fatalf("Check of a missing folder = %v, %v; want false, nil", got, err)
	}
}

// FuzzCheck reads folders of arbitrary attribute text: no panic, and a
// machine with an online mains supply is never on battery.
func FuzzCheck(f *testing.F) {
	f.Add("Mains", "0", "Battery", "Discharging", "System")
	f.Add("USB", "1", "Battery", "Charging", "")
	f.Add("", "\x00\xff", "battery", "discharging\n\n", "Device")
	f.Fuzz(func(t *testing.T, mtype, online, btype, status, scope string) {
		dir := t.TempDir()
		fake(t, dir, map[string]map[string]string{
			"A": {"type": mtype, "online": online},
			"B": {"type": btype, "status": status, "scope": scope},
		})
		got, err := Check(dir)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := Read(dir)
		for _, x := range s {
			if (x.Type == "Mains" || x.Type == "USB") && x.Online == "1" && got {
				t.Fatalf("on battery with %s online: %+v", x.Name, s)
			}
		}
	})
}
