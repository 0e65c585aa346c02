// Command closewindow presses a window's close button for the tray
// benchmark: it sends the X window WM_DELETE_WINDOW, as a window manager
// does (none runs under Xvfb, and xdotool 3.2016 has no windowquit). The
// desktop app then hides its window into the tray.
//
//	closewindow WINDOW-ID
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"strconv"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: closewindow WINDOW-ID (a decimal X window id, as xdotool search prints it)")
		os.Exit(2)
	}
	id, err := strconv.ParseUint(os.Args[1], 10, 32)
	if err != nil {
		fmt.Fprintf(os.Stderr, "closewindow: %q is not a decimal X window id\n", os.Args[1])
		os.Exit(2)
	}
	if err := closeWindow(xproto.Window(id)); err != nil {
		fmt.Fprintln(os.Stderr, "closewindow:", err)
		os.Exit(1)
	}
}

func closeWindow(win xproto.Window) error {
	// xgb logs that Xvfb has no ~/.Xauthority before it connects without.
	xgb.Logger = log.New(io.Discard, "", 0)
	x, err := xgb.NewConn()
	if err != nil {
		return fmt.Errorf("connect to the X server %q: %w", os.Getenv("DISPLAY"), err)
	}
	defer x.Close()
	atom := func(name string) (xproto.Atom, error) {
		r, err := xproto.InternAtom(x, false, uint16(len(name)), name).Reply()
		if err != nil {
			return 0, fmt.Errorf("intern the atom %s: %w", name, err)
		}
		return r.Atom, nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	ev := xproto.ClientMessageEvent{
		Format: 32,
		Window: win,
		Type:   protocols,
		Data:   xproto.ClientMessageDataUnionData32New([]uint32{uint32(del), uint32(xproto.TimeCurrentTime), 0, 0, 0}),
	}
	if err := xproto.SendEventChecked(x, false, win, xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("send WM_DELETE_WINDOW to window %d: %w", win, err)
	}
	return nil
}
