package app

import "errors"

// windowService lets a second launch of the desktop app bring the first
// window forward (over the API socket). It is not bound to the frontend.
type windowService struct{ e *Engine }

// Focus shows and raises the desktop window.
func (w windowService) Focus() error {
	sh := w.e.desktop()
	if sh == nil {
		w.e.Emit(FocusEvent, nil) // a desktop window attached to this engine shows itself (attach.go)
		return errors.New("this engine has no window (it is `atelier daemon`)")
	}
	sh.Show()
	return nil
}
