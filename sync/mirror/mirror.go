// Package mirror publishes selected files as plain objects with content
// types, for a website or a shop: `<project>/<path>` on the remote, each
// with its SHA-256 in the object metadata. Big files go up in parts that
// survive a crash: a restarted push asks the remote which parts it has.
package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"atelier/sync/remote"
	"atelier/sync/target"
	"atelier/sync/vault"
)

// PartSize is the multipart part size; files above MultipartAbove use parts.
var (
	PartSize       int64 = 16 << 20
	MultipartAbove int64 = 64 << 20
)

// Mirror is a plain-file target.
type Mirror struct {
	S   remote.Storage
	St  vault.State // keys "mirror/<project>/<path>" and "mpu/<key>"
	Log *slog.Logger
	// GOOS is the platform whose file-name rules apply to a restore ("":
	// this one).
	GOOS string
}

// Result is what a mirror push did.
type Result struct {
	Project   string   `json:"project"`
	Uploaded  []string `json:"uploaded"`
	Deleted   []string `json:"deleted"`
	BytesSent int64    `json:"bytesSent"`
	NoChange  bool     `json:"noChange"`
}

type upload struct {
	ID  string        `json:"id"`
	SHA string        `json:"sha"`
	Got []remote.Part `json:"parts"`
}

// Key is the object name of a project file.
func Key(project, p string) string { return project + "/" + p }

// ContentType guesses the type from the extension.
func ContentType(p string) string {
	if ct := mime.TypeByExtension(strings.ToLower(path.Ext(p))); ct != "" {
		return ct
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".flac":
		return "audio/flac"
	case ".wav":
		return "audio/wav"
	case ".m4a":
		return "audio/mp4"
	case ".md":
		return "text/markdown; charset=utf-8"
	}
	return "application/octet-stream"
}

// Sync uploads what changed since the last mirror push (by content hash,
// from the local state: the remote is never listed) and deletes what was
// removed or deselected.
func (m *Mirror) Sync(ctx context.Context, job vault.Job) (Result, error) {
	res := Result{Project: job.Project, Uploaded: []string{}, Deleted: []string{}}
	if m.Log == nil {
		m.Log = slog.Default()
	}
	pre := "mirror/" + job.Project + "/"
	have := map[string]string{}
	if err := m.St.Scan(pre, func(k string, v []byte) error { have[strings.TrimPrefix(k, pre)] = string(v); return nil }); err != nil {
		return res, err
	}
	seen := map[string]bool{}
	for _, f := range job.Files {
		seen[f.Path] = true
		sum := hex.EncodeToString(f.SHA256[:])
		if f.SHA256 != ([32]byte{}) && have[f.Path] == sum {
			continue
		}
		abs := filepath.Join(job.Root, filepath.FromSlash(f.Path))
		sent, sum, err := m.put(ctx, job.Project, f.Path, abs)
		if err != nil {
			return res, err
		}
		res.BytesSent += sent
		res.Uploaded = append(res.Uploaded, f.Path)
		if err := m.St.Apply(map[string][]byte{pre + f.Path: []byte(sum)}, nil); err != nil {
			return res, err
		}
	}
	var gone []string
	for p := range have {
		if !seen[p] {
			gone = append(gone, p)
		}
	}
	sort.Strings(gone)
	for _, p := range gone {
		if err := m.S.Delete(ctx, Key(job.Project, p)); err != nil {
			return res, err
		}
		if err := m.St.Apply(nil, []string{pre + p}); err != nil {
			return res, err
		}
		res.Deleted = append(res.Deleted, p)
	}
	res.NoChange = len(res.Uploaded) == 0 && len(res.Deleted) == 0
	return res, nil
}

func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (m *Mirror) put(ctx context.Context, project, p, abs string) (int64, string, error) {
	f, err := os.Open(abs)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", abs, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	sum, err := hashFile(f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", abs, err)
	}
	key := Key(project, p)
	o := remote.PutOptions{ContentType: ContentType(p), Metadata: map[string]string{"sha256": sum}}
	if mp, ok := remote.AsMultipart(m.S); ok && fi.Size() > MultipartAbove {
		n, err := m.putParts(ctx, mp, key, f, fi.Size(), sum, o)
		return n, sum, err
	}
	if err := m.S.PutFrom(ctx, key, f, fi.Size(), o); err != nil {
		return 0, "", fmt.Errorf("publish %s: %w", p, err)
	}
	return fi.Size(), sum, nil
}

