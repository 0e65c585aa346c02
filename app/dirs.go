package app

import (
	"fmt"
	"os"
	"path/filepath"

	"atelier/app/modules"
)

// Dirs are where an engine keeps its state.
type Dirs struct {
	Data  string `json:"data"`  // database, keys, trust policy, the default local remote
	Cache string `json:"cache"` // previews: deletable, rebuilt on demand
}

// DefaultDirs resolves the data and cache directories: ATELIER_HOME (data in
// $ATELIER_HOME/data, cache in $ATELIER_HOME/cache) or the OS user dirs
// ($XDG_CONFIG_HOME/atelier and $XDG_CACHE_HOME/atelier on Linux).
func DefaultDirs() (Dirs, error) {
	if h := os.Getenv("ATELIER_HOME"); h != "" {
		return DirsUnder(h), nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the user config dir (set ATELIER_HOME or --data-dir): %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the user cache dir (set ATELIER_HOME or --data-dir): %w", err)
	}
	return Dirs{Data: filepath.Join(cfg, "atelier"), Cache: filepath.Join(cache, "atelier")}, nil
}

// DirsUnder puts data and cache under one root (tests, --data-dir).
func DirsUnder(root string) Dirs {
	return Dirs{Data: filepath.Join(root, "data"), Cache: filepath.Join(root, "cache")}
}

// DataDirFlag turns a --data-dir value into Dirs: the cache sits beside the data.
// A relative folder is made absolute here: parts of the engine address it as a
// file:// URL (local history's vault), where "d/history" would mean host d.
func DataDirFlag(dataDir string) Dirs {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return Dirs{Data: dataDir, Cache: filepath.Join(dataDir, "cache")}
}

// ModulesKeyPath is where a named private key lives, for the CLI's signing, which
// needs no engine. (A plain function, so it is not bound as a service method.)
func ModulesKeyPath(d Dirs, name string) string { return modules.KeyPath(d.Data, name) }
