//go:build !linux

package media

import (
	"context"
	"os/exec"
)

// limitedCommand runs bin with the time-out only: address-space and CPU
// limits are set on Linux, the platform Atelier ships for.
func limitedCommand(ctx context.Context, lim Limits, bin string, args []string) (*exec.Cmd, error) {
	return exec.CommandContext(ctx, bin, args...), nil
}

func lower(pid, nice int) {}
