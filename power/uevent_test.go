package power

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func uevent(parts ...string) []byte { return []byte(joinNUL(parts)) }

func joinNUL(parts []string) string {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.String()
}

func TestIsSupplyEvent(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  []byte
		want bool
	}{
		{"charger unplugged", uevent("change@/devices/LNXSYSTM:00/ACPI0003:00/power_supply/AC", "ACTION=change", "DEVPATH=/devices/LNXSYSTM:00/ACPI0003:00/power_supply/AC", "SUBSYSTEM=power_supply", "POWER_SUPPLY_NAME=AC", "POWER_SUPPLY_ONLINE=0", "SEQNUM=4711"), true},
		{"battery status", uevent("change@/devices/platform/battery/power_supply/BAT0", "ACTION=change", "SUBSYSTEM=power_supply", "POWER_SUPPLY_STATUS=Discharging"), true},
		{"a USB stick", uevent("add@/devices/pci0000:00/usb1/1-1", "ACTION=add", "SUBSYSTEM=usb", "DEVTYPE=usb_device"), false},
		{"a value that only mentions it", uevent("change@/devices/x", "ACTION=change", "SUBSYSTEM=input", "NOTE=SUBSYSTEM=power_supply"), false},
		{"udev's own message", uevent("libudev", "SUBSYSTEM=power_supply"), false},
		{"empty", nil, false},
		{"no NUL", []byte("change@/x SUBSYSTEM=power_supply"), false},
	} {
		if got := IsSupplyEvent(c.msg); got != c.want {
			t.Errorf("%s: IsSupplyEvent = %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzIsSupplyEvent: any bytes, no panic; a message said to be a supply
// event carries the key exactly.
func FuzzIsSupplyEvent(f *testing.F) {
	f.Add(uevent("change@/devices/AC", "ACTION=change", "SUBSYSTEM=power_supply"))
	f.Add(uevent("libudev", "SUBSYSTEM=power_supply"))
	f.Add([]byte("@\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if IsSupplyEvent(msg) && !bytes.Contains(msg, []byte("\x00SUBSYSTEM=power_supply")) {
			t.Fatalf("%q taken for a power supply event", msg)
		}
	})
}

// The kernel's uevent socket opens for an ordinary process, and the
// channel closes when the context ends (no goroutine left reading).
func TestChangesStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := Changes(ctx)
	if err != nil {
		t.Fatalf("Changes: %v (the engine would fall back to polling)", err)
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the channel is still open 5 s after its context ended")
		}
	}
}
