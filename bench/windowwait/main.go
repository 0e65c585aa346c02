// Command windowwait waits for a viewable X window whose title contains a
// string, for the tray benchmark's launch times. It listens for X events
// (windows created, mapped, renamed) instead of polling with xdotool, whose
// process every 10 ms took a fair share of the CPU a launch needs on a
// two-core machine. Once it listens it prints "ready"; when the window is
// there it prints "found WINDOW-ID UNIX-NANOSECONDS" and exits 0; after
// -timeout it exits 1.
//
//	windowwait -name "— Atelier" -timeout 30s
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func main() {
	name := flag.String("name", "", "a part of the window's title")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after")
	flag.Parse()
	if *name == "" {
		fmt.Fprintln(os.Stderr, "usage: windowwait -name TITLE-PART [-timeout 30s]")
		os.Exit(2)
	}
	xgb.Logger = log.New(io.Discard, "", 0) // no ~/.Xauthority under Xvfb: it says so on every start
	x, err := xgb.NewConn()
	if err != nil {
		fmt.Fprintln(os.Stderr, "windowwait: connect to the X display (is DISPLAY set?):", err)
		os.Exit(2)
	}
	w := &waiter{x: x, name: *name, root: xproto.Setup(x).DefaultScreen(x).Root}
	w.netName = w.atom("_NET_WM_NAME")
	w.utf8 = w.atom("UTF8_STRING")
	if err := xproto.ChangeWindowAttributesChecked(x, w.root, xproto.CwEventMask, []uint32{xproto.EventMaskSubstructureNotify}).Check(); err != nil {
		fmt.Fprintln(os.Stderr, "windowwait: listen on the root window:", err)
		os.Exit(2)
	}
	tree, err := xproto.QueryTree(x, w.root).Reply()
	if err != nil {
		fmt.Fprintln(os.Stderr, "windowwait: list the windows:", err)
		os.Exit(2)
	}
	for _, c := range tree.Children {
		w.watch(c)
	}
	fmt.Println("ready")
	for _, c := range tree.Children {
		w.check(c)
	}
	events := make(chan xgb.Event, 64)
	go func() {
		for {
			ev, err := x.WaitForEvent()
			if ev == nil && err == nil {
				close(events)
				return
			}
			if ev != nil {
				events <- ev
			}
		}
	}()
	deadline := time.After(*timeout)
	for {
		select {
		case <-deadline:
			fmt.Fprintf(os.Stderr, "windowwait: no viewable window titled *%s* within %s\n", *name, *timeout)
			os.Exit(1)
		case ev, ok := <-events:
			if !ok {
				fmt.Fprintln(os.Stderr, "windowwait: the X connection closed")
				os.Exit(1)
			}
			switch e := ev.(type) {
			case xproto.CreateNotifyEvent:
				w.watch(e.Window)
				w.check(e.Window)
			case xproto.MapNotifyEvent:
				w.check(e.Window)
			case xproto.PropertyNotifyEvent:
				w.check(e.Window)
			}
		}
	}
}

type waiter struct {
	x             *xgb.Conn
	root          xproto.Window
	name          string
	netName, utf8 xproto.Atom
}

func (w *waiter) atom(name string) xproto.Atom {
	r, err := xproto.InternAtom(w.x, false, uint16(len(name)), name).Reply()
	if err != nil {
		return xproto.AtomNone
	}
	return r.Atom
}

// watch asks for win's title changes and mapping.
func (w *waiter) watch(win xproto.Window) {
	xproto.ChangeWindowAttributes(w.x, win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange | xproto.EventMaskStructureNotify})
}

// check exits once win is viewable with the title sought.
func (w *waiter) check(win xproto.Window) {
	a, err := xproto.GetWindowAttributes(w.x, win).Reply()
	if err != nil || a.MapState != xproto.MapStateViewable {
		return
	}
	for _, p := range []struct{ prop, typ xproto.Atom }{{w.netName, w.utf8}, {xproto.AtomWmName, xproto.AtomString}} {
		r, err := xproto.GetProperty(w.x, false, win, p.prop, p.typ, 0, 1024).Reply()
		if err == nil && strings.Contains(string(r.Value), w.name) {
			fmt.Printf("found %d %d\n", win, time.Now().UnixNano())
			os.Exit(0)
		}
	}
}
