package power

import "bytes"

// IsSupplyEvent reports whether msg, one kernel uevent as it arrives on the
// netlink socket ("ACTION@DEVPATH\0KEY=VALUE\0..."), is about a power
// supply: a charger plugged in or out, a battery's status changing.
func IsSupplyEvent(msg []byte) bool {
	head, rest, ok := bytes.Cut(msg, []byte{0})
	if !ok || !bytes.Contains(head, []byte("@")) {
		return false // not a kernel uevent (udev's own messages start "libudev")
	}
	for len(rest) > 0 {
		var kv []byte
		kv, rest, _ = bytes.Cut(rest, []byte{0})
		if bytes.Equal(kv, []byte("SUBSYSTEM=power_supply")) {
			return true
		}
	}
	return false
}
