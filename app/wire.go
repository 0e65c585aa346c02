package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"atelier/app/history"
	"atelier/app/host"
	"atelier/app/index"
	"atelier/app/library"
	"atelier/app/modules"
	"atelier/app/privacy"
	"atelier/app/projects"
	syncsvc "atelier/app/sync"
	"atelier/sync/vault"
)

// This file is the one place where the features are built, handed what
// they need, and where changes fan out. No feature package knows another:
// each is given narrow parts (host.Runner, host.Emitter, a FileSource, a
// host.Consent, a host.Recorder) and the engine connects them here.

// openServices builds the features in this order, because each is handed
// the ones before it:
//
//  1. Activity and Settings: plain parts of app.
//  2. Privacy: every other feature records usage events through it, and
//     Sync checks the "sync.cloud" consent with it.
//  3. Projects: the file source (projects, roots, records) Library and Sync
//     read; its index changes arrive at e.apply.
//  4. Library, Modules, Sync: given Privacy's recorder and consent check
//     and Projects' file source.
//  5. Sync's erase hook is registered with Privacy: erasing "sync.cloud"
//     drops the outbox and the remotes' local state.
//  6. History: given Projects' registry and index; no consent (local).
//
// Close runs the closers in reverse order.
func (e *Engine) openServices() error {
	var err error
	e.Activity = newActivityService(e)
	e.Settings = &SettingsService{e: e}
	e.power = newPowerPause(e.opts)

	if e.Privacy, e.privacyCtl, err = privacy.NewService(privacy.ServiceConfig{
		DB: e.DB, Log: e.Log, Host: e, AppVersion: Version, DataDir: e.Dirs.Data,
	}); err != nil {
		return err
	}
	e.closers = append(e.closers, e.privacyCtl.Close)
	record := host.Recorder(e.privacyCtl.Record)

	if e.Projects, e.projectsCtl, err = projects.New(projects.Config{
		DB: e.DB, Log: e.Log, Host: e, Record: record, OnChange: e.apply,
		Background: e.opts.Background, Version: Version, DataDir: e.Dirs.Data, CacheDir: e.Dirs.Cache,
	}); err != nil {
		return err
	}
	e.closers = append(e.closers, e.projectsCtl.Close)

	if e.Library, e.libraryCtl, err = library.New(library.Config{
		DB: e.DB, Log: e.Log, Host: e, Files: e.projectsCtl, Record: record,
		CacheDir: e.Dirs.Cache, Settle: e.opts.PreviewSettle,
	}); err != nil {
		return err
	}
	e.closers = append(e.closers, e.libraryCtl.Close)

	if e.Modules, e.modulesCtl, err = modules.New(modules.Config{
		DB: e.DB, Log: e.Log, Host: e, Record: record, DataDir: e.Dirs.Data, CacheDir: e.Dirs.Cache,
		Rollups: e.panelRollups,
	}); err != nil {
		return err
	}
	e.closers = append(e.closers, e.modulesCtl.Close)

	if e.Sync, e.syncCtl, err = syncsvc.New(syncsvc.Config{
		DB: e.DB, Log: e.Log, Host: e, Files: e.projectsCtl, Record: record,
		Consent: e.privacyCtl.Granted, DataDir: e.Dirs.Data, History: cloudHistory{e},
	}); err != nil {
		return err
	}
	e.closers = append(e.closers, e.syncCtl.Close)
	e.privacyCtl.OnErase("sync.cloud", e.syncCtl.EraseCloudData)

	// Local history: on by default and needing no consent (nothing leaves
	// the machine); it reads Projects' registry and index.
	if e.History, e.historyCtl, err = history.New(history.Config{
		DB: e.DB, Log: e.Log, Host: e, Projects: e.projectsCtl, DataDir: e.Dirs.Data, Settle: e.opts.HistorySettle,
		Previews: e.libraryCtl,
	}); err != nil {
		return err
	}
	e.closers = append(e.closers, e.historyCtl.Close)
	return nil
}

// startServices starts the background work, Projects last: its first scans
// feed the others, which must be running to take them.
func (e *Engine) startServices() {
	e.Activity.start(e.ctx)
	e.privacyCtl.Start(e.ctx)
	e.libraryCtl.Start(e.ctx)
	e.modulesCtl.Start(e.ctx)
	e.syncCtl.Start(e.ctx)
	e.historyCtl.Start(e.ctx)
	e.power.start(e)
	e.projectsCtl.Start(e.ctx)
}

// Services are the bound services by name: the Wails bindings, the API routes
// and the CLI's calls all use this one map.
func (e *Engine) Services() map[string]any {
	return map[string]any{
		"Projects": e.Projects,
		"Library":  e.Library,
		"Modules":  e.Modules,
		"Privacy":  e.Privacy,
		"Sync":     e.Sync,
		"History":  e.History,
		"Activity": e.Activity,
		"Settings": e.Settings,
		"Window":   windowService{e},
	}
}

// apply is the one place where index changes fan out, as plain calls:
//
//	watcher → Projects (index) → apply → Activity, Library, Sync, History
//
// p comes with the changes (its root included), so Library and Sync do
// not look the project up again for each change.
func (e *Engine) apply(p host.Project, changes []index.Change) {
	for _, c := range changes {
		e.Activity.publish(c)
		e.libraryCtl.Consider(p.Root, c)
	}
	e.syncCtl.Consider(changes)
	e.historyCtl.Consider(p, changes)
}

// cloudHistory gives Sync the snapshots local history takes, to copy to a
// vault remote (History is built after Sync).
type cloudHistory struct{ e *Engine }

func (c cloudHistory) CloudSnapshot(ctx context.Context, project string) (*vault.Vault, bool, error) {
	if c.e.historyCtl == nil {
		return nil, false, nil
	}
	return c.e.historyCtl.History().CloudSnapshot(ctx, project)
}

// panelRollups writes what a panel module granted analytics:rollups reads:
// the privacy dashboard's rollups (never raw events) for the analytics and
// the audience, as dashboard.json and audience.json.
func (e *Engine) panelRollups(ctx context.Context, dir string) error {
	for name, source := range map[string]string{"dashboard.json": "analytics", "audience.json": "audience"} {
		d, err := e.Privacy.Dashboard(privacy.DashboardQuery{Source: source})
		if err != nil {
			return fmt.Errorf("%s rollups: %w", source, err)
		}
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
