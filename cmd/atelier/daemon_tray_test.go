package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// `atelier daemon --tray` where no session bus runs (a headless machine,
// a systemd unit): the engine runs on without an icon, says so, serves,
// and stops cleanly on SIGTERM. (The icon itself: app/desktop/traydaemon's
// test over a private bus, and e2e's TestDesktopAutostartStartsHidden.)
func TestDaemonTrayWithoutASessionBus(t *testing.T) {
	data := t.TempDir()
	d, out := atelierCmd(t, "--data-dir", data, "daemon", "--tray")
	d.Env = append(d.Env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+data+"/no-bus", "XDG_RUNTIME_DIR="+data)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Wait() }()
	gopts := &globalOptions{dataDir: data}
	for deadline := time.Now().Add(30 * time.Second); !engineRunning(gopts); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.Process.Kill()
			t.Fatalf("the daemon is not serving: %s", out)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "no status icon"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.Process.Kill()
			t.Fatalf("the daemon did not say it has no icon: %s", out)
		}
	}
	d.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "stopped cleanly") {
			t.Fatalf("SIGTERM: %v: %s", err, out)
		}
	case <-time.After(30 * time.Second):
		d.Process.Kill()
		t.Fatalf("the daemon did not stop on SIGTERM: %s", out)
	}
}
