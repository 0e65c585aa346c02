// Package sessionbus tells whether a D-Bus session bus can be reached without
// starting one, so the OS keyring is only asked where asking does not make
// the D-Bus library run dbus-launch (which leaks a dbus-daemon per process
// on a machine without a session: cron, CI, a headless studio).
package sessionbus

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNone means there is no D-Bus session bus to reach a keyring on.
var ErrNone = errors.New("no D-Bus session bus is running (DBUS_SESSION_BUS_ADDRESS is not set), so there is no OS keyring")

// Reachable says whether a D-Bus session bus is reachable without starting
// one, on the systems where the keyring lives on it (not macOS or Windows).
// It mirrors how the D-Bus library finds the bus: DBUS_SESSION_BUS_ADDRESS,
// else $XDG_RUNTIME_DIR/bus; where neither names a live socket, the library
// would run `dbus-launch`, so the keyring is not asked at all.
func Reachable() error {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return nil
	}
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == "autolaunch:" {
		if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" && isSocket(filepath.Join(rt, "bus")) {
			return nil
		}
		return ErrNone
	}
	return busAddressUsable(addr)
}

// busAddressUsable checks a D-Bus address list ("unix:path=/run/user/1000/bus;tcp:...")
// for one entry that can be connected to without launching anything: a unix
// socket path that exists, an abstract socket, or a network address.
func busAddressUsable(addr string) error {
	for _, entry := range strings.Split(addr, ";") {
		transport, params, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			continue
		}
		switch transport {
		case "unix":
			for _, kv := range strings.Split(params, ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "path":
					if isSocket(unescapeBusValue(v)) {
						return nil
					}
				case "abstract":
					return nil
				}
			}
		case "tcp", "nonce-tcp":
			return nil
		}
	}
	return fmt.Errorf("the D-Bus session bus named by DBUS_SESSION_BUS_ADDRESS=%q is not running, so there is no OS keyring", addr)
}

// unescapeBusValue undoes D-Bus address escaping (%XX).
func unescapeBusValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			var c byte
			if _, err := fmt.Sscanf(v[i+1:i+3], "%02x", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func isSocket(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().Type() == fs.ModeSocket
}
