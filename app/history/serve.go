package history

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
)

// Handler serves versions for playback: GET ?project=P&path=F&at=A
// answers the content of that version with its type and byte ranges
// (http.ServeContent), so the app plays any version without restoring it,
// and an A/B switch seeks the other version to the same playhead. Only
// the chunks a range needs are read. Mount it on the app's local UI
// server (never on a network port).
func Handler(h *History) http.Handler { return handler(h, nil) }

// Handler serves versions (see the package function Handler), the project
// given by id, name or folder.
func (c *Control) Handler() http.Handler {
	return handler(c.h, func(ref string) (string, error) {
		p, err := c.p.Project(ref)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		return string(p.ID), nil
	})
}

func handler(h *History, resolve func(string) (string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		project, p, at := q.Get("project"), q.Get("path"), q.Get("at")
		if project == "" || p == "" {
			http.Error(w, "history: give project and path", http.StatusBadRequest)
			return
		}
		var err error
		if resolve != nil {
			if project, err = resolve(project); err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
		}
		v, err := h.resolveVersion(project, p, at)
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, ErrNotFound) {
				code = http.StatusNotFound
			}
			http.Error(w, err.Error(), code)
			return
		}
		f, err := h.file(r.Context(), v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fr := h.v.OpenFile(r.Context(), f)
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable") // a version never changes
		w.Header().Set("ETag", `"`+f.SHA256+`"`)
		http.ServeContent(w, r, path.Base(p), v.ModTime, io.NewSectionReader(fr, 0, fr.Size()))
	})
}
