package remote_test

import (
	"os"
	"testing"

	"atelier/sync/synctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	synctest.Cleanup()
	os.Exit(code)
}
