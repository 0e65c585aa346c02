package app

import (
	"path/filepath"
	"testing"
)

// A relative --data-dir must reach the engine absolute: local history opens
// its vault as a file:// URL, where "d/history" would name host "d".
func TestDataDirFlagIsAbsolute(t *testing.T) {
	d := DataDirFlag("d")
	if !filepath.IsAbs(d.Data) || !filepath.IsAbs(d.Cache) || filepath.Base(d.Data) != "d" {
		t.Fatalf("DataDirFlag(\"d\") = %+v", d)
	}
}
