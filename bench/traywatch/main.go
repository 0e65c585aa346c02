// Command traywatch plays a panel's tray host for the tray benchmark: a
// StatusNotifierWatcher on the session bus (DBUS_SESSION_BUS_ADDRESS), so
// the desktop app hides into the tray rather than quit. It runs until
// SIGINT or SIGTERM and prints each item that registers; SIGUSR1 clicks
// Open Atelier in the latest item's menu (the reopen from the tray).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"atelier/app/tray"
	"atelier/app/tray/traytest"
)

func main() {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		fmt.Fprintln(os.Stderr, "traywatch: DBUS_SESSION_BUS_ADDRESS is not set: run under scripts/with-xvfb.sh (it starts a session bus)")
		os.Exit(2)
	}
	w, err := traytest.NewWatcher(addr, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "traywatch:", err)
		os.Exit(1)
	}
	defer w.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	open := make(chan os.Signal, 1)
	signal.Notify(open, syscall.SIGUSR1)
	go func() {
		for range open {
			its := w.Items()
			if len(its) == 0 {
				fmt.Fprintln(os.Stderr, "traywatch: no item to open")
				continue
			}
			if err := w.Click(its[len(its)-1], tray.LabelOpen); err != nil {
				fmt.Fprintln(os.Stderr, "traywatch: click Open:", err)
			}
		}
	}()
	fmt.Println("watching")
	for n := 0; ; n++ {
		it, err := w.WaitItemAfter(ctx, n)
		if err != nil {
			return
		}
		fmt.Println("item", it.Service, it.Path)
	}
}
