//go:build !unix

package sandbox

import "context"

// withMemory keeps wazero's default allocator where there is no mmap.
func withMemory(ctx context.Context) context.Context { return ctx }
