package syncsvc

import (
	"strings"
	"testing"
)

// Without a session bus the keyring is not asked (asking would make the
// D-Bus library start a dbus-daemon) and the error says what to use instead.
func TestKeyringWithoutSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	var k osKeyring
	if _, err := k.Get("x"); err == nil || !strings.Contains(err.Error(), "no OS keyring") {
		t.Fatalf("keyring Get without a bus: %v", err)
	}
}
