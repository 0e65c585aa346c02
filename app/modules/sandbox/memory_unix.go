//go:build unix

package sandbox

import (
	"context"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// withMemory backs a run's linear memory with one anonymous mapping of its
// maximum size, reserved but not committed: growing it costs nothing (no
// copy of the memory grown so far, as wazero's default allocator does on
// each doubling), the kernel hands out zeroed pages as the module touches
// them, and the whole mapping is returned to the system when the module
// closes.
func withMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		return &mappedMemory{max: max}
	}))
}

type mappedMemory struct {
	buf []byte
	max uint64
	err bool
}

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if m.buf == nil {
		if m.err || m.max == 0 || m.max > 1<<32 {
			return nil
		}
		b, err := syscall.Mmap(-1, 0, int(m.max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err != nil {
			m.err = true
			return nil
		}
		m.buf = b
	}
	return m.buf[:size]
}

func (m *mappedMemory) Free() {
	if m.buf != nil {
		syscall.Munmap(m.buf)
		m.buf = nil
	}
}
