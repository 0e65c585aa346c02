package desktop

import (
	"os"
	"sync"
)

// startEnv is what the window's start-up does without: the web view draws
// without the GPU (the app sets WebKit's hardware acceleration policy to
// never), yet GTK loads GLX and Mesa (with LLVM, for its software renderer)
// to choose a visual, and WebKit sets up an EGL display for its DMA-BUF
// renderer. Both skipped, a cold launch took about 0.15 s less CPU of its
// 2.3 s (bench/tray.sh, median of 4-5 launches, three runs beside the build
// without).
var startEnv = [][2]string{
	{"GDK_GL", "disable"},
	{"WEBKIT_DISABLE_DMABUF_RENDERER", "1"},
}

// QuickStart sets the environment of the window's start-up (startEnv), each
// variable only where the user has not set it, and returns the function that
// takes them away again once the page has loaded, so that the programs the
// app starts later (a file manager through xdg-open) do not inherit them.
// The returned function may be called more than once.
func QuickStart() (done func()) {
	var set []string
	for _, kv := range startEnv {
		if _, ok := os.LookupEnv(kv[0]); !ok && os.Setenv(kv[0], kv[1]) == nil {
			set = append(set, kv[0])
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, k := range set {
				os.Unsetenv(k)
			}
		})
	}
}
