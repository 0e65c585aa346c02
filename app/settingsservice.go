package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"atelier/atomicfile"

	"atelier/localdb"
)

// Settings are the app-wide preferences and facts the Settings view shows.
type Settings struct {
	Version      string `json:"version"`
	DataDir      string `json:"dataDir"`
	CacheDir     string `json:"cacheDir"`
	DataBytes    int64  `json:"dataBytes"`
	CacheBytes   int64  `json:"cacheBytes"`
	StartAtLogin bool   `json:"startAtLogin"`
	Onboarded    bool   `json:"onboarded"`
	Language     string `json:"language"`
	// PauseOnBattery: sync and preview rendering pause while the machine
	// runs on battery; OnBattery says whether they are paused for it now.
	PauseOnBattery bool `json:"pauseOnBattery"`
	OnBattery      bool `json:"onBattery"`
}

// storedSettings is what is kept in the database.
type storedSettings struct {
	Onboarded      bool   `json:"onboarded"`
	Language       string `json:"language"`
	PauseOnBattery bool   `json:"pauseOnBattery"`
}

var settingsTable = localdb.NewTable[storedSettings]("meta/settings/")

// SettingsService holds preferences: onboarding, start at login, the preview cache.
// The stored settings are read once and kept: the power loop and status
// polls must not reopen a database closed while idle. Only update writes them.
type SettingsService struct {
	e *Engine

	mu   sync.Mutex
	st   storedSettings
	stOK bool
}

func (s *SettingsService) stored() (storedSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stOK {
		return s.st, nil
	}
	var st storedSettings
	err := s.e.DB.View(func(tx *localdb.Tx) error {
		v, ok, err := settingsTable.Get(tx, "app")
		if ok {
			st = v
		}
		return err
	})
	if err == nil {
		s.st, s.stOK = st, true
	}
	return st, err
}

func (s *SettingsService) update(fn func(*storedSettings)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stOK = false
	return s.e.DB.Update(func(tx *localdb.Tx) error {
		v, _, err := settingsTable.Get(tx, "app")
		if err != nil {
			return err
		}
		fn(&v)
		return settingsTable.Put(tx, "app", v)
	})
}

// Get returns the settings with the current sizes of the data and cache dirs.
func (s *SettingsService) Get() (Settings, error) {
	st, err := s.stored()
	if err != nil {
		return Settings{}, err
	}
	lang := st.Language
	if lang == "" {
		lang = "en"
	}
	_, err = os.Stat(autostartPath())
	return Settings{
		Version: Version, DataDir: s.e.Dirs.Data, CacheDir: s.e.Dirs.Cache,
		DataBytes: localdb.DirSize(s.e.Dirs.Data), CacheBytes: localdb.DirSize(s.e.Dirs.Cache),
		StartAtLogin: err == nil, Onboarded: st.Onboarded, Language: lang,
		PauseOnBattery: st.PauseOnBattery, OnBattery: s.e.power.onBattery(),
	}, nil
}

// CompleteOnboarding records that the first-run introduction was seen.
func (s *SettingsService) CompleteOnboarding() error {
	return s.update(func(st *storedSettings) { st.Onboarded = true })
}

// SetPauseOnBattery asks that sync and preview rendering pause while the
// machine runs on battery (on), or no longer (off). The creator's own pause
// of sync is kept either way.
func (s *SettingsService) SetPauseOnBattery(on bool) error {
	if err := s.update(func(st *storedSettings) { st.PauseOnBattery = on }); err != nil {
		return fmt.Errorf("save the battery setting in %s: %w", s.e.Dirs.Data, err)
	}
	s.e.power.poke()
	return nil
}

// SetStartAtLogin adds or removes the XDG autostart entry for the desktop app.
func (s *SettingsService) SetStartAtLogin(on bool) error {
	p := autostartPath()
	if !on {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
		return nil
	}
	entry := "[Desktop Entry]\nType=Application\nName=Atelier\nComment=Watch your project folders in the background\n" +
		"Exec=" + desktopExecArg(launcherPath()) + " --hidden\nIcon=atelier\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, []byte(entry), 0o644)
}

// ClearPreviews deletes the preview cache; previews are rendered again on demand.
func (s *SettingsService) ClearPreviews() (int64, error) {
	n := localdb.DirSize(s.e.Dirs.Cache)
	entries, err := os.ReadDir(s.e.Dirs.Cache)
	if err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	for _, en := range entries {
		if err := os.RemoveAll(filepath.Join(s.e.Dirs.Cache, en.Name())); err != nil {
			return 0, fmt.Errorf("clear %s: %w", s.e.Dirs.Cache, err)
		}
	}
	if err := s.e.libraryCtl.CacheCleared(); err != nil {
		return n, err
	}
	return n, nil
}

// launcherPath is the atelier-desktop launcher the autostart entry runs:
// this program when it is the launcher, the launcher beside the window
// program (a build's build/bin), else the one on PATH (the package's
// /usr/bin; its window program lives in /usr/lib/atelier).
func launcherPath() string {
	self, err := os.Executable()
	if err != nil {
		return "atelier-desktop"
	}
	if filepath.Base(self) == "atelier-desktop" {
		return self
	}
	beside := filepath.Join(filepath.Dir(self), "atelier-desktop")
	if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return beside
	}
	return "atelier-desktop"
}

// desktopExecArg quotes a path for a desktop entry's Exec key where it
// needs it (the Desktop Entry spec's quoting: "…" with \ before " ` $ \).
func desktopExecArg(p string) string {
	if !strings.ContainsAny(p, " \t\n\"'\\><~|&;$*?#()`") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	return `"` + r.Replace(p) + `"`
}

func autostartPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		h, _ := os.UserHomeDir()
		dir = filepath.Join(h, ".config")
	}
	return filepath.Join(dir, "autostart", "atelier.desktop")
}
