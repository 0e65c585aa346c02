//go:build unix

package target

import "syscall"

const o_NOFOLLOW = syscall.O_NOFOLLOW
