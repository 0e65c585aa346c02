package preview

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"atelier/app/preview/testmedia"
)

// BenchmarkRenderVideo renders a video preview (probe, poster frame,
// thumbnails) of ATELIER_BENCH_VIDEO, or of a 10-second 720p clip made here.
func BenchmarkRenderVideo(b *testing.B) {
	clip := os.Getenv("ATELIER_BENCH_VIDEO")
	if clip == "" {
		clip = testmedia.Video(b, b.TempDir(), "clip.mp4", 1280, 720, 10, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")
	}
	c := NewCache(filepath.Join(b.TempDir(), "cache"))
	k := Key{Hash: "bench", Kind: Video, Params: DefaultParams(Video)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := c.Render(context.Background(), k, clip, 1)
		if err != nil || m.Video == nil {
			b.Fatalf("%+v %v", m, err)
		}
	}
}
