package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"atelier/signing/manifest"
)

// TemplateDir is the folder inside a template module copied into a new project.
const TemplateDir = "template"

// Template limits: a skeleton is small.
const (
	maxTemplateFiles = 10000
	maxTemplateBytes = 1 << 30
)

// textExt are the files whose {{project}} and {{date}} are filled in.
var textExt = map[string]bool{".md": true, ".txt": true, ".json": true, ".csv": true, ".html": true, ".yaml": true, ".yml": true, ".toml": true}

// ApplyTemplate makes a new project at dest from a template module: the
// module's template/ folder is copied file by file (links and special files
// refused, nothing written outside dest), with {{project}} (dest's base name)
// and {{date}} filled in in text files. dest must not exist or be empty. It
// returns the files written, relative to dest.
func ApplyTemplate(ctx context.Context, m Module, dest string) ([]string, error) {
	if m.Manifest.Kind != manifest.KindTemplate {
		return nil, fmt.Errorf("%s is a %s module, not a template: pick a module of kind template", m.Manifest.Name, kindName(m.Manifest.Kind))
	}
	src, err := os.OpenRoot(m.Dir)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w (reinstall the module)", m.Manifest.Name, err)
	}
	defer src.Close()
	if fi, err := src.Stat(TemplateDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("template %s has no %s/ folder: a template module ships its project skeleton there", m.Manifest.Name, TemplateDir)
	}
	if ents, err := os.ReadDir(dest); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s is not empty: pick a new folder for the project", dest)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dest, err)
	}
	dst, err := os.OpenRoot(dest)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	abs, _ := filepath.Abs(dest)
	repl := strings.NewReplacer("{{project}}", filepath.Base(abs), "{{date}}", time.Now().Format("2006-01-02"))
	written, err := copyTree(ctx, m, src, TemplateDir, dst, repl, false)
	if err != nil {
		return written, fmt.Errorf("new project %s from %s: %w", dest, m.Manifest.Name, err)
	}
	return written, nil
}

// PresetDir is the folder inside a preset module installed into the folder
// the creator picked for its folder:LABEL permission.
const PresetDir = "preset"

// InstallPreset copies a preset module's preset/ folder into dest, the folder
// the creator picked for it (links and special files refused, nothing
// written outside dest). A file already there is replaced only with replace
// (an update of the same preset); otherwise it is an error naming it.
func InstallPreset(ctx context.Context, m Module, dest string, replace bool) ([]string, error) {
	if m.Manifest.Kind != manifest.KindPreset {
		return nil, fmt.Errorf("%s is a %s module, not a preset", m.Manifest.Name, kindName(m.Manifest.Kind))
	}
	src, err := os.OpenRoot(m.Dir)
	if err != nil {
		return nil, fmt.Errorf("preset %s: %w (reinstall the module)", m.Manifest.Name, err)
	}
	defer src.Close()
	if fi, err := src.Stat(PresetDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("preset %s has no %s/ folder: a preset module ships its files there", m.Manifest.Name, PresetDir)
	}
	dst, err := os.OpenRoot(dest)
	if err != nil {
		return nil, fmt.Errorf("preset folder %s: %w (pick the folder again)", dest, err)
	}
	defer dst.Close()
	written, err := copyTree(ctx, m, src, PresetDir, dst, nil, replace)
	if err != nil {
		return written, fmt.Errorf("install preset %s into %s: %w", m.Manifest.Name, dest, err)
	}
	return written, nil
}

// copyTree copies src/sub into dst file by file, refusing links and special
// files, filling in text files with repl (if not nil), and replacing files
// already in dst only if replace is set.
func copyTree(ctx context.Context, m Module, src *os.Root, sub string, dst *os.Root, repl *strings.Replacer, replace bool) ([]string, error) {
	var written []string
	var total int64
	err := fs.WalkDir(src.FS(), sub, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, sub), "/")
		if rel == "" {
			return nil
		}
		switch {
		case d.IsDir():
			if err := dst.Mkdir(rel, 0o755); err != nil {
				if fi, serr := dst.Lstat(rel); serr == nil && fi.IsDir() {
					return nil // already there (a preset's folder, on update)
				}
				return err
			}
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: %s is a link or a special file; a module holds only files and folders", m.Manifest.Name, p)
		}
		if len(written) >= maxTemplateFiles {
			return fmt.Errorf("%s has more than %d files", m.Manifest.Name, maxTemplateFiles)
		}
		data, err := fs.ReadFile(src.FS(), p)
		if err != nil {
			return err
		}
		total += int64(len(data))
		if total > maxTemplateBytes {
			return fmt.Errorf("%s is over %d MiB", m.Manifest.Name, maxTemplateBytes>>20)
		}
		if repl != nil && textExt[strings.ToLower(path.Ext(rel))] {
			data = []byte(repl.Replace(string(data)))
		}
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if replace {
			if fi, err := dst.Lstat(rel); err == nil && !fi.Mode().IsRegular() {
				return fmt.Errorf("%s is a link or a folder: not replaced", rel)
			}
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := dst.OpenFile(rel, flag, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists there: remove it, or update the module to replace it", rel)
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		written = append(written, rel)
		return nil
	})
	return written, err
}
