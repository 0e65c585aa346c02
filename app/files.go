package app

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// FilesHandler serves /files/?path=ABS to the frontend: previews from the cache
// dir and media from project folders (for playback), and versions from local
// history (?project=&path=&at=), and nothing else.
func (e *Engine) FilesHandler() http.Handler {
	versions := e.historyCtl.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("project") {
			// A version from local history (?project=&path=&at=), played
			// without being restored.
			versions.ServeHTTP(w, r)
			return
		}
		p := filepath.Clean(r.URL.Query().Get("path"))
		if !filepath.IsAbs(p) || !e.servable(p) {
			http.Error(w, "not an Atelier file", http.StatusForbidden)
			return
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, p) // handles Range requests, which audio seeking needs
	})
}

func (e *Engine) servable(p string) bool {
	roots := []string{e.Dirs.Cache}
	if ps, err := e.projectsCtl.Projects(); err == nil {
		for _, pr := range ps {
			roots = append(roots, pr.Root)
		}
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	for _, root := range roots {
		if rr, err := filepath.EvalSymlinks(root); err == nil {
			root = rr
		}
		if p == root || strings.HasPrefix(p, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
