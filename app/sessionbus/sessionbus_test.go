package sessionbus

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// The keyring is only asked when a session bus can be reached without
// starting one: otherwise the D-Bus library runs dbus-launch.
func TestSessionBus(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range []struct {
		addr, runtime string
		ok            bool
	}{
		{"", "", false},
		{"autolaunch:", "", false},
		{"", dir, true}, // $XDG_RUNTIME_DIR/bus, as the library finds it
		{"", t.TempDir(), false},
		{"unix:path=" + sock, "", true},
		{"unix:path=" + strings.ReplaceAll(sock, "/", "%2f"), "", true},
		{"unix:path=" + filepath.Join(dir, "gone"), "", false},
		{"unix:path=" + filepath.Join(dir, "gone") + ";unix:abstract=/tmp/dbus-x", "", true},
		{"tcp:host=127.0.0.1,port=1", "", true},
		{"unixexec:path=/bin/sh", "", false},
		{"garbage", "", false},
	} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", c.addr)
		t.Setenv("XDG_RUNTIME_DIR", c.runtime)
		err := Reachable()
		if (err == nil) != c.ok {
			t.Errorf("DBUS_SESSION_BUS_ADDRESS=%q XDG_RUNTIME_DIR=%q: %v, want ok=%v", c.addr, c.runtime, err, c.ok)
		}
	}
}

func FuzzBusAddress(f *testing.F) {
	for _, s := range []string{"unix:path=/run/user/1000/bus", "unix:abstract=/tmp/dbus-abc,guid=123", "tcp:host=localhost,port=1;unix:path=%2ftmp", "autolaunch:", "%", "unix:path=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		busAddressUsable(s)
		unescapeBusValue(s)
	})
}
