package desktop

import (
	"os"
	"testing"
)

func TestQuickStartKeepsTheUsersSettingsAndCleansUp(t *testing.T) {
	t.Setenv("GDK_GL", "always") // the user's own
	t.Setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "")
	os.Unsetenv("WEBKIT_DISABLE_DMABUF_RENDERER")
	done := QuickStart()
	if v := os.Getenv("GDK_GL"); v != "always" {
		t.Errorf("GDK_GL=%q: the user's value was overridden", v)
	}
	if v := os.Getenv("WEBKIT_DISABLE_DMABUF_RENDERER"); v != "1" {
		t.Errorf("WEBKIT_DISABLE_DMABUF_RENDERER=%q during start-up, want 1", v)
	}
	done()
	done()
	if _, ok := os.LookupEnv("WEBKIT_DISABLE_DMABUF_RENDERER"); ok {
		t.Error("WEBKIT_DISABLE_DMABUF_RENDERER is still set after start-up: programs the app starts inherit it")
	}
	if v := os.Getenv("GDK_GL"); v != "always" {
		t.Errorf("GDK_GL=%q after start-up: the user's value was taken away", v)
	}
}
