//go:build !viewonly

package main

import (
	"errors"
	"net/http"

	"atelier/app"
	"atelier/app/api"
	"atelier/localdb"
)

// The full window program, atelier-desktop-window, opens its own engine
// when none runs on the data dir. The view program (the viewonly build,
// atelier-desktop-view) leaves this file out and so links no engine.

func init() { openEngine = openAppEngine }

// appEngine is the window's own engine.
type appEngine struct {
	e   *app.Engine
	reg *api.Registry
}

func openAppEngine(a *desktopApp) (ownEngine, bool, error) {
	dirs, err := app.DefaultDirs()
	if a.dataDir != "" {
		dirs, err = app.DataDirFlag(a.dataDir), nil
	}
	if err != nil {
		return nil, false, err
	}
	eng, err := app.Open(dirs, app.Options{Background: true, Serve: true, Logger: a.lg})
	if err != nil {
		return nil, errors.Is(err, localdb.ErrLocked), err
	}
	return &appEngine{e: eng, reg: api.NewRegistry(eng.Services())}, false, nil
}

func (o *appEngine) Registry() *api.Registry   { return o.reg }
func (o *appEngine) Files() http.Handler       { return o.e.FilesHandler() }
func (o *appEngine) Notify(title, body string) { o.e.Notify(title, body) }
func (o *appEngine) Close() error              { return o.e.Close() }

func (o *appEngine) SetWindow(a *desktopApp) {
	if a == nil {
		o.e.SetShell(nil)
		return
	}
	o.e.SetShell(wailsShell{a})
}
