// Package power tells whether the machine runs on battery, from the kernel's
// power supply class (/sys/class/power_supply/*: type, online, status,
// scope), so heavy background work can pause there when the creator asks.
package power

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SysfsDir is where Linux lists the power supplies.
const SysfsDir = "/sys/class/power_supply"

// Supply is what one power supply folder says, each file's text trimmed.
type Supply struct {
	Name   string
	Type   string // "Mains", "USB", "Battery", "UPS", ...
	Online string // "1" when a mains or USB supply is plugged in
	Status string // a battery's "Charging", "Discharging", "Full", ...
	Scope  string // "Device" for a peripheral's battery (a mouse, a headset)
}

// OnBattery decides from the supplies whether the machine runs on battery:
// yes when it has a system battery and no mains (or USB) supply is online,
// or, where the machine lists no mains supply, when a system battery says it
// is discharging. A machine without a system battery is never on battery;
// peripherals' batteries do not count.
func OnBattery(supplies []Supply) bool {
	battery, mains, online, discharging := false, false, false, false
	for _, s := range supplies {
		switch strings.ToLower(s.Type) {
		case "mains", "usb", "ups":
			mains = true
			if s.Online == "1" {
				online = true
			}
		case "battery":
			if strings.EqualFold(s.Scope, "device") {
				continue
			}
			battery = true
			if strings.EqualFold(s.Status, "discharging") {
				discharging = true
			}
		}
	}
	if !battery {
		return false
	}
	if mains {
		return !online
	}
	return discharging
}

// Read lists the power supplies under dir (SysfsDir, or a test's folder). A
// missing dir is a machine that reports none (a container, not Linux): no
// supplies, no error.
func Read(dir string) ([]Supply, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the power supplies in %s: %w", dir, err)
	}
	var out []Supply
	for _, en := range entries {
		p := filepath.Join(dir, en.Name())
		s := Supply{Name: en.Name(), Type: field(p, "type"), Online: field(p, "online"), Status: field(p, "status"), Scope: field(p, "scope")}
		if s.Type == "" {
			continue // not a supply (or gone meanwhile)
		}
		out = append(out, s)
	}
	return out, nil
}

// Check reads dir and says whether the machine runs on battery.
func Check(dir string) (bool, error) {
	s, err := Read(dir)
	if err != nil {
		return false, err
	}
	return OnBattery(s), nil
}

// field reads one small attribute file (sysfs attributes are a line each;
// at most 64 bytes are read, so a strange file costs nothing).
func field(dir, name string) string {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	defer f.Close()
	var b [64]byte
	n, _ := f.Read(b[:])
	return strings.TrimSpace(string(b[:n]))
}
