package mirror_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"atelier/sync/mirror"
	"atelier/sync/remote"
	"atelier/sync/synctest"
	"atelier/sync/vault"
)

type failPart struct {
	*remote.Blob
	fail bool
}

func (f *failPart) UploadPart(ctx context.Context, key, id string, n int32, data []byte) (remote.Part, error) {
	if f.fail && n == 2 {
		return remote.Part{}, errors.New("network gone")
	}
	return f.Blob.UploadPart(ctx, key, id, n, data)
}

func TestMirrorS3ResumesParts(t *testing.T) {
	mirror.PartSize, mirror.MultipartAbove = 5<<20, 6<<20
	ctx := context.Background()
	srv := synctest.Server(t)
	raw := srv.Open(t, srv.NewBucket(t), nil)
	root := t.TempDir()
	big := make([]byte, 12<<20)
	rand.NewChaCha8([32]byte{1}).Read(big)
	os.WriteFile(filepath.Join(root, "video.mp4"), big, 0o644)
	os.WriteFile(filepath.Join(root, "index.html"), []byte("<h1>hi</h1>"), 0o644)
	files := func() []vault.LocalFile {
		var out []vault.LocalFile
		for _, n := range []string{"video.mp4", "index.html"} {
			b, _ := os.ReadFile(filepath.Join(root, n))
			out = append(out, vault.LocalFile{Path: n, Size: int64(len(b)), SHA256: sha256.Sum256(b)})
		}
		return out
	}
	st := vault.NewMemState()
	fp := &failPart{Blob: raw, fail: true}
	m := &mirror.Mirror{S: fp, St: st}
	if _, err := m.Sync(ctx, vault.Job{Project: "site", Root: root, Files: files()}); err == nil {
		t.Fatal("push with a failing part succeeded")
	}
	fp.fail = false
	res, err := m.Sync(ctx, vault.Job{Project: "site", Root: root, Files: files()})
	if err != nil {
		t.Fatal(err)
	}
	if res.BytesSent >= int64(len(big)) {
		t.Fatalf("resumed upload sent %d bytes of a %d-byte file: finished parts were sent again", res.BytesSent, len(big))
	}
	info, err := raw.Stat(ctx, "site/video.mp4")
	if err != nil || info.Size != int64(len(big)) || info.ContentType != "video/mp4" {
		t.Fatalf("published video: %+v %v", info, err)
	}
	if info, _ := raw.Stat(ctx, "site/index.html"); info.ContentType != "text/html; charset=utf-8" {
		t.Fatalf("index.html content type %q", info.ContentType)
	}
	if r, _ := m.Sync(ctx, vault.Job{Project: "site", Root: root, Files: files()}); !r.NoChange {
		t.Fatalf("no-change mirror push did work: %+v", r)
	}
	if p, err := m.Verify(ctx, "site"); err != nil || len(p) != 0 {
		t.Fatalf("verify: %v %v", p, err)
	}
	os.Remove(filepath.Join(root, "index.html"))
	r, err := m.Sync(ctx, vault.Job{Project: "site", Root: root, Files: files()[:1]})
	if err != nil || len(r.Deleted) != 1 {
		t.Fatalf("delete: %+v %v", r, err)
	}
	if _, err := raw.Stat(ctx, "site/index.html"); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("removed file still published: %v", err)
	}
	out := t.TempDir()
	if r, err := m.Restore(ctx, "site", out, vault.RestoreOptions{}); err != nil || r.Files != 1 {
		t.Fatalf("restore: %+v %v", r, err)
	}
}
