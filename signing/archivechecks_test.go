package signing_test

import (
	"archive/tar"
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"

	"atelier/signing"
	"atelier/signing/pack"
)

// Verify (and sign) run the very checks install runs on every entry, not
// only on the manifest and file list: an archive install refuses is never
// "signed and trusted", and is never signed.
func TestVerifyAndSignRunInstallChecks(t *testing.T) {
	k := newKey(t)
	pol := policyWith(t, map[*ecdsa.PrivateKey][]string{k: {"@alice/*"}})
	good := reg("presets/hall.json", `{"decay":2.5}`)
	rows := []struct {
		name    string
		entries []rawEntry
		want    string // the entry the refusal must name
	}{
		{"path traversal", []rawEntry{reg("../evil.sh", "echo owned"), good}, "../evil.sh"},
		{"symbolic link", []rawEntry{good, hdr("presets/link", tar.TypeSymlink, 0o644)}, "presets/link"},
		{"duplicate entry", []rawEntry{good, good}, "presets/hall.json"},
		{"unlisted entry", []rawEntry{good, reg("zz-extra.bin", "smuggled")}, "zz-extra.bin"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			// The file list names only the good file: the head is clean,
			// the hostile entry comes later in the stream.
			arc := signBytes(t, "alice-x-1.0.0.tgz", rawArchiveListed(t, man("@alice/x", "1.0.0"), row.entries, []rawEntry{good}, nil), k)
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s accepted an archive install refuses", what)
				}
				if !errors.Is(err, pack.ErrRefused) || !strings.Contains(err.Error(), row.want) {
					t.Fatalf("%s: %v (want a refusal naming %q)", what, err, row.want)
				}
			}
			_, err := signing.Verify(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true})
			check("verify", err)
			_, err = signing.Install(context.Background(), material(t, arc), signing.Options{Policy: pol, Now: now, Approve: true}, t.TempDir())
			check("install", err)
			_, err = signing.SignArchive(context.Background(), arc, k, "test", now)
			check("sign", err)
		})
	}
}
