//go:build !linux

package power

import (
	"context"
	"errors"
)

// Changes is Linux only; elsewhere the caller polls.
func Changes(ctx context.Context) (<-chan struct{}, error) {
	return nil, errors.New("power supply changes are only announced on Linux")
}