// putParts uploads in parts, resuming an upload a crashed run started for
// the same content: parts the remote already has are not sent again.
func (m *Mirror) putParts(ctx context.Context, mp remote.Multipart, key string, f *os.File, size int64, sum string, o remote.PutOptions) (int64, error) {
	sk := "mpu/" + key
	var up upload
	if b, ok, _ := m.St.Get(sk); ok && json.Unmarshal(b, &up) == nil && up.SHA == sum {
		parts, err := mp.ListParts(ctx, key, up.ID)
		if err == nil {
			up.Got = parts
			m.Log.Info("resuming upload", "key", key, "parts done", len(parts))
		} else {
			up = upload{}
		}
	} else {
		up = upload{}
	}
	if up.ID == "" {
		id, err := mp.StartMultipart(ctx, key, o)
		if err != nil {
			return 0, err
		}
		up = upload{ID: id, SHA: sum}
		b, _ := json.Marshal(up)
		if err := m.St.Apply(map[string][]byte{sk: b}, nil); err != nil {
			return 0, err
		}
	}
	done := map[int32]remote.Part{}
	for _, p := range up.Got {
		done[p.Number] = p
	}
	var sent int64
	var parts []remote.Part
	buf := make([]byte, PartSize)
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+PartSize {
		k := min(PartSize, size-off)
		if p, ok := done[n]; ok && p.Size == k {
			parts = append(parts, p)
			continue
		}
		if _, err := f.ReadAt(buf[:k], off); err != nil && !errors.Is(err, io.EOF) {
			return sent, err
		}
		p, err := mp.UploadPart(ctx, key, up.ID, n, buf[:k])
		if err != nil {
			return sent, err
		}
		sent += k
		parts = append(parts, p)
	}
	if err := mp.CompleteMultipart(ctx, key, up.ID, parts); err != nil {
		return sent, err
	}
	return sent, m.St.Apply(nil, []string{sk})
}

// Verify downloads every published file of project and checks it against
// the hash recorded when it was sent. A missing or damaged file is
// forgotten by the local state, so the next sync publishes it again.
func (m *Mirror) Verify(ctx context.Context, project string) ([]vault.Problem, error) {
	pre := "mirror/" + project + "/"
	var problems []vault.Problem
	var forget []string
	err := m.St.Scan(pre, func(k string, v []byte) error {
		p := strings.TrimPrefix(k, pre)
		b, err := m.S.Get(ctx, Key(project, p))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			problems = append(problems, vault.Problem{Object: Key(project, p), Files: []string{project + "/" + p}, Err: err.Error()})
			forget = append(forget, k)
			return nil
		}
		s := sha256.Sum256(b)
		if hex.EncodeToString(s[:]) != string(v) {
			problems = append(problems, vault.Problem{Object: Key(project, p), Files: []string{project + "/" + p}, Err: "content does not match what was published: push again"})
			forget = append(forget, k)
		}
		return nil
	})
	if err == nil && len(forget) > 0 {
		err = m.St.Apply(nil, forget)
	}
	return problems, err
}

// Restore downloads the published files of project into dir, verifying
// each. Like the vault's restore, every write stays inside dir and never
// follows a link, a non-empty dir needs o.Overwrite (then each replaced
// file that differs is kept beside it), and a name this platform cannot
// hold is written under a safe name and listed.
func (m *Mirror) Restore(ctx context.Context, project, dir string, o vault.RestoreOptions) (vault.RestoreResult, error) {
	res := vault.RestoreResult{Kept: []target.Kept{}, Renamed: []target.Renamed{}, Refused: []vault.Skip{}}
	d, err := target.Open(dir, target.Options{Overwrite: o.Overwrite, GOOS: m.GOOS})
	if err != nil {
		return res, err
	}
	defer d.Close()
	pre := "mirror/" + project + "/"
	sums := map[string]string{}
	var paths []string
	if err := m.St.Scan(pre, func(k string, v []byte) error {
		p := strings.TrimPrefix(k, pre)
		sums[p] = string(v)
		paths = append(paths, p)
		return nil
	}); err != nil {
		return res, err
	}
	names, renamed := target.Names(paths, m.GOOS)
	res.Renamed = append(res.Renamed, renamed...)
	for _, p := range paths {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		name, sum := names[p], sums[p]
		var b []byte
		var err error
		for i := 0; i < 3; i++ {
			if b, err = m.S.Get(ctx, Key(project, p)); err != nil {
				return res, fmt.Errorf("download %s: %w", Key(project, p), err)
			}
			s := sha256.Sum256(b)
			if hex.EncodeToString(s[:]) == sum {
				err = nil
				break
			}
			err = fmt.Errorf("%s: %w", Key(project, p), vault.ErrCorrupt)
		}
		if err != nil {
			return res, err
		}
		if d.Same(name, int64(len(b)), sum) {
			res.Skipped++
			continue
		}
		if err := d.Write(name, 0o644, time.Time{}, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			res.Kept = append(res.Kept, d.Kept()...)
			return res, err
		}
		res.Files++
		res.Bytes += int64(len(b))
	}
	res.Kept = append(res.Kept, d.Kept()...)
	return res, nil
}

var _ = bytes.NewReader
