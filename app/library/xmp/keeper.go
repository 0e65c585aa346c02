package xmp

import (
	"errors"
	"fmt"
	"time"
)

// Keeper keeps the marks of files in the store and in their sidecars in
// step: an edit in Atelier goes to both; a sidecar written by another
// program (seen by the watcher) is merged into the store when it is newer.
type Keeper struct {
	Store *Store
	// Sidecars says where a project's sidecars go (its root, an outside
	// folder, the naming style); nil or an error: the store alone.
	Sidecars func(project string) (Sidecars, error)
	// Now is the clock (tests set it).
	Now func() time.Time
}

// Edit applies edit to the marks of files of a project, stores them, and
// writes their sidecars. It returns the new marks by path. A sidecar that
// cannot be written is reported after every file was stored.
func (k *Keeper) Edit(project string, rels []string, edit func(Marks) Marks) (map[string]Marks, error) {
	now := k.now()
	out := make(map[string]Marks, len(rels))
	err := k.Store.Edit(project, rels, now, "user", func(m Marks) Marks {
		m = edit(m).Normalize()
		return m
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	sc, scErr := k.sidecars(project)
	for _, rel := range rels {
		e, _, err := k.Store.Get(project, rel)
		if err != nil {
			return out, err
		}
		out[rel] = e.Marks
		if scErr != nil || sc == nil {
			continue
		}
		if _, err := sc.Write(rel, e.Marks); err != nil {
			errs = append(errs, err)
		}
	}
	if scErr != nil {
		errs = append(errs, scErr)
	}
	if len(errs) > 5 {
		errs = append(errs[:5], fmt.Errorf("and %d more sidecars", len(errs)-5))
	}
	return out, errors.Join(errs...)
}

func (k *Keeper) sidecars(project string) (*Sidecars, error) {
	if k.Sidecars == nil {
		return nil, nil
	}
	sc, err := k.Sidecars(project)
	if err != nil {
		return nil, fmt.Errorf("the sidecars of project %s: %w", project, err)
	}
	return &sc, nil
}

func (k *Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// SidecarChanged merges a sidecar the watcher saw change (or appear) into the
// marks of the files it belongs to (siblings: the names in its folder). A
// sidecar newer than the stored marks wins; one Atelier just wrote changes
// nothing. It returns the files whose marks changed.
func (k *Keeper) SidecarChanged(project, sidecarRel string, siblings []string) (map[string]Marks, error) {
	return k.Import(project, Owners(sidecarRel, siblings))
}

// Import reads the sidecar of each file that has one (a project just added,
// or moved in from another machine) and stores its marks where they are
// newer than the store's. It returns the files whose marks changed.
func (k *Keeper) Import(project string, rels []string) (map[string]Marks, error) {
	sc, err := k.sidecars(project)
	if err != nil || sc == nil {
		return nil, err
	}
	changed := map[string]Marks{}
	for _, rel := range rels {
		side, ok, err := sc.Read(rel)
		if err != nil {
			return changed, err
		}
		if !ok {
			continue
		}
		e, _, err := k.Store.Get(project, rel)
		if err != nil {
			return changed, err
		}
		m, fromSidecar := Newer(e.Marks, e.UpdatedAt, side)
		if !fromSidecar || m.Equal(e.Marks) {
			continue
		}
		if err := k.Store.Set(project, []string{rel}, m, side.ModTime, "sidecar"); err != nil {
			return changed, err
		}
		changed[rel] = m
	}
	return changed, nil
}
