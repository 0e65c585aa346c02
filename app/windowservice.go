package app

import (
	"errors"

	"atelier/app/api"
)

// windowService lets a second launch of the desktop app bring the first
// window forward (over the API socket), and a window attached to an engine
// learn whether that engine is the whole app (`atelier daemon --tray`). It
// is not bound to the frontend.
type windowService struct{ e *Engine }

// AppShell is a Shell that is the app itself, not a window: the status icon
// of `atelier daemon --tray` (desktop.StartTray). A window attached to such
// an engine leaves the icon to it, closes for good once hidden for a while,
// and quitting it quits the engine too.
type AppShell interface {
	Shell
	// QuitApp quits the engine (finishing or checkpointing the work under
	// way) and every window attached to it. It does not block.
	QuitApp()
}

// Focus shows and raises the desktop window.
func (w windowService) Focus() error {
	sh := w.e.desktop()
	if sh == nil {
		w.e.Emit(api.FocusEvent, nil) // a desktop window attached to this engine shows itself (attach.go)
		return errors.New("this engine has no window (it is `atelier daemon`)")
	}
	sh.Show()
	return nil
}

// Info says whether this engine is the app's own tray daemon.
func (w windowService) Info() api.WindowInfo {
	_, ok := w.e.desktop().(AppShell)
	return api.WindowInfo{Tray: ok}
}

// QuitApp quits the app from an attached window (Ctrl+Q): the engine of
// `atelier daemon --tray` stops once its work under way is safe, with every
// window attached to it. A daemon the creator started (without --tray) is
// theirs to stop: it goes on.
func (w windowService) QuitApp() error {
	sh, ok := w.e.desktop().(AppShell)
	if !ok {
		return errors.New("this engine was started as `atelier daemon` without --tray: it goes on; stop it with Ctrl-C, or `systemctl --user stop atelier` for the systemd unit")
	}
	sh.QuitApp()
	return nil
}
