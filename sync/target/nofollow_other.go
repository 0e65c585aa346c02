//go:build !unix

package target

const o_NOFOLLOW = 0
