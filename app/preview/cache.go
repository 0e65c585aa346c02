// Package preview renders and caches previews of a creator's files: audio
// waveforms (.dat, .json, PNG) with loudness, and image thumbnails. Previews
// are keyed by (content hash, renderer version, parameters), so a rename or a
// copy renders nothing new, and live in a cache directory that can be deleted
// at any time.
package preview

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"atelier/app/preview/audio"
	"atelier/app/preview/media"
	"atelier/app/preview/thumb"
)

// RendererVersion changes whenever rendered output changes; previews of other
// versions are stale and collected. 2: AIFF, Ogg, Opus, M4A... and video
// render (version 1 stored them as failed). 3: audio previews carry the
// thumbnails of their embedded cover art (version 2 rendered them without).
const RendererVersion = 3

// Kind of preview.
type Kind string

const (
	Audio Kind = "audio"
	Image Kind = "image"
	Video Kind = "video" // a poster frame (thumbnails as for images), duration and size
)

var kindByExt = map[string]Kind{}

func init() {
	for kind, exts := range map[Kind]string{
		Audio: "mp3 wav wave bwf flac aif aiff aifc ogg oga opus spx m4a m4b aac wma alac caf wv ape amr ac3 mka weba au mp2",
		Image: "jpg jpeg png gif webp bmp tif tiff",
		Video: "mp4 m4v mov qt mkv webm avi mpg mpeg mts m2ts 3gp 3g2 flv ogv wmv",
	} {
		for _, e := range strings.Fields(exts) {
			kindByExt["."+e] = kind
		}
	}
}

// KindFor says which preview a file gets by its name ("" = none). The
// renderers read the content, not the name: an AIFF named .wav renders.
func KindFor(name string) Kind {
	return kindByExt[strings.ToLower(filepath.Ext(name))]
}

// Params are the rendering parameters that shape the output.
type Params struct {
	Zoom        int   `json:"zoom,omitempty"`         // audio: samples per pixel of peaks.dat
	Bits        int   `json:"bits,omitempty"`         // audio: 8 or 16
	Width       int   `json:"width,omitempty"`        // audio: PNG width
	Height      int   `json:"height,omitempty"`       // audio: PNG height
	ThumbSizes  []int `json:"thumbSizes,omitempty"`   // image
	MaxPixels   int64 `json:"maxPixels,omitempty"`    // image budget
	MaxDuration int64 `json:"maxDurationS,omitempty"` // audio budget, seconds
}

// DefaultParams are what the app renders for each kind.
func DefaultParams(k Kind) Params {
	if k == Image || k == Video {
		return Params{ThumbSizes: []int{thumb.Small, thumb.Large}, MaxPixels: thumb.DefaultMaxPixels}
	}
	return Params{Zoom: 256, Bits: 8, Width: audio.DefaultPNG.Width, Height: audio.DefaultPNG.Height, MaxDuration: int64(audio.DefaultMaxDuration.Seconds())}
}

// Key identifies one preview.
type Key struct {
	Hash   string // SHA-256 of the content, hex
	Kind   Kind
	Params Params
}

// ID is the key as one string: hash-kind-version-paramsdigest.
func (k Key) ID() string {
	b, _ := json.Marshal(k.Params)
	d := sha256.Sum256(b)
	return fmt.Sprintf("%s-%s-v%d-%s", k.Hash, k.Kind, RendererVersion, hex.EncodeToString(d[:4]))
}

// Meta is what a render produced; it is stored beside the files and in the db.
type Meta struct {
	ID         string            `json:"id"`
	Hash       string            `json:"hash"`
	Kind       Kind              `json:"kind"`
	Version    int               `json:"version"`
	Status     string            `json:"status"` // "ready" or "failed"
	Error      string            `json:"error,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
	Audio      *audio.Info       `json:"audio,omitempty"`
	Loudness   *audio.Loudness   `json:"loudness,omitempty"`
	Image      *thumb.Info       `json:"image,omitempty"`
	Video      *media.VideoInfo  `json:"video,omitempty"`
	Files      map[string]string `json:"files,omitempty"` // role ("waveform", "peaks", "small", "large") → absolute path
	RenderedAt time.Time         `json:"renderedAt"`
	RenderMs   int64             `json:"renderMs"`
}

// Cache is the on-disk preview store under one directory.
type Cache struct{ Root string }

// NewCache uses dir/previews.
func NewCache(dir string) *Cache { return &Cache{Root: filepath.Join(dir, "previews")} }

func (c *Cache) versionDir() string {
	return filepath.Join(c.Root, fmt.Sprintf("v%d", RendererVersion))
}

// Dir is where the preview with id lives.
func (c *Cache) Dir(id string) string {
	return filepath.Join(c.versionDir(), id[:2], id)
}

// Empty reports whether the cache holds nothing at all: no preview of this
// renderer nor a folder of an older one (a collection has nothing to do).
func (c *Cache) Empty() bool {
	entries, err := os.ReadDir(c.Root)
	if err != nil {
		return os.IsNotExist(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(c.versionDir()) {
			return false
		}
	}
	shards, _ := os.ReadDir(c.versionDir())
	for _, sh := range shards {
		if items, _ := os.ReadDir(filepath.Join(c.versionDir(), sh.Name())); len(items) > 0 {
			return false
		}
	}
	return true
}

// Load returns the stored meta of id, if its files are all present.
func (c *Cache) Load(id string) (Meta, bool) {
	b, err := os.ReadFile(filepath.Join(c.Dir(id), "meta.json"))
	if err != nil {
		return Meta{}, false
	}
	var m Meta
	if json.Unmarshal(b, &m) != nil || m.ID != id {
		return Meta{}, false
	}
	for _, f := range m.Files {
		if _, err := os.Stat(f); err != nil {
			return Meta{}, false
		}
	}
	return m, true
}

// Collect removes previews whose hash keep does not want and every preview of
// other renderer versions. It returns how many were removed.
func (c *Cache) Collect(keep func(hash string) bool) (int, error) {
	removed := 0
	entries, err := os.ReadDir(c.Root)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	cur := fmt.Sprintf("v%d", RendererVersion)
	for _, e := range entries {
		if e.Name() != cur {
			if err := os.RemoveAll(filepath.Join(c.Root, e.Name())); err == nil {
				removed++
			}
		}
	}
	shards, _ := os.ReadDir(c.versionDir())
	for _, s := range shards {
		sd := filepath.Join(c.versionDir(), s.Name())
		items, _ := os.ReadDir(sd)
		for _, it := range items {
			name := it.Name()
			if strings.HasPrefix(name, ".tmp-") {
				if info, err := it.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
					os.RemoveAll(filepath.Join(sd, name))
				}
				continue
			}
			hash, _, _ := strings.Cut(name, "-")
			if !keep(hash) {
				if err := os.RemoveAll(filepath.Join(sd, name)); err != nil {
					slog.Warn("remove stale preview", "dir", name, "err", err)
					continue
				}
				removed++
			}
		}
		if left, _ := os.ReadDir(sd); len(left) == 0 {
			os.Remove(sd)
		}
	}
	return removed, nil
}
