package projects

import (
	"sort"
	"strings"

	"atelier/app/index"
)

// FileHit is a file found by Search.
type FileHit struct {
	Project index.ProjectID `json:"project"`
	Path    string          `json:"path"`
	Kind    index.Kind      `json:"kind"`
	Size    int64           `json:"size"`
}

// Search finds files across every project whose path contains each word of
// query (case-insensitive), best matches (name hits, shorter paths) first.
func (s *Service) Search(query string, limit int) ([]FileHit, error) {
	words := strings.Fields(strings.ToLower(query))
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	hits := []FileHit{}
	if len(words) == 0 {
		return hits, nil
	}
	ps, err := s.projects()
	if err != nil {
		return nil, err
	}
	type scored struct {
		FileHit
		score int
	}
	var found []scored
	for _, p := range ps {
		err := index.NewStore(s.db, p.ID).All(func(r index.FileRecord) error {
			lp := strings.ToLower(r.Path)
			score := 0
			for _, w := range words {
				i := strings.Index(lp, w)
				if i < 0 {
					return nil
				}
				if i >= strings.LastIndex(lp, "/") {
					score += 10 // in the file name, not a folder
				}
			}
			found = append(found, scored{FileHit{Project: p.ID, Path: r.Path, Kind: r.Kind, Size: r.Size}, score*1000 - len(r.Path)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score > found[j].score })
	for i := 0; i < len(found) && i < limit; i++ {
		hits = append(hits, found[i].FileHit)
	}
	return hits, nil
}
